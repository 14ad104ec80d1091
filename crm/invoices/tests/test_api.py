from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm.invoices.models import Invoice

pytestmark = pytest.mark.django_db
URL = "/api/v1/invoices/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_request_issue_mail_void_through_the_api(users, contract):
    sales = api(users["sales1"])
    created = sales.post(URL, {"contract": contract.pk, "amount": "100.00"}, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["code"].startswith("FP") and data["status"] == "requested"
    assert data["tax_amount"] == "11.50" and data["title"] == "深圳华创科技有限公司"
    assert data["tax_number"] == "91440300MA5F0XXX1E" and data["contract_code"] == contract.code
    pk = data["id"]
    assert sales.get(f"{URL}{pk}/").json()["amount"] == "100.00"
    assert [row["id"] for row in sales.get(URL).json()["results"]] == [pk]

    finance = api(users["finance"])
    issued = finance.post(
        f"{URL}{pk}/issue/",
        {"invoice_number": "12345678901234567890", "issued_on": "2026-11-20"},
        format="json",
    )
    assert issued.status_code == 200 and issued.json()["status"] == "issued"
    mailed = finance.post(
        f"{URL}{pk}/mail/", {"tracking_number": "SF123456789", "mailed_on": "2026-11-21"}, format="json"
    )
    assert mailed.status_code == 200 and mailed.json()["status"] == "mailed"
    voided = finance.post(f"{URL}{pk}/void/", {"reason": "退票"}, format="json")
    assert voided.status_code == 200 and voided.json()["void_reason"] == "退票"
    contract.refresh_from_db()
    assert contract.invoiced_amount == Decimal("0.00")


def test_api_refuses_too_much_and_bad_input_with_chinese_messages(users, contract, request_invoice):
    request_invoice(contract, "950.00")
    sales = api(users["sales1"])
    response = sales.post(URL, {"contract": contract.pk, "amount": "60"}, format="json")
    assert response.status_code == 400 and "最多还可申请 ¥50.00" in response.json()["amount"][0]
    response = sales.post(URL, {"contract": contract.pk, "amount": "-1"}, format="json")
    assert response.status_code == 400 and "必须大于 0" in response.json()["amount"][0]
    response = sales.post(URL, {"contract": contract.pk, "amount": "1", "bogus": 1}, format="json")
    assert response.status_code == 400
    assert Invoice.objects.count() == 1
    invoice = Invoice.objects.get()
    finance = api(users["finance"])
    response = finance.post(f"{URL}{invoice.pk}/issue/", {"invoice_number": "123", "issued_on": "2026-11-20"})
    assert response.status_code == 400 and "8 位数字" in response.json()["invoice_number"][0]
    response = finance.post(
        f"{URL}{invoice.pk}/mail/", {"tracking_number": "SF123456", "mailed_on": "2026-11-20"}
    )
    assert response.status_code == 400 and "当前状态为“已申请”" in response.json()["detail"][0]
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.REQUESTED


def test_api_refuses_a_draft_contract(users, make_contract):
    draft = make_contract(status="draft")
    response = api(users["sales1"]).post(URL, {"contract": draft.pk, "amount": "1"}, format="json")
    assert response.status_code == 400 and "尚未审批通过" in response.json()["detail"][0]
    assert not Invoice.objects.exists()


def test_api_scope_and_permissions(users, contract, request_invoice):
    invoice = request_invoice(contract)
    other = api(users["sales2"])
    assert other.get(f"{URL}{invoice.pk}/").status_code == 404
    assert other.get(URL).json()["results"] == []
    assert other.post(URL, {"contract": contract.pk, "amount": "1"}, format="json").status_code == 404
    sales = api(users["sales1"])
    response = sales.post(
        f"{URL}{invoice.pk}/issue/", {"invoice_number": "12345678", "issued_on": "2026-11-20"}
    )
    assert response.status_code == 403
    assert sales.post(f"{URL}{invoice.pk}/void/", {"reason": "x"}).status_code == 403
    assert api(users["norole"]).get(URL).status_code == 403
    assert api(users["finance"]).post(f"{URL}999999/void/", {"reason": "x"}).status_code == 404
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.REQUESTED
    assert sales.get(URL, {"status": "bogus"}).status_code == 400
    assert (
        sales.get(URL, {"status": "requested", "contract": contract.pk}).json()["results"][0]["id"]
        == invoice.pk
    )


def test_api_list_has_bounded_queries(users, make_contract, request_invoice, django_assert_max_num_queries):
    contract = make_contract(total="100000.00")
    for _ in range(15):
        request_invoice(contract, "10.00")
    finance = api(users["finance"])
    finance.get(URL)
    with django_assert_max_num_queries(8):
        response = finance.get(URL)
    assert len(response.json()["results"]) == 15
