from decimal import Decimal

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from crm.audit.models import OperationLog
from crm.customers import services as customer_services
from crm.quotes.models import Quote

pytestmark = pytest.mark.django_db
URL = "/api/v1/quotes/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_crud_with_nested_lines_and_the_same_rounding(users, catalog, customers, client):
    api_client = api(users["sales1"])
    body = {
        "customer": customers["mine"].pk,
        "tax_percent": 13,
        "lines": [
            {"product": catalog["pen"].pk, "quantity": 3, "unit_price": 33.335, "discount_percent": 7.5},
            {"product": catalog["lock"].pk, "quantity": "1"},
        ],
    }
    created = api_client.post(URL, body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["code"].startswith("BJ") and data["status"] == "draft"
    assert [line["amount"] for line in data["lines"]] == ["104.55", "1467.87"]
    assert data["lines"][0]["unit_price"] == "33.34"
    assert data["total"] == "1572.42" and data["subtotal"] == "1399.02" and data["discount_total"] == "7.50"
    assert data["tax_total"] == "180.90"
    quote = Quote.objects.get(pk=data["id"])
    assert str(quote.total) == data["total"]
    # the print view and the detail page show the very same figures
    client.force_login(users["sales1"])
    for url in (f"/quotes/{quote.pk}/print/", f"/quotes/{quote.pk}/"):
        html = client.get(url).content.decode()
        assert "104.55" in html and "1572.42" in html and "7.50" in html and "180.90" in html

    listed = api_client.get(URL, {"q": data["code"]}).json()
    assert [row["id"] for row in listed["results"]] == [quote.pk]
    assert api_client.get(URL, {"status": "sent"}).json()["results"] == []

    changed = api_client.patch(f"{URL}{quote.pk}/", {"note": "含安装"}, format="json")
    assert changed.status_code == 200 and changed.json()["note"] == "含安装"
    assert len(changed.json()["lines"]) == 2  # lines kept when not sent
    replaced = api_client.patch(
        f"{URL}{quote.pk}/", {"lines": [{"product": catalog["lock"].pk, "quantity": 2}]}, format="json"
    )
    assert replaced.json()["total"] == "2935.74" and len(replaced.json()["lines"]) == 1

    sent = api_client.post(f"{URL}{quote.pk}/send/")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert api_client.post(f"{URL}{quote.pk}/send/").status_code == 400
    assert api_client.post(f"{URL}{quote.pk}/accept/").json()["status"] == "accepted"
    assert api_client.delete(f"{URL}{quote.pk}/").status_code == 403  # sales: no quotes.delete


def test_reject_and_delete(users, make_quote):
    quote = make_quote()
    client = api(users["admin"])
    assert client.post(f"{URL}{quote.pk}/reject/").status_code == 400  # a draft is not decided
    client.post(f"{URL}{quote.pk}/send/")
    assert client.post(f"{URL}{quote.pk}/reject/").json()["status"] == "rejected"
    assert client.delete(f"{URL}{quote.pk}/").status_code == 204
    assert not Quote.objects.exists()
    assert OperationLog.objects.filter(action="quote.deleted").count() == 1


@pytest.mark.parametrize(
    ("line", "field_text"),
    [
        ({"product": 999999, "quantity": 1}, "产品不存在"),
        ({"product": "lock", "quantity": -2}, "数量必须大于 0"),
        ({"product": "lock", "quantity": 1, "discount_percent": 120}, "折扣必须在 0 到 100 之间"),
        ({"product": "lock", "quantity": 1, "unit_price": 900}, "成交价不能低于 ¥1169.10"),
    ],
)
def test_bad_input_answers_400_in_chinese_and_changes_nothing(users, catalog, customers, line, field_text):
    if line["product"] == "lock":
        line = line | {"product": catalog["lock"].pk}
    response = api(users["sales1"]).post(
        URL,
        {"customer": customers["mine"].pk, "lines": [line]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert field_text in str(response.json())
    assert not Quote.objects.exists()


def test_contact_of_another_customer_and_unknown_field(users, catalog, customers):
    contact = customer_services.contact_create(
        actor=users["admin"], customer=customers["other"], values={"name": "李娜", "mobile": "13900139000"}
    )
    client = api(users["admin"])
    lines = [{"product": catalog["lock"].pk, "quantity": 1}]
    response = client.post(
        URL, {"customer": customers["mine"].pk, "contact": contact.pk, "lines": lines}, format="json"
    )
    assert response.status_code == 400 and "不属于客户" in str(response.json())
    response = client.post(URL, {"customer": customers["mine"].pk, "lines": lines, "total": 1}, format="json")
    assert response.status_code == 400 and "total" in response.json()
    assert not Quote.objects.exists()


def test_visibility_and_permissions(users, make_quote, customers, catalog):
    quote = make_quote()
    assert api(users["sales2"]).get(f"{URL}{quote.pk}/").status_code == 404
    assert api(users["sales2"]).post(f"{URL}{quote.pk}/send/").status_code == 404
    assert api(users["sales2"]).patch(f"{URL}{quote.pk}/", {"note": "x"}, format="json").status_code == 404
    assert api(users["sales2"]).get(URL).json()["results"] == []
    assert api(users["norole"]).get(URL).status_code == 403
    assert api(users["manager"]).get(f"{URL}{quote.pk}/").status_code == 200
    assert Quote.objects.get(pk=quote.pk).status == "draft" and Quote.objects.get(pk=quote.pk).note == ""
    # a quote on another's customer: sales1 may not create it
    response = api(users["sales1"]).post(
        URL,
        {"customer": customers["other"].pk, "lines": [{"product": catalog["lock"].pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 400 and Quote.objects.count() == 1


def test_price_history_endpoint(users, make_quote, customers, catalog):
    first = make_quote(lines=[{"product": catalog["lock"].pk, "quantity": 2, "discount_percent": 5}])
    second = make_quote(lines=[{"product": catalog["pen"].pk, "quantity": 4}])
    client = api(users["sales1"])
    rows = client.get(f"{URL}price-history/", {"customer": customers["mine"].pk}).json()
    assert [(r["quote_code"], r["product_name"]) for r in rows] == [
        (second.code, "签字笔"),
        (first.code, "智能门锁 X1"),
    ]
    assert rows[1]["unit_price"] == "1299.00" and rows[1]["discount_percent"] == "5.00"
    assert rows[1]["quantity"] == "2.00" and rows[1]["salesperson"] == users["sales1"].display_name
    only = client.get(
        f"{URL}price-history/", {"customer": customers["mine"].pk, "product": catalog["pen"].pk}
    )
    assert [r["quote"] for r in only.json()] == [second.pk]
    assert (
        api(users["sales2"]).get(f"{URL}price-history/", {"customer": customers["mine"].pk}).status_code
        == 404
    )
    assert client.get(f"{URL}price-history/").status_code == 400


def test_schema_lists_quote_paths_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    assert {
        "/api/v1/quotes/",
        "/api/v1/quotes/{id}/",
        "/api/v1/quotes/{id}/send/",
        "/api/v1/quotes/{id}/accept/",
        "/api/v1/quotes/{id}/reject/",
        "/api/v1/quotes/price-history/",
    } <= set(paths)


def test_totals_decimal_strings(users, make_quote):
    quote = make_quote()
    data = api(users["sales1"]).get(f"{URL}{quote.pk}/").json()
    assert Decimal(data["total"]) == quote.total == Decimal("2935.74")
