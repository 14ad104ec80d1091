"""Create and edit customers through the form: good input saves, bad input answers 400 and saves nothing."""

import pytest

from crm.customers.models import Customer, DictionaryItem
from crm.customers.tests.test_customer_services import valid_credit_code


def good(**extra):
    status = DictionaryItem.objects.get(kind="status", name="意向客户")
    data = {
        "kind": "enterprise",
        "name": "深圳市中兴通讯股份有限公司",
        "status": status.pk,
        "phone": "0755-26770000",
        "email": "info@zte.example",
        "next_contact_at": "2026-12-01T09:30",
        "registered_capital": "1000.50",
    }
    data.update(extra)
    return data


def test_create_with_first_contact(client, users):
    client.force_login(users["sales1"])
    response = client.post(
        "/customers/new/", good(contact_name="张三", contact_mobile="13800138000", contact_title="总经理")
    )
    customer = Customer.objects.get()
    assert response.status_code == 302 and response.url == f"/customers/{customer.pk}/"
    assert customer.owner == users["sales1"] and customer.status.name == "意向客户"
    assert customer.next_contact_at.isoformat().startswith("2026-12-01T01:30")  # 09:30 Asia/Shanghai
    contact = customer.contacts.get()
    assert (contact.name, contact.mobile, contact.title, contact.is_primary) == (
        "张三",
        "13800138000",
        "总经理",
        True,
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"name": ""}, "必填"),
        ({"name": "甲" * 201}, "200"),
        ({"email": "not-an-email"}, "邮箱"),
        ({"phone": "call me"}, "电话号码"),
        ({"mobile": "12345"}, "手机号码"),
        ({"credit_code": "91440300279583285X"}, "统一社会信用代码"),
        ({"kind": "individual", "credit_code": valid_credit_code()}, "企业客户"),
        ({"contact_mobile": "13800138000"}, "联系人姓名"),
        ({"next_contact_at": "tomorrow"}, "日期"),
    ],
)
def test_bad_input_answers_400_and_saves_nothing(client, users, extra, message):
    client.force_login(users["sales1"])
    response = client.post("/customers/new/", good(**extra))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Customer.objects.count() == 0


def test_inactive_or_wrong_kind_dictionary_items_are_refused(client, users):
    status = DictionaryItem.objects.get(kind="status", name="流失客户")
    status.is_active = False
    status.save()
    industry = DictionaryItem.objects.filter(kind="industry").first()
    client.force_login(users["sales1"])
    assert client.post("/customers/new/", good(status=status.pk)).status_code == 400
    assert client.post("/customers/new/", good(status=industry.pk)).status_code == 400
    page = client.get("/customers/new/").content.decode()
    assert "流失客户" not in page and "意向客户" in page
    assert Customer.objects.count() == 0


def test_html_in_the_name_is_stored_as_typed_and_shown_escaped(client, users):
    client.force_login(users["sales1"])
    client.post("/customers/new/", good(name="<script>alert('x')</script>"))
    customer = Customer.objects.get()
    assert customer.name == "<script>alert('x')</script>"
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "<script>alert(" not in page and "&lt;script&gt;" in page


def test_edit_changes_fields_and_logs(client, users):
    client.force_login(users["sales1"])
    client.post("/customers/new/", good())
    customer = Customer.objects.get()
    form = client.get(f"/customers/{customer.pk}/edit/")
    assert form.status_code == 200 and 'value="2026-12-01T09:30"' in form.content.decode()
    assert "联系人姓名" not in form.content.decode()
    response = client.post(f"/customers/{customer.pk}/edit/", good(name="中兴通讯", keyword="中兴"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.keyword) == ("中兴通讯", "中兴")
    detail = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "修改客户" in detail
    bad = client.post(f"/customers/{customer.pk}/edit/", good(name=""))
    assert bad.status_code == 400
    customer.refresh_from_db()
    assert customer.name == "中兴通讯"


def test_region_select_is_a_two_level_tree(client, users):
    client.force_login(users["sales1"])
    page = client.get("/customers/new/").content.decode()
    assert page.index("广东省") < page.index("\u3000深圳市") < page.index("上海市")


def test_a_similar_name_warns_and_saves_once_confirmed(client, users):
    client.force_login(users["sales1"])
    client.post("/customers/new/", good())
    response = client.post("/customers/new/", good(name="中兴通讯（深圳）有限公司"))
    assert response.status_code == 400
    assert 'data-testid="duplicate-warning"' in response.content.decode()
    assert Customer.objects.count() == 1
    response = client.post("/customers/new/", good(name="中兴通讯（深圳）有限公司", allow_duplicates="on"))
    assert response.status_code == 302 and Customer.objects.count() == 2
