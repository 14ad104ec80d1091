"""Contract API: same services, permissions and messages as the pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.contracts.models import Contract
from crm.contracts.tests.conftest import pending_task
from crm.quotes import services as quote_services
from crm.quotes.models import Quote

pytestmark = pytest.mark.django_db
URL = "/api/v1/contracts/"


@pytest.fixture
def api(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_create_list_retrieve(api, users, catalog, customers, django_assert_max_num_queries):
    client = api(users["sales1"])
    body = {
        "name": "API 合同",
        "customer": customers["mine"].pk,
        "lines": [{"product": catalog["pen"].pk, "quantity": "3", "discount_percent": "5"}],
    }
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["total"] == "107.37"
    assert data["status"] == "draft"
    assert data["code"].startswith("HT")
    with django_assert_max_num_queries(12):
        listed = client.get(URL).json()
    assert [row["id"] for row in listed["results"]] == [data["id"]]


def test_bad_input_is_400_and_changes_nothing(api, users, catalog, customers):
    client = api(users["sales1"])
    body = {
        "name": "x",
        "customer": customers["mine"].pk,
        "start_on": "2026-06-01",
        "end_on": "2026-05-01",
        "lines": [{"product": catalog["pen"].pk, "quantity": "1"}],
    }
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in response.content.decode()
    body = {"name": "x", "customer": customers["other"].pk, "lines": []}
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert Contract.objects.count() == 0


def test_scope_404_and_permission_403(api, users, make_contract):
    contract = make_contract()
    client = api(users["sales2"])
    assert client.get(f"{URL}{contract.pk}/").status_code == 404
    assert client.post(f"{URL}{contract.pk}/submit/").status_code == 404
    assert (
        client.patch(f"{URL}{contract.pk}/", {"name": "y"}, content_type="application/json").status_code
        == 404
    )
    client = api(users["norole"])
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{contract.pk}/").status_code == 403
    client = api(users["finance"])  # sees everything, may not edit
    assert client.get(f"{URL}{contract.pk}/").status_code == 200
    assert client.post(f"{URL}{contract.pk}/submit/").status_code == 403
    contract.refresh_from_db()
    assert contract.status == Contract.Status.DRAFT


def test_status_cannot_be_written_and_approval_cannot_be_skipped(api, users, flows, make_contract):
    contract = make_contract()
    client = api(users["sales1"])
    response = client.patch(f"{URL}{contract.pk}/", {"status": "approved"}, content_type="application/json")
    assert response.status_code == 400
    response = client.post(f"{URL}{contract.pk}/submit/")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    task = pending_task(contract)
    for intruder in ("sales1", "sales2", "finance"):
        response = api(users[intruder]).post(
            f"/api/v1/approval-tasks/{task.pk}/approve/", {"comment": "ok"}, content_type="application/json"
        )
        assert response.status_code in (403, 404)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING
    response = api(users["manager"]).post(
        f"/api/v1/approval-tasks/{task.pk}/approve/", {"comment": "ok"}, content_type="application/json"
    )
    assert response.status_code == 200
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING  # the finance step is still ahead


def test_lock_after_approval(api, users, catalog, approved_contract):
    client = api(users["sales1"])
    body = {"lines": [{"product": catalog["pen"].pk, "quantity": "1"}]}
    response = client.patch(f"{URL}{approved_contract.pk}/", body, content_type="application/json")
    assert response.status_code == 400
    assert "已锁定" in response.content.decode()
    approved_contract.refresh_from_db()
    assert approved_contract.lines.get().product == catalog["lock"]
    response = client.post(
        f"{URL}{approved_contract.pk}/void/", {"reason": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    response = client.post(f"{URL}{approved_contract.pk}/revise/")
    assert response.status_code == 200
    assert response.json()["status"] == "draft"
    response = client.patch(f"{URL}{approved_contract.pk}/", body, content_type="application/json")
    assert response.status_code == 200
    assert Decimal(response.json()["total"]) == Decimal("37.67")


def test_withdraw_and_void(api, users, flows, make_contract):
    contract = make_contract()
    client = api(users["sales1"])
    client.post(f"{URL}{contract.pk}/submit/")
    response = client.post(f"{URL}{contract.pk}/withdraw/")
    assert response.status_code == 200
    assert response.json()["status"] == "draft"
    response = client.post(f"{URL}{contract.pk}/void/", {}, content_type="application/json")
    assert response.status_code == 400
    response = client.post(
        f"{URL}{contract.pk}/void/", {"reason": "客户取消"}, content_type="application/json"
    )
    assert response.json()["status"] == "void"


def test_from_quote(api, users, catalog, customers):
    quote = quote_services.quote_create(
        actor=users["sales1"],
        values={"customer": customers["mine"]},
        lines=[{"product": catalog["pen"].pk, "quantity": 2}],
    )
    client = api(users["sales1"])
    response = client.post(f"{URL}from-quote/", {"quote": quote.pk}, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["quote"] == quote.pk
    assert response.json()["total"] == str(quote.total)
    Quote.objects.filter(pk=quote.pk).update(
        status="sent", valid_until=timezone.localdate() - timedelta(days=1)
    )
    response = client.post(f"{URL}from-quote/", {"quote": quote.pk}, content_type="application/json")
    assert response.status_code == 400
    assert "过期" in response.content.decode()
    response = api(users["sales2"]).post(
        f"{URL}from-quote/", {"quote": quote.pk}, content_type="application/json"
    )
    assert response.status_code == 404
    assert Contract.objects.count() == 1
