"""Field permissions (ORG-8): how roles combine, how values are masked, the role screen.

The customer pages, forms and API are covered in crm/customers/tests/test_field_permissions.py.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.access import field_policy, policy
from crm.access.fields import catalogue, catalogue_by_name
from crm.accounts import services as account_services
from crm.accounts.models import Role, User
from crm.accounts.tests.factories import RoleFactory
from crm.audit.models import OperationLog
from crm.customers import services
from crm.customers.models import Customer

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def give_roles(user: User, *field_maps: dict) -> User:
    """Replace the user's roles by one role per map, each with the default sales permissions."""
    sales = Role.objects.get(code="sales")
    roles = [
        RoleFactory(data_scope=sales.data_scope, permissions=sales.permissions, field_permissions=m)
        for m in field_maps
    ]
    user.roles.set(roles)
    return fresh(user)


# ---------------------------------------------------------------- combining roles


@pytest.mark.parametrize(
    "first, second, expected",
    [
        ("hidden", None, None),  # a role that does not list the field leaves it editable
        ("hidden", "hidden", "hidden"),
        ("hidden", "readonly", "readonly"),
        ("hidden", "mask", "mask"),
        ("mask", "mask_list", "mask_list"),
        ("readonly", "mask", None),  # one role may change it, the other sees it in full
        ("readonly", "mask_list", None),
        ("readonly", "readonly", "readonly"),
        ("mask_list", "mask_list", "mask_list"),
    ],
)
def test_the_least_restrictive_rule_of_two_roles_wins(users, first, second, expected):
    maps = [{"customers.mobile": first}, {"customers.mobile": second} if second else {}]
    user = give_roles(users["sales1"], *maps)
    rules = field_policy.field_rules(user, "customers")
    assert rules.get("mobile") == expected
    assert field_policy.field_rules(user, "contacts") == {}


def test_one_role_rules_apply_as_set_and_other_modules_are_separate(users):
    user = give_roles(
        users["sales1"],
        {"customers.mobile": "hidden", "customers.email": "mask", "contacts.phone": "readonly"},
    )
    assert field_policy.field_rules(user, "customers") == {"mobile": "hidden", "email": "mask"}
    assert field_policy.field_rules(user, "contacts") == {"phone": "readonly"}
    assert "mobile" not in field_policy.visible_fields(user, "customers")
    assert "email" in field_policy.visible_fields(user, "customers")
    assert "email" in field_policy.editable_fields(user, "customers")  # masked, but may be replaced
    assert "phone" not in field_policy.editable_fields(user, "contacts")
    assert field_policy.masked(user, "customers", "email", "detail")
    assert not field_policy.masked(user, "customers", "phone", "list")


def test_mask_in_lists_is_full_on_the_detail_page(users):
    user = give_roles(users["sales1"], {"customers.mobile": "mask_list"})
    assert field_policy.masked(user, "customers", "mobile", "list")
    assert not field_policy.masked(user, "customers", "mobile", "detail")


def test_super_admin_has_no_field_rules_even_with_a_restricted_role(users):
    admin = users["admin"]
    admin.roles.add(RoleFactory(field_permissions={"customers.mobile": "hidden"}))
    admin = fresh(admin)
    assert field_policy.field_rules(admin, "customers") == {}
    assert "mobile" in field_policy.visible_fields(admin, "customers")


def test_unknown_rules_in_stored_json_count_as_editable(users):
    user = give_roles(users["sales1"], {"customers.mobile": "nonsense", "customers.phone": "masked"})
    assert field_policy.field_rules(user, "customers") == {"phone": "mask"}  # the old spelling


def test_rules_are_computed_once_per_request_and_forgotten_with_the_roles(users):
    user = give_roles(users["sales1"], {"customers.mobile": "hidden"})
    policy.access_of(user)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            field_policy.field_rules(user, "customers")
            field_policy.hidden_fields(user, "customers")
    assert len(queries) == 0
    Role.objects.filter(users=user).update(field_permissions={})
    assert field_policy.field_rules(user, "customers") == {"mobile": "hidden"}  # same request
    policy.forget(user)
    assert field_policy.field_rules(user, "customers") == {}


# ---------------------------------------------------------------- masking


