"""Fixtures of the quote tests: a small catalogue and customers made through the services."""

from decimal import Decimal

import pytest

from crm.customers import services as customer_services
from crm.products import services as product_services
from crm.quotes import services


@pytest.fixture
def catalog(users):
    admin = users["admin"]
    lock = product_services.product_create(
        actor=admin, code="HW-X1", name="智能门锁 X1", unit="台", list_price=Decimal("1299.00")
    )
    pen = product_services.product_create(
        actor=admin, code="PEN", name="签字笔", unit="支", list_price="33.34"
    )
    license_ = product_services.product_create(
        actor=admin, code="SW-ENT", name="企业版软件授权", unit="套", list_price="28800"
    )
    return {"lock": lock, "pen": pen, "license": license_}


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


@pytest.fixture
def make_quote(users, catalog, customers):
    def make(actor=None, customer=None, lines=None, **values):
        values.setdefault("customer", customer or customers["mine"])
        lines = lines or [{"product": catalog["lock"].pk, "quantity": 2}]
        return services.quote_create(actor=actor or users["sales1"], values=values, lines=lines)

    return make
