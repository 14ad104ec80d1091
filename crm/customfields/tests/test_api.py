"""The API: custom_fields on customers (read, write, 400 per field) and /api/v1/custom-fields/."""

import pytest

from crm.api.tests import token_client
from crm.customers.models import Customer
from crm.customers.services import customer_create
from crm.customfields.models import CustomField
from crm.customfields.services import customfield_set_active, customfield_update

ROLES = ["admin", "administrator", "manager", "sales1", "sales2", "finance", "service", "norole"]
VIEWERS = {"admin", "administrator", "manager", "sales1", "sales2", "finance", "service"}
SETTINGS = {"admin", "administrator"}


def test_customer_detail_and_list_carry_active_custom_fields(users, fields):
    customer = customer_create(
        actor=users["sales1"],
        values={"name": "甲公司"},
        custom_values={
            "purchase": "12.5",
            "listed": True,
            "channels": ["线上"],
            "sponsor": users["sales2"].pk,
        },
    )
    customfield_set_active(actor=users["admin"], field=fields["note"], active=False)
    client = token_client(users["sales1"])
    data = client.get(f"/api/v1/customers/{customer.pk}/").json()["custom_fields"]
    assert data["purchase"] == "12.50" and data["listed"] is True and data["channels"] == ["线上"]
    assert data["sponsor"] == users["sales2"].pk and data["intent"] is None
    assert "note" not in data  # deactivated
    row = client.get("/api/v1/customers/").json()["results"][0]
    assert row["custom_fields"]["purchase"] == "12.50"


def test_create_and_patch_write_custom_fields(users, fields):
    client = token_client(users["sales1"])
    response = client.post(
        "/api/v1/customers/",
        {"name": "甲公司", "custom_fields": {"purchase": 1000, "intent": "强烈", "founded": "2001-02-03"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    customer = Customer.objects.get()
    assert customer.custom_data == {"purchase": "1000.00", "intent": "强烈", "founded": "2001-02-03"}
    response = client.patch(
        f"/api/v1/customers/{customer.pk}/",
        {"custom_fields": {"intent": None, "listed": False}},
        format="json",
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.custom_data == {"purchase": "1000.00", "founded": "2001-02-03", "listed": False}
    # A patch without custom_fields leaves them alone.
    client.patch(f"/api/v1/customers/{customer.pk}/", {"remark": "备注"}, format="json")
    customer.refresh_from_db()
    assert customer.custom_data["purchase"] == "1000.00"


def test_bad_custom_values_answer_400_per_field_and_change_nothing(users, fields):
    customfield_update(actor=users["admin"], field=fields["intent"], values={"required": True})
    client = token_client(users["sales1"])
    response = client.post(
        "/api/v1/customers/",
        {"name": "甲公司", "custom_fields": {"purchase": "1.234", "channels": ["电视购物"], "nope": 1}},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert errors["custom.purchase"] == ["“年采购额”是金额，最多两位小数。"]
    assert "电视购物" in errors["custom.channels"][0]
    assert errors["custom.nope"] == ["未知的自定义字段“nope”。"]
    assert errors["custom.intent"] == ["请填写“合作意向”。"]
    assert not Customer.objects.exists()
    response = client.post("/api/v1/customers/", {"name": "甲公司", "custom_fields": ["x"]}, format="json")
    assert response.status_code == 400 and "custom_fields" in response.json()
    customer = customer_create(
        actor=users["sales1"], values={"name": "乙公司"}, custom_values={"intent": "一般"}
    )
    customfield_set_active(actor=users["admin"], field=fields["note"], active=False)
    response = client.patch(
        f"/api/v1/customers/{customer.pk}/", {"custom_fields": {"note": "x"}}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"custom.note": ["自定义字段“备注说明”已停用，不能再填写。"]}
    customer.refresh_from_db()
    assert customer.custom_data == {"intent": "一般"}


@pytest.mark.parametrize("role", ROLES)
def test_definitions_are_read_with_customers_view_and_kept_with_customers_settings(users, fields, role):
    client = token_client(users[role])
    response = client.get("/api/v1/custom-fields/", {"target": "customers"})
    assert response.status_code == (200 if role in VIEWERS else 403)
    if role in VIEWERS:
        keys = [f["key"] for f in response.json()]
        assert keys[:3] == ["note", "story", "headcount"]
        assert response.json()[6]["options"] == ["强烈", "一般", "观望"]
    created = client.post(
        "/api/v1/custom-fields/",
        {"target": "customers", "label": "新字段", "field_type": "text"},
        format="json",
    )
    assert created.status_code == (201 if role in SETTINGS else 403)
    patched = client.patch(f"/api/v1/custom-fields/{fields['note'].pk}/", {"label": "改名"}, format="json")
    assert patched.status_code == (200 if role in SETTINGS else 403)
    deactivated = client.post(f"/api/v1/custom-fields/{fields['story'].pk}/deactivate/")
    assert deactivated.status_code == (200 if role in SETTINGS else 403)
    if role not in SETTINGS:
        assert not CustomField.objects.filter(label__in=["新字段", "改名"]).exists()
        assert CustomField.objects.get(key="story").is_active


def test_definition_api_validates_like_the_pages(users, fields):
    client = token_client(users["admin"])
    response = client.post(
        "/api/v1/custom-fields/",
        {"target": "customers", "label": "意向", "field_type": "choice", "options": []},
        format="json",
    )
    assert response.status_code == 400 and "至少要有一个选项" in response.json()["options"][0]
    customer_create(actor=users["sales1"], values={"name": "甲"}, custom_values={"headcount": "3"})
    response = client.patch(
        f"/api/v1/custom-fields/{fields['headcount'].pk}/", {"field_type": "text"}, format="json"
    )
    assert response.status_code == 400 and "不能再修改字段类型" in response.json()["field_type"][0]
    response = client.patch(f"/api/v1/custom-fields/{fields['headcount'].pk}/", {"key": "x"}, format="json")
    assert response.status_code == 400  # unknown field for a patch: keys never change
    response = client.get("/api/v1/custom-fields/", {"target": "spaceships"})
    assert response.status_code == 400
    customfield_set_active(actor=users["admin"], field=fields["note"], active=False)
    assert "note" in [f["key"] for f in client.get("/api/v1/custom-fields/").json()]
    assert "note" not in [
        f["key"] for f in client.get("/api/v1/custom-fields/", {"is_active": "true"}).json()
    ]
    sales = token_client(users["sales1"])
    assert "note" not in [f["key"] for f in sales.get("/api/v1/custom-fields/").json()]
    assert sales.get(f"/api/v1/custom-fields/{fields['note'].pk}/").status_code == 404


def test_api_filter_on_custom_field(users, fields):
    customer_create(actor=users["sales1"], values={"name": "甲公司"}, custom_values={"intent": "强烈"})
    customer_create(actor=users["sales1"], values={"name": "乙公司"}, custom_values={"intent": "一般"})
    client = token_client(users["admin"])
    response = client.get("/api/v1/customers/", {"filter": "custom.intent:is:强烈"})
    assert [r["name"] for r in response.json()["results"]] == ["甲公司"]
    response = client.get("/api/v1/customers/", {"filter": "custom.nope:is:x"})
    assert response.status_code == 400
