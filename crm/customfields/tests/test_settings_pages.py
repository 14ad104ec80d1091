"""The 自定义字段 tab of the customer settings: customers.settings only; list, create, edit,
enable/disable, reorder; bad input answers 400 and changes nothing; labels are escaped."""

import pytest

from crm.customfields.models import CustomField
from crm.customfields.services import customfield_create

URL = "/customers/settings/custom-fields/"
ROLES = ["admin", "administrator", "manager", "sales1", "sales2", "finance", "service", "norole"]
SETTINGS_ROLES = {"admin", "administrator"}


@pytest.fixture
def field(users):
    return customfield_create(
        actor=users["admin"],
        target="customers",
        values={"label": "合作意向", "field_type": "choice", "options": ["强烈", "一般"], "key": "intent"},
    )


@pytest.mark.parametrize("role", ROLES)
def test_pages_need_customers_settings(client, users, field, role):
    client.force_login(users[role])
    allowed = role in SETTINGS_ROLES
    for url in (URL, f"{URL}new/", f"{URL}{field.pk}/edit/"):
        assert client.get(url).status_code == (200 if allowed else 403), url
    if allowed:
        return
    posts = [
        (f"{URL}new/", {"label": "偷偷加的", "field_type": "text"}),
        (f"{URL}{field.pk}/edit/", {"label": "改名", "field_type": "choice", "options": "强烈"}),
        (f"{URL}{field.pk}/active/", {"active": "0"}),
        (f"{URL}{field.pk}/move/", {"direction": "down"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    field.refresh_from_db()
    assert (field.label, field.is_active, CustomField.objects.count()) == ("合作意向", True, 1)


def test_anonymous_users_are_sent_to_login(client, field):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response.url


def test_tab_lists_the_fields(admin_client, field):
    page = admin_client.get(URL).content.decode()
    assert 'data-testid="custom-fields-tab"' in page
    assert "合作意向" in page and "<code>intent</code>" in page and "强烈、一般" in page
    # The tab is on the other settings pages too.
    assert (
        "/customers/settings/custom-fields/"
        in admin_client.get("/customers/settings/numbering/").content.decode()
    )


def test_create_with_options_one_per_line(admin_client, users):
    response = admin_client.post(
        f"{URL}new/",
        {
            "label": "采购渠道",
            "field_type": "multi_choice",
            "options": "线上\r\n代理商\r\n\r\n直销",
            "searchable": "on",
            "show_in_list": "on",
            "importable": "on",
        },
    )
    assert response.status_code == 302 and response.url == URL
    field = CustomField.objects.get()
    assert (field.key, field.options, field.searchable, field.show_in_list, field.exportable) == (
        "cai_gou_qu_dao",
        ["线上", "代理商", "直销"],
        True,
        True,
        False,
    )


def test_bad_input_answers_400_with_the_message_under_the_field(admin_client, field):
    response = admin_client.post(f"{URL}new/", {"label": "意向2", "field_type": "choice", "options": ""})
    assert response.status_code == 400
    assert "单选和多选字段至少要有一个选项" in response.content.decode()
    response = admin_client.post(f"{URL}new/", {"label": "合作意向", "field_type": "text"})
    assert response.status_code == 400 and "字段名称“合作意向”已存在。" in response.content.decode()
    assert CustomField.objects.count() == 1


def test_edit_keeps_the_key_and_refuses_a_type_change_when_values_exist(admin_client, users, field):
    from crm.customers.services import customer_create

    customer_create(actor=users["sales1"], values={"name": "甲公司"}, custom_values={"intent": "强烈"})
    response = admin_client.post(
        f"{URL}{field.pk}/edit/",
        {"label": "意向", "key": "hacked", "field_type": "text", "options": "", "sort_order": "3"},
    )
    assert response.status_code == 400
    assert "不能再修改字段类型" in response.content.decode()
    response = admin_client.post(
        f"{URL}{field.pk}/edit/",
        {
            "label": "意向",
            "key": "hacked",
            "field_type": "choice",
            "options": "强烈\n一般\n观望",
            "sort_order": "3",
        },
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.key, field.label, field.options, field.sort_order) == (
        "intent",
        "意向",
        ["强烈", "一般", "观望"],
        3,
    )


def test_disable_enable_and_move(admin_client, users, field):
    other = customfield_create(
        actor=users["admin"], target="customers", values={"label": "备注", "field_type": "text"}
    )
    assert admin_client.post(f"{URL}{field.pk}/active/", {"active": "0"}).status_code == 302
    field.refresh_from_db()
    assert not field.is_active
    page = admin_client.get(URL).content.decode()
    assert "已停用" in page
    admin_client.post(f"{URL}{field.pk}/active/", {"active": "1"})
    field.refresh_from_db()
    assert field.is_active
    admin_client.post(f"{URL}{other.pk}/move/", {"direction": "up"})
    assert list(CustomField.objects.order_by("sort_order").values_list("pk", flat=True)) == [
        other.pk,
        field.pk,
    ]


def test_labels_are_escaped(admin_client, users):
    customfield_create(
        actor=users["admin"],
        target="customers",
        values={
            "label": "<script>alert(1)</script>",
            "field_type": "choice",
            "options": ["<b>粗</b>"],
            "key": "x",
        },
    )
    page = admin_client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>粗</b>" not in page and "&lt;b&gt;粗&lt;/b&gt;" in page
