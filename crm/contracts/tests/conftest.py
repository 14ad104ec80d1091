"""Fixtures of the contract tests: a small catalogue, customers made through the services, the demo
approval flows (manager → finance role for "contract", finance for "credit") and helpers."""

from decimal import Decimal

import pytest

from crm.approvals.models import ApprovalTask
from crm.contracts import demo, services
from crm.customers import services as customer_services
from crm.products import services as product_services


@pytest.fixture
def catalog(users):
    admin = users["admin"]
    lock = product_services.product_create(
        actor=admin, code="HW-X1", name="智能门锁 X1", unit="台", list_price=Decimal("1299.00")
    )
    pen = product_services.product_create(
        actor=admin, code="PEN", name="签字笔", unit="支", list_price="33.34"
    )
    from crm.products.models import Product

    Product.objects.filter(pk=lock.pk).update(points=7)
    lock.refresh_from_db()
    return {"lock": lock, "pen": pen}


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
def flows(users):
    demo.ensure_flows()


@pytest.fixture
def make_contract(users, catalog, customers):
    def make(actor=None, customer=None, lines=None, **values):
        values.setdefault("customer", customer or customers["mine"])
        values.setdefault("name", "年度采购合同")
        if lines is None:
            lines = [{"product": catalog["lock"].pk, "quantity": 2}]
        return services.contract_create(actor=actor or users["sales1"], values=values, lines=lines)

    return make


def pending_task(contract, approver=None):
    tasks = ApprovalTask.objects.filter(
        request__object_id=str(contract.pk), request__status="pending", status="pending"
    ).select_related("approver", "request")
    if approver is not None:
        tasks = tasks.filter(approver=approver)
    return tasks.order_by("pk").first()


@pytest.fixture
def decide():
    from crm.approvals import services as approvals

    def run(contract, approver, approve=True):
        task = pending_task(contract, approver)
        assert task is not None, "no pending task for this approver"
        if approve:
            approvals.approve(actor=approver, task=task, comment="同意")
        else:
            approvals.reject(actor=approver, task=task, comment="价格不对")
        contract.refresh_from_db()
        return contract

    return run


@pytest.fixture
def approved_contract(users, flows, make_contract, decide):
    contract = make_contract()
    services.contract_submit(actor=users["sales1"], contract=contract)
    decide(contract, users["manager"])
    decide(contract, users["finance"])
    assert contract.status == "approved"
    return contract
