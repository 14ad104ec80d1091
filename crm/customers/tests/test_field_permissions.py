"""Field permissions (ORG-8) on every customer surface: form, contact form, detail, list, filters,
search, API read and write, services. sales1 owns the customer; a role then restricts fields."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.access import policy
from crm.accounts.models import Role, User
from crm.accounts.tests.factories import RoleFactory
from crm.api.tests import clear_throttle, errors_text, token_client
from crm.audit.models import OperationLog
from crm.customers import services
from crm.customers.models import Contact, Customer, DictionaryItem

pytestmark = pytest.mark.django_db

MOBILE, PHONE, EMAIL = "13812345678", "0755-12345678", "boss@example.com"
CONTACT_MOBILE = "13900001111"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    clear_throttle()


@pytest.fixture
def customer(users):
    status = DictionaryItem.objects.filter(kind="status").first()
    return services.customer_create(
        actor=users["sales1"],
        values={
            "name": "深圳市字段权限科技有限公司",
            "mobile": MOBILE,
            "phone": PHONE,
            "email": EMAIL,
            "credit_limit": "50000.00",
            "status": status,
            "remark": "机密备注",
        },
        contacts=[{"name": "张三", "mobile": CONTACT_MOBILE, "title": "总经理"}],
    )


def restrict(user: User, rules: dict, *more: dict) -> User:
    """Replace the user's roles by sales roles carrying these field permissions."""
    sales = Role.objects.get(code="sales")
    roles = [
        RoleFactory(data_scope=sales.data_scope, permissions=sales.permissions, field_permissions=m)
        for m in (rules, *more)
    ]
    user.roles.set(roles)
    return User.objects.get(pk=user.pk)


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# ---------------------------------------------------------------- the customer form


