"""Fixtures of the opportunity tests: the default stage group, customers of sales1 and sales2, a
product, and a factory that creates opportunities through the service."""

from decimal import Decimal

import pytest

from crm.customers import services as customer_services
from crm.customers.models import Contact, DictionaryItem
from crm.opportunities import services
from crm.opportunities.demo import ensure_default_group
from crm.opportunities.models import Stage
from crm.products import services as product_services


@pytest.fixture
def group(db):
    return ensure_default_group()


@pytest.fixture
def stages(group):
    """{name: Stage} of the default group."""
    return {stage.name: stage for stage in group.stages.all()}


@pytest.fixture
def customers(users):
    """One customer of sales1 and one of sales2 (sales1 cannot see the second)."""
    mine = customer_services.customer_create(actor=users["sales1"], values={"name": "深圳华创科技有限公司"})
    other = customer_services.customer_create(actor=users["sales2"], values={"name": "上海远航贸易有限公司"})
    return {"mine": mine, "other": other}


@pytest.fixture
def contacts(customers):
    return {
        "mine": Contact.objects.create(customer=customers["mine"], name="王伟"),
        "other": Contact.objects.create(customer=customers["other"], name="李娜"),
    }


@pytest.fixture
def lost_reason(db):
    item, _created = DictionaryItem.objects.get_or_create(kind="lost_reason", name="价格", parent=None)
    return item


@pytest.fixture
def product(users):
    return product_services.product_create(
        actor=users["admin"], code="HW-X1", name="智能门锁 X1", unit="台", list_price=Decimal("1299.00")
    )


@pytest.fixture
def make_opp(users, customers, group):
    def make(actor=None, stage: Stage | None = None, **values):
        actor = actor or users["sales1"]
        values.setdefault("name", "门店收银系统")
        values.setdefault("customer", customers["mine"] if actor == users["sales1"] else customers["other"])
        values.setdefault("expected_amount", Decimal("10000.00"))
        return services.opportunity_create(actor=actor, values=values, stage=stage)

    return make
