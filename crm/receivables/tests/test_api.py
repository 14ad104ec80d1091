"""The API of payment plans and receivables: same rules, messages and access as the pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from crm.contracts.models import Contract
from crm.receivables.models import PaymentPlan, Receivable

pytestmark = pytest.mark.django_db
PLANS = "/api/v1/payment-plans/"
RECEIVABLES = "/api/v1/receivables/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def due(days=10):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def test_plan_crud_and_the_total_rule(users, make_contract, django_assert_max_num_queries):
    contract = make_contract(total="1000")
    sales, finance = api(users["sales1"]), api(users["finance"])
    created = sales.post(
        PLANS, {"contract": contract.pk, "amount": "600.005", "due_on": due()}, format="json"
    )
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["number"] == 1 and data["amount"] == "600.01" and data["outstanding_amount"] == "600.01"
    refused = sales.post(PLANS, {"contract": contract.pk, "amount": "400", "due_on": due()}, format="json")
    assert refused.status_code == 400
    assert "超过合同金额 ¥1000.00" in refused.json()["amount"][0]
    assert PaymentPlan.objects.count() == 1
    missing = sales.post(PLANS, {"contract": contract.pk, "amount": "1"}, format="json")
    assert missing.status_code == 400 and "due_on" in missing.json()

    url = f"{PLANS}{data['id']}/"
    assert sales.patch(url, {"amount": "500"}, format="json").status_code == 403  # sales: no edit
    changed = finance.patch(url, {"amount": "500", "remind_days_before": 7}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["amount"] == "500.00" and changed.json()["remind_days_before"] == 7
    moved = finance.patch(url, {"contract": make_contract().pk}, format="json")
    assert moved.status_code == 400
    with django_assert_max_num_queries(10):
        listed = sales.get(PLANS, {"contract": contract.pk}).json()
    assert [row["id"] for row in listed["results"]] == [data["id"]]
    assert sales.get(PLANS, {"due": "overdue"}).json()["results"] == []
    assert sales.get(PLANS, {"due": "someday"}).status_code == 400
    assert finance.delete(url).status_code == 204
    assert not PaymentPlan.objects.exists()


def test_receivable_lifecycle_through_the_api(users, make_contract, flow):
    contract = make_contract(total="2000")
    plan = PaymentPlan.objects.create(
        contract=contract,
        customer=contract.customer,
        number=1,
        amount=Decimal("2000"),
        due_on=timezone.localdate(),
    )
    sales = api(users["sales1"])
    created = sales.post(
        RECEIVABLES,
        {"contract": contract.pk, "plan": plan.pk, "amount": "1999.995", "method": "bank"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["code"].startswith("HK") and data["amount"] == "2000.00" and data["status"] == "draft"
    assert data["received_on"] == timezone.localdate().isoformat() and data["plan_number"] == 1

    too_much = sales.post(RECEIVABLES, {"contract": contract.pk, "amount": "0.01"}, format="json")
    assert too_much.status_code == 400
    assert "超过合同未回款金额 ¥0.00" in too_much.json()["amount"][0]

    submitted = sales.post(f"{RECEIVABLES}{data['id']}/submit/")
    assert submitted.status_code == 200 and submitted.json()["status"] == "pending"
    task = api(users["finance"]).get("/api/v1/approval-tasks/").json()["results"][0]
    approved = api(users["finance"]).post(f"/api/v1/approval-tasks/{task['id']}/approve/", {}, format="json")
    assert approved.status_code == 200, approved.json()
    detail = sales.get(f"{RECEIVABLES}{data['id']}/").json()
    assert detail["status"] == "approved" and detail["approved_at"]
    contract.refresh_from_db()
    plan.refresh_from_db()
    assert contract.received_amount == Decimal("2000.00") and plan.received_amount == Decimal("2000.00")
    assert sales.get(RECEIVABLES, {"status": "approved"}).json()["results"][0]["id"] == data["id"]


def test_receivable_on_an_unapproved_contract_is_refused(users, make_contract):
    contract = make_contract(status=Contract.Status.DRAFT)
    response = api(users["sales1"]).post(RECEIVABLES, {"contract": contract.pk, "amount": "1"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == ["合同尚未审批通过，不能登记回款。"]


def test_confirm_needs_approve_and_no_flow(users, make_contract):
    contract = make_contract()
    receivable = api(users["sales1"]).post(
        RECEIVABLES, {"contract": contract.pk, "amount": "10"}, format="json"
    )
    url = f"{RECEIVABLES}{receivable.json()['id']}/confirm/"
    assert api(users["sales1"]).post(url).status_code == 403
    submitted = api(users["sales1"]).post(f"{RECEIVABLES}{receivable.json()['id']}/submit/")
    assert submitted.status_code == 400 and "没有适用于该回款的审批流" in submitted.json()["detail"][0]
    confirmed = api(users["finance"]).post(url)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "approved"


def test_other_salesperson_gets_404_and_no_permission_403(users, make_contract, customers):
    theirs = make_contract(owner=users["sales2"], customer=customers["other"])
    receivable = api(users["sales2"]).post(
        RECEIVABLES, {"contract": theirs.pk, "amount": "10"}, format="json"
    )
    plan = api(users["sales2"]).post(
        PLANS, {"contract": theirs.pk, "amount": "10", "due_on": due()}, format="json"
    )
    receivable_url = f"{RECEIVABLES}{receivable.json()['id']}/"
    plan_url = f"{PLANS}{plan.json()['id']}/"
    sales1 = api(users["sales1"])
    assert sales1.get(receivable_url).status_code == 404
    assert sales1.get(plan_url).status_code == 404
    assert sales1.post(f"{receivable_url}submit/").status_code == 404
    assert sales1.post(RECEIVABLES, {"contract": theirs.pk, "amount": "1"}, format="json").status_code == 404
    assert (
        sales1.post(PLANS, {"contract": theirs.pk, "amount": "1", "due_on": due()}, format="json").status_code
        == 404
    )
    assert sales1.get(RECEIVABLES).json()["results"] == []
    assert sales1.get(PLANS).json()["results"] == []
    norole = api(users["norole"])
    assert norole.get(RECEIVABLES).status_code == 403
    assert norole.get(receivable_url).status_code == 403
    assert norole.get(PLANS).status_code == 403
    assert Receivable.objects.count() == 1 and PaymentPlan.objects.count() == 1


def test_unknown_fields_are_refused(users, make_contract):
    response = api(users["sales1"]).post(
        RECEIVABLES, {"contract": make_contract().pk, "amount": "1", "status": "approved"}, format="json"
    )
    assert response.status_code == 400 and "status" in response.json()
    assert not Receivable.objects.exists()