@pytest.mark.parametrize(
    "value, kind, expected",
    [
        ("13812345678", "mobile", "138****5678"),
        ("+86 13812345678", "mobile", "+86 138****5678"),
        ("12345", "mobile", "1****5"),
        ("1381", "mobile", "****"),
        ("0755-12345678", "phone", "0755-****5678"),
        ("(0755)12345678", "phone", "(0755)****5678"),
        ("01012345678", "phone", "010****5678"),
        ("075512345678", "phone", "0755****5678"),
        ("13812345678", "phone", "138****5678"),
        ("123", "phone", "****"),
        ("alice@example.com", "email", "a***@example.com"),
        ("a@x.cn", "email", "a***@x.cn"),
        ("not-an-address", "email", "n****s"),
        ("", "mobile", ""),
        (None, "phone", None),
        ("secret", None, "****"),
    ],
)
def test_mask_value(value, kind, expected):
    assert field_policy.mask_value(value, kind) == expected


# ---------------------------------------------------------------- catalogue


def test_catalogue_labels_come_from_the_models_and_names_cannot_be_hidden():
    customers = catalogue_by_name("customers")
    assert str(customers["mobile"].label) == "手机"
    assert customers["mobile"].maskable and customers["email"].maskable and customers["fax"].maskable
    assert not customers["qq"].maskable
    assert not customers["name"].can_hide and "hidden" not in customers["name"].rules()
    assert {"mobile", "phone", "email", "birthday"} <= {f.name for f in catalogue("contacts")}
    assert not catalogue_by_name("contacts")["name"].can_hide
    assert catalogue("orders") == []


def test_custom_fields_join_the_catalogue_when_the_app_offers_them(monkeypatch):
    import sys
    import types

    fake = types.ModuleType("crm.customfields.selectors")
    fake.field_choices = lambda module: [("custom.budget", "预算")] if module == "customers" else []
    package = sys.modules.get("crm.customfields") or types.ModuleType("crm.customfields")
    monkeypatch.setitem(sys.modules, "crm.customfields", package)
    monkeypatch.setitem(sys.modules, "crm.customfields.selectors", fake)
    monkeypatch.setattr(package, "selectors", fake, raising=False)
    assert catalogue_by_name("customers")["custom.budget"].label == "预算"
    assert field_policy.validate_field_permissions({"customers.custom.budget": "hidden"}) == {
        "customers.custom.budget": "hidden"
    }


# ---------------------------------------------------------------- the role service and screen


def test_service_validates_field_permissions_and_saves_nothing_on_bad_input(users):
    role = Role.objects.get(code="sales")
    for bad, message in [
        ({"customers.colour": "hidden"}, "未知的字段：customers.colour"),
        ({"customers.mobile": "invisible"}, "无效的字段权限"),
        ({"customers.name": "hidden"}, "无效的字段权限"),  # the name identifies the record
        ({"customers.qq": "mask"}, "无效的字段权限"),  # only phones and e-mail are masked
        (["customers.mobile"], "字段权限的格式不正确"),
    ]:
        with pytest.raises(ValidationError, match=message):
            account_services.role_save(
                actor=users["admin"],
                role=role,
                name=role.name,
                data_scope=role.data_scope,
                permissions=role.permissions,
                field_permissions=bad,
            )
    role.refresh_from_db()
    assert role.field_permissions == {}


def test_role_screen_shows_and_saves_field_permissions_and_logs_the_change(admin_client, users):
    role = Role.objects.get(code="sales")
    page = admin_client.get(f"/org/roles/{role.pk}/edit/").content.decode()
    assert 'data-testid="field-permissions"' in page
    assert 'name="field_perm:customers.mobile"' in page and 'name="field_perm:contacts.email"' in page
    assert "列表脱敏" in page and "全部脱敏" in page
    data = {
        "name": role.name,
        "data_scope": role.data_scope,
        "permissions": role.permissions,
        "field_permissions_sent": "1",
        "field_perm:customers.mobile": "mask_list",
        "field_perm:customers.credit_limit": "hidden",
        "field_perm:customers.phone": "editable",
        "field_perm:contacts.email": "readonly",
    }
    response = admin_client.post(f"/org/roles/{role.pk}/edit/", data)
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.field_permissions == {
        "contacts.email": "readonly",
        "customers.credit_limit": "hidden",
        "customers.mobile": "mask_list",
    }
    log = OperationLog.objects.filter(action="role.updated").latest("id")
    assert log.changes["field_permissions"] == [
        [],
        ["contacts.email:readonly", "customers.credit_limit:hidden", "customers.mobile:mask_list"],
    ]
    page = admin_client.get(f"/org/roles/{role.pk}/edit/").content.decode()
    assert '<option value="mask_list" selected>' in page
    # Changing one field logs old → new.
    data["field_perm:customers.mobile"] = "mask"
    admin_client.post(f"/org/roles/{role.pk}/edit/", data)
    log = OperationLog.objects.filter(action="role.updated").latest("id")
    old, new = log.changes["field_permissions"]
    assert "customers.mobile:mask_list" in old and "customers.mobile:mask" in new