def test_form_leaves_out_hidden_fields_and_locks_read_only_ones(client, users, customer):
    restrict(users["sales1"], {"customers.credit_limit": "hidden", "customers.mobile": "readonly"})
    client.force_login(users["sales1"])
    html = page(client, f"/customers/{customer.pk}/edit/")
    assert 'name="credit_limit"' not in html
    assert 'name="mobile"' in html and "disabled" in html.split('name="mobile"')[1].split(">")[0]
    assert "只读：您没有修改此字段的权限。" in html
    response = client.post(
        f"/customers/{customer.pk}/edit/",
        {"kind": "enterprise", "name": customer.name, "mobile": "13900000000", "credit_limit": "1", "qq": ""},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.mobile == MOBILE  # the posted value is ignored
    assert str(customer.credit_limit) == "50000.00"  # a hidden field keeps its value
    assert customer.phone == ""  # an editable field the form sent empty


def test_form_masks_a_field_masked_everywhere_and_blank_keeps_it(client, users, customer):
    restrict(users["sales1"], {"customers.mobile": "mask"})
    client.force_login(users["sales1"])
    html = page(client, f"/customers/{customer.pk}/edit/")
    assert MOBILE not in html and "138****5678" in html
    data = {"kind": "enterprise", "name": customer.name, "phone": PHONE, "email": EMAIL, "mobile": ""}
    assert client.post(f"/customers/{customer.pk}/edit/", data).status_code == 302
    customer.refresh_from_db()
    assert customer.mobile == MOBILE
    data["mobile"] = "13700000000"
    assert client.post(f"/customers/{customer.pk}/edit/", data).status_code == 302
    customer.refresh_from_db()
    assert customer.mobile == "13700000000"


def test_new_customer_form_hides_inline_contact_mobile_when_contacts_mobile_is_hidden(client, users):
    restrict(users["sales1"], {"contacts.mobile": "hidden", "customers.credit_limit": "readonly"})
    client.force_login(users["sales1"])
    html = page(client, "/customers/new/")
    assert 'name="contact_mobile"' not in html and 'name="contact_name"' in html
    response = client.post(
        "/customers/new/",
        {"kind": "enterprise", "name": "新客户有限公司", "contact_name": "李四", "credit_limit": "9"},
    )
    assert response.status_code == 302
    created = Customer.objects.get(name="新客户有限公司")
    assert created.credit_limit is None
    assert created.contacts.get().name == "李四"


# ---------------------------------------------------------------- the contact form


def test_contact_form_hides_locks_and_ignores(client, users, customer):
    contact = customer.contacts.get()
    restrict(users["sales1"], {"contacts.mobile": "readonly", "contacts.email": "hidden"})
    client.force_login(users["sales1"])
    url = f"/customers/{customer.pk}/contacts/{contact.pk}/edit/"
    html = page(client, url)
    assert 'name="email"' not in html
    assert "disabled" in html.split('name="mobile"')[1].split(">")[0]
    response = client.post(
        url,
        {"name": "张三", "title": "董事长", "mobile": "13000000000", "email": "x@y.cn", "is_primary": "on"},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.title, contact.mobile, contact.email) == ("董事长", CONTACT_MOBILE, "")


# ---------------------------------------------------------------- services (the API cannot bypass them)


def test_services_refuse_changes_to_hidden_and_read_only_fields(users, customer):
    user = restrict(users["sales1"], {"customers.mobile": "readonly", "customers.remark": "hidden"})
    with pytest.raises(Exception, match="您没有修改“手机”的权限"):
        services.customer_update(actor=user, customer=customer, values={"mobile": "13000000000"})
    with pytest.raises(Exception, match="您没有修改“备注”的权限"):
        services.customer_update(actor=user, customer=customer, values={"remark": ""})
    # Sending the stored value back is no change, and is accepted.
    services.customer_update(actor=user, customer=customer, values={"mobile": MOBILE, "keyword": "字段"})
    customer.refresh_from_db()
    assert (customer.mobile, customer.remark, customer.keyword) == (MOBILE, "机密备注", "字段")
    contact_user = restrict(users["sales1"], {"contacts.mobile": "readonly"})
    with pytest.raises(Exception, match="您没有修改“手机”的权限"):
        services.contact_create(
            actor=contact_user, customer=customer, values={"name": "王五", "mobile": "13000000000"}
        )
    assert not Contact.objects.filter(name="王五").exists()


# ---------------------------------------------------------------- the detail page


def test_detail_page_hides_and_masks(client, users, customer):
    services.customer_update(actor=users["sales1"], customer=customer, values={"credit_limit": "60000"})
    restrict(
        users["sales1"],
        {
            "customers.credit_limit": "hidden",
            "customers.remark": "hidden",
            "customers.status": "hidden",
            "customers.mobile": "mask",
            "customers.email": "mask_list",
            "contacts.mobile": "mask_list",
            "contacts.email": "hidden",
        },
    )
    client.force_login(users["sales1"])
    html = page(client, f"/customers/{customer.pk}/")
    assert "信用额度" not in html and "50,000.00" not in html and "60,000.00" not in html
    assert "机密备注" not in html
    assert customer.status.name not in html.split('data-testid="customer-profile"')[0]
    assert MOBILE not in html and "138****5678" in html
    assert EMAIL in html  # masked in lists only
    assert CONTACT_MOBILE not in html and "139****1111" in html  # the contacts table is a list
    assert "<th>邮箱</th>" not in html.split('data-testid="contacts"')[1].split("</thead>")[0]
    # The operation log on the page does not give the values away either.
    assert "50000" not in html and "60000" not in html


def test_super_admin_sees_every_field(client, users, customer):
    users["admin"].roles.add(RoleFactory(field_permissions={"customers.mobile": "hidden"}))
    restrict(users["sales1"], {"customers.mobile": "hidden"})
    client.force_login(users["admin"])
    html = page(client, f"/customers/{customer.pk}/")
    assert MOBILE in html and EMAIL in html and CONTACT_MOBILE in html and "机密备注" in html
    response = client.get(f"/api/v1/customers/{customer.pk}/")
    assert response.json()["mobile"] == MOBILE


def test_detail_page_queries_do_not_grow_with_field_rules(client, users, customer):
    for i in range(10):
        services.contact_create(actor=users["sales1"], customer=customer, values={"name": f"联系人{i}"})
    client.force_login(users["sales1"])
    client.get(f"/customers/{customer.pk}/")
    with CaptureQueriesContext(connection) as plain:
        client.get(f"/customers/{customer.pk}/")
    restrict(
        users["sales1"],
        {"customers.mobile": "mask", "customers.remark": "hidden", "contacts.mobile": "mask_list"},
        {"customers.email": "hidden"},
    )
    with CaptureQueriesContext(connection) as restricted:
        response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    assert len(restricted) <= len(plain) + 1


# ---------------------------------------------------------------- the list, filters, sorts, search


def test_list_leaves_out_hidden_columns_and_filter_fields(client, users, customer):
    restrict(
        users["sales1"],
        {"customers.status": "hidden", "customers.code": "hidden", "customers.mobile": "hidden"},
    )
    client.force_login(users["sales1"])
    html = page(client, "/customers/")
    header = html.split('data-testid="customer-table"')[1].split("</thead>")[0]
    assert "客户状态" not in header and "客户编号" not in header and "价值等级" in header
    assert customer.code not in html
    options = page(client, "/customers/filter-row/")
    assert '<option value="mobile"' not in options and '<option value="status"' not in options
    assert '<option value="phone"' in options
    assert client.get("/customers/filter-row/", {"f": "mobile"}).status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"f": "mobile", "op": "startswith", "v": "138"},
        {"f": "status", "op": "empty", "v": ""},
        {"sort": "code"},
    ],
)
def test_filtering_or_sorting_on_a_hidden_field_is_a_bad_filter(client, users, customer, params):
    restrict(
        users["sales1"],
        {"customers.mobile": "hidden", "customers.status": "hidden", "customers.code": "hidden"},
    )
    client.force_login(users["sales1"])
    response = client.get("/customers/", params)
    assert response.status_code == 400
    assert "只能按列表提供的字段、条件和取值筛选或排序" in response.content.decode()


