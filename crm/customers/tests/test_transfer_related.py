"""Transferring customers can hand over the former owner's open opportunities and contracts too
(the customer-transfer dialog of the requirements: 同时转移商机、合同)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.audit.models import OperationLog
from crm.contracts.models import Contract
from crm.customers import services
from crm.customers.models import Customer
from crm.opportunities import services as opportunity_services
from crm.opportunities.demo import ensure_default_group
from crm.opportunities.models import Opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(users):
    """A customer of sales1 with an open and a won opportunity and a contract."""
    ensure_default_group()
    sales1 = users["sales1"]
    customer = services.customer_create(actor=sales1, values={"name": "深圳华创科技有限公司"})
    open_opp = opportunity_services.opportunity_create(
        actor=sales1, values={"name": "门店系统", "customer": customer, "expected_amount": Decimal("100")}
    )
    won = opportunity_services.opportunity_create(
        actor=sales1, values={"name": "旧项目", "customer": customer, "expected_amount": Decimal("100")}
    )
    opportunity_services.opportunity_win(actor=sales1, opportunity=won)
    contract = Contract.objects.create(
        code="HT-T-1", name="年度采购", customer=customer, owner=sales1, signed_on=datetime.date(2026, 11, 1)
    )
    return {"customer": customer, "open": open_opp, "won": won, "contract": contract}


def test_manager_hands_over_open_opportunities_and_contracts(users, book):
    moved = services.customers_transfer(
        actor=users["manager"],
        customers=Customer.objects.filter(pk=book["customer"].pk),
        to_user=users["sales2"],
        with_related=["opportunities", "contracts"],
    )
    assert moved == 1
    owner = dict(Opportunity.objects.values_list("name", "owner__username"))
    assert owner == {"门店系统": "sales2", "旧项目": "sales1"}  # a won deal stays with who won it
    assert Contract.objects.get().owner == users["sales2"]
    assert OperationLog.objects.filter(action="contract.transferred").count() == 1
    assert OperationLog.objects.filter(action="opportunity.transferred").count() == 1


def test_without_the_option_only_the_customer_moves(users, book):
    services.customers_transfer(
        actor=users["manager"],
        customers=Customer.objects.filter(pk=book["customer"].pk),
        to_user=users["sales2"],
    )
    assert Opportunity.objects.get(name="门店系统").owner == users["sales1"]
    assert Contract.objects.get().owner == users["sales1"]


def test_api_refuses_related_transfer_without_permission_and_changes_nothing(client, users, book):
    client.force_login(users["sales1"])  # sales may transfer opportunities, not contracts
    response = client.post(
        "/api/v1/customers/transfer/",
        {"customer_ids": [book["customer"].pk], "to_user": users["sales2"].pk, "with_related": ["contracts"]},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert Customer.objects.get().owner == users["sales1"]
    assert Contract.objects.get().owner == users["sales1"]


def test_page_moves_what_the_user_may_transfer(client, users, book):
    client.force_login(users["sales1"])
    response = client.post(
        reverse("customers:bulk"),
        {
            "action": "transfer",
            "ids": [book["customer"].pk],
            "to_user": users["sales2"].pk,
            "with_related": "1",
        },
    )
    assert response.status_code == 302
    assert Customer.objects.get().owner == users["sales2"]
    assert Opportunity.objects.get(name="门店系统").owner == users["sales2"]
    assert Contract.objects.get().owner == users["sales1"]  # no contracts.transfer: left alone