def test_role_saved_without_the_section_keeps_its_field_permissions(admin_client, users):
    role = Role.objects.get(code="sales")
    role.field_permissions = {"customers.mobile": "hidden"}
    role.save()
    response = admin_client.post(
        f"/org/roles/{role.pk}/edit/",
        {"name": role.name, "data_scope": role.data_scope, "permissions": role.permissions},
    )
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.field_permissions == {"customers.mobile": "hidden"}


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("field_perm:customers.colour", "hidden", "未知的字段"),
        ("field_perm:customers.mobile", "invisible", "无效的字段权限"),
        ("field_perm:customers.name", "hidden", "无效的字段权限"),
    ],
)
def test_role_screen_refuses_bad_field_permissions(admin_client, users, key, value, message):
    role = Role.objects.get(code="sales")
    before = OperationLog.objects.count()
    response = admin_client.post(
        f"/org/roles/{role.pk}/edit/",
        {
            "name": "改了名字",
            "data_scope": role.data_scope,
            "permissions": role.permissions,
            "field_permissions_sent": "1",
            key: value,
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    role.refresh_from_db()
    assert role.name == "销售" and role.field_permissions == {}
    assert OperationLog.objects.count() == before


def test_super_admin_role_field_permissions_cannot_be_edited(admin_client, users):
    role = Role.objects.get(is_super=True)
    page = admin_client.get(f"/org/roles/{role.pk}/edit/").content.decode()
    assert 'data-testid="field-permissions"' in page and "<fieldset disabled>" in page
    response = admin_client.post(
        f"/org/roles/{role.pk}/edit/",
        {
            "name": role.name,
            "data_scope": "all",
            "field_permissions_sent": "1",
            "field_perm:customers.mobile": "hidden",
        },
    )
    assert response.status_code == 400
    role.refresh_from_db()
    assert role.field_permissions == {}


def test_role_screen_needs_the_roles_edit_permission(client, users):
    role = Role.objects.get(code="sales")
    client.force_login(users["sales1"])
    response = client.post(
        f"/org/roles/{role.pk}/edit/",
        {
            "name": role.name,
            "data_scope": role.data_scope,
            "field_permissions_sent": "1",
            "field_perm:customers.mobile": "hidden",
        },
    )
    assert response.status_code == 403
    role.refresh_from_db()
    assert role.field_permissions == {}


def test_role_api_reads_and_writes_field_permissions(client, users):
    client.force_login(users["admin"])
    role = Role.objects.get(code="sales")
    response = client.patch(
        f"/api/v1/roles/{role.pk}/",
        {"field_permissions": {"customers.mobile": "mask"}},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["field_permissions"] == {"customers.mobile": "mask"}
    response = client.patch(
        f"/api/v1/roles/{role.pk}/",
        {"field_permissions": {"customers.mobile": "gone"}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "无效的字段权限" in response.content.decode()
    role.refresh_from_db()
    assert role.field_permissions == {"customers.mobile": "mask"}


# ---------------------------------------------------------------- exports


def test_export_rows_leave_hidden_fields_out_and_mask_as_in_lists(users):
    customer = services.customer_create(
        actor=users["sales1"],
        values={"name": "导出测试有限公司", "mobile": "13812345678", "email": "boss@example.com"},
    )
    user = give_roles(users["sales1"], {"customers.email": "hidden", "customers.mobile": "mask_list"})
    headers, rows = field_policy.export_rows(
        user, "customers", Customer.objects.filter(pk=customer.pk), ["name", "mobile", "email", "status"]
    )
    rows = list(rows)
    assert headers == ["客户名称", "手机", "客户状态"]
    assert rows == [["导出测试有限公司", "138****5678", None]]
    headers, rows = field_policy.export_rows(
        fresh(users["admin"]), "customers", Customer.objects.filter(pk=customer.pk), ["mobile", "email"]
    )
    assert list(rows) == [["13812345678", "boss@example.com"]]