def test_quick_search_does_not_look_at_hidden_fields(client, users, customer):
    client.force_login(users["sales1"])
    assert 'data-testid="customer-row"' in page(client, "/customers/?q=1381234")
    restrict(users["sales1"], {"customers.mobile": "hidden"})
    assert 'data-testid="customer-row"' not in page(client, "/customers/?q=1381234")
    restrict(users["sales1"], {"customers.mobile": "mask"})  # masked: still found by the number
    assert 'data-testid="customer-row"' in page(client, "/customers/?q=1381234")


def test_global_search_hides_hidden_fields_in_results(client, users, customer):
    restrict(users["sales1"], {"customers.code": "hidden"})
    client.force_login(users["sales1"])
    html = page(client, "/search/?q=字段权限")
    assert customer.name in html and customer.code not in html


def test_list_queries_do_not_grow_with_field_rules(client, users, customer):
    for i in range(25):
        services.customer_create(
            actor=users["sales1"], values={"name": f"客户{i}", "mobile": f"1390000{i:04d}"}
        )
    client.force_login(users["sales1"])
    client.get("/customers/")
    with CaptureQueriesContext(connection) as plain:
        client.get("/customers/")
    restrict(
        users["sales1"],
        {"customers.mobile": "mask", "customers.status": "hidden"},
        {"customers.code": "hidden"},
    )
    with CaptureQueriesContext(connection) as restricted:
        response = client.get("/customers/")
    assert response.status_code == 200
    assert len(restricted) <= len(plain) + 1


# ---------------------------------------------------------------- the API: reading


def test_api_leaves_out_hidden_fields_and_masks_values(users, customer):
    user = restrict(
        users["sales1"],
        {"customers.phone": "hidden", "customers.mobile": "mask_list", "customers.email": "mask"},
    )
    api = token_client(user)
    row = api.get("/api/v1/customers/").json()["results"][0]
    assert "phone" not in row
    assert row["mobile"] == "138****5678"
    detail = api.get(f"/api/v1/customers/{customer.pk}/").json()
    assert "phone" not in detail
    assert detail["mobile"] == MOBILE  # masked in lists only
    assert detail["email"] == "b***@example.com"


def test_contacts_api_hides_and_masks(users, customer):
    contact = customer.contacts.get()
    user = restrict(users["sales1"], {"contacts.mobile": "mask_list", "contacts.title": "hidden"})
    api = token_client(user)
    row = api.get("/api/v1/contacts/", {"customer": customer.pk}).json()["results"][0]
    assert row["mobile"] == "139****1111" and "title" not in row
    detail = api.get(f"/api/v1/contacts/{contact.pk}/").json()
    assert detail["mobile"] == CONTACT_MOBILE and "title" not in detail


# ---------------------------------------------------------------- the API: writing


