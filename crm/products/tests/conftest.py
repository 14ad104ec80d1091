"""Fixtures of the product tests: a small catalogue made through the services."""

from decimal import Decimal

import pytest

from crm.customers import services as customer_services
from crm.products import services


@pytest.fixture
def catalog(users):
    admin = users["admin"]
    hardware = services.category_create(actor=admin, name="硬件")
    locks = services.category_create(actor=admin, name="智能门锁", parent=hardware)
    software = services.category_create(actor=admin, name="软件")
    lock = services.product_create(
        actor=admin,
        code="HW-X1",
        name="智能门锁 X1",
        category=locks,
        unit="台",
        list_price=Decimal("1299.00"),
        cost=Decimal("650.00"),
        stock=Decimal(100),
        points=13,
    )
    license_ = services.product_create(
        actor=admin, code="SW-ENT", name="企业版软件授权", category=software, unit="套", list_price="28800"
    )
    return {"hardware": hardware, "locks": locks, "software": software, "lock": lock, "license": license_}


@pytest.fixture
def customers(users):
    """One customer of sales1 and one of sales2 (sales1 cannot see the second)."""
    return {
        "mine": customer_services.customer_create(
            actor=users["sales1"], values={"name": "深圳华创科技有限公司"}
        ),
        "other": customer_services.customer_create(
            actor=users["sales2"], values={"name": "上海远航贸易有限公司"}
        ),
    }