def test_api_refuses_writes_to_hidden_and_read_only_fields(users, customer):
    user = restrict(users["sales1"], {"customers.mobile": "readonly", "customers.credit_limit": "hidden"})
    api = token_client(user)
    before = OperationLog.objects.count()
    for body, field in [({"mobile": "13000000000"}, "mobile"), ({"credit_limit": "1.00"}, "credit_limit")]:
        response = api.patch(f"/api/v1/customers/{customer.pk}/", body, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert "您没有修改" in errors_text(response)
    customer.refresh_from_db()
    assert customer.mobile == MOBILE and str(customer.credit_limit) == "50000.00"
    assert OperationLog.objects.count() == before
    response = api.post("/api/v1/customers/", {"name": "另一家有限公司", "credit_limit": "5"}, format="json")
    assert response.status_code == 400 and "credit_limit" in response.json()
    assert not Customer.objects.filter(name="另一家有限公司").exists()
    # Editable fields still save.
    response = api.patch(f"/api/v1/customers/{customer.pk}/", {"keyword": "字段"}, format="json")
    assert response.status_code == 200 and response.json()["mobile"] == MOBILE


def test_api_refuses_protected_fields_of_inline_and_separate_contacts(users, customer):
    user = restrict(users["sales1"], {"contacts.mobile": "hidden"})
    api = token_client(user)
    response = api.post(
        "/api/v1/customers/",
        {"name": "带联系人有限公司", "contacts": [{"name": "赵六", "mobile": "13000000000"}]},
        format="json",
    )
    assert response.status_code == 400 and "mobile" in response.json()["contacts"]
    contact = customer.contacts.get()
    response = api.patch(f"/api/v1/contacts/{contact.pk}/", {"mobile": "13000000000"}, format="json")
    assert response.status_code == 400 and "mobile" in response.json()
    response = api.post(
        "/api/v1/contacts/", {"customer": customer.pk, "name": "孙七", "mobile": "13000000000"}, format="json"
    )
    assert response.status_code == 400
    contact.refresh_from_db()
    assert contact.mobile == CONTACT_MOBILE and not Contact.objects.filter(name="孙七").exists()


def test_api_accepts_a_new_value_for_a_masked_field(users, customer):
    user = restrict(users["sales1"], {"customers.mobile": "mask"})
    api = token_client(user)
    response = api.patch(f"/api/v1/customers/{customer.pk}/", {"mobile": "13700000000"}, format="json")
    assert response.status_code == 200
    assert response.json()["mobile"] == "137****0000"
    customer.refresh_from_db()
    assert customer.mobile == "13700000000"


def test_rules_follow_the_least_restrictive_role_on_the_pages(client, users, customer):
    restrict(users["sales1"], {"customers.mobile": "hidden"}, {"customers.mobile": "mask_list"})
    client.force_login(users["sales1"])
    assert MOBILE in page(client, f"/customers/{customer.pk}/")
    policy.forget(users["sales1"])


# ---------------------------------------------------------------- custom fields (CUS-11)


def test_custom_fields_are_protected_like_built_in_ones(admin_client, users, customer):
    customfield_services = pytest.importorskip("crm.customfields.services")
    customfield_services.customfield_create(
        actor=users["admin"],
        target="customers",
        values={"label": "预算", "field_type": "text", "key": "budget"},
    )
    customfield_services.customfield_create(
        actor=users["admin"],
        target="customers",
        values={"label": "备用电话", "field_type": "phone", "key": "tel2"},
    )
    services.customer_update(
        actor=users["sales1"],
        customer=customer,
        values={},
        custom_values={"budget": "一百万", "tel2": "0755-87654321"},
    )
    role_page = page(admin_client, f"/org/roles/{Role.objects.get(code='sales').pk}/edit/")
    assert 'name="field_perm:customers.custom.budget"' in role_page
    assert "预算" in role_page
    user = restrict(users["sales1"], {"customers.custom.budget": "hidden", "customers.custom.tel2": "mask"})
    api = token_client(user)
    detail = api.get(f"/api/v1/customers/{customer.pk}/").json()
    assert "budget" not in detail["custom_fields"]
    assert detail["custom_fields"]["tel2"] == "0755-****4321"
    response = api.patch(
        f"/api/v1/customers/{customer.pk}/", {"custom_fields": {"budget": "十块"}}, format="json"
    )
    assert response.status_code == 400 and "custom.budget" in response.json()
    customer.refresh_from_db()
    assert customer.custom_data["budget"] == "一百万"


def test_api_filter_or_sort_on_a_hidden_field_is_refused(users, customer):
    user = restrict(users["sales1"], {"customers.mobile": "hidden", "customers.code": "hidden"})
    api = token_client(user)
    response = api.get("/api/v1/customers/", {"filter": "mobile:startswith:138"})
    assert response.status_code == 400 and "不支持的筛选条件" in errors_text(response)
    response = api.get("/api/v1/customers/", {"sort": "code"})
    assert response.status_code == 400
    assert api.get("/api/v1/customers/", {"q": "1381234"}).json()["results"] == []


def test_pool_list_leaves_out_a_hidden_customer_code(client, users):
    from crm.customers.services import default_pool

    pooled = Customer.objects.create(name="公海字段权限客户", code="KHPOOL0001", pool=default_pool())
    client.force_login(restrict(users["sales1"], {}))
    assert pooled.code in page(client, "/pool/")

    client.force_login(restrict(users["sales1"], {"customers.code": "hidden"}))
    shown = page(client, "/pool/")
    assert pooled.name in shown and pooled.code not in shown
