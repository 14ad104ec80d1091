"""/api/v1/roles/: operation permissions and data scopes, with the rules of the 角色权限 screen."""

import pytest

from crm.accounts.models import Role
from crm.accounts.tests.factories import RoleFactory, UserFactory
from crm.api.tests import clear_throttle, errors_text, token_client, token_login
from crm.audit.models import OperationLog

pytestmark = pytest.mark.django_db

URL = "/api/v1/roles/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    clear_throttle()


def snapshot():
    return [role_snapshot(role) for role in Role.objects.order_by("pk")]


def role_snapshot(role):
    role = Role.objects.get(pk=role.pk)
    return (
        role.name,
        role.description,
        role.data_scope,
        role.permissions,
        sorted(role.custom_departments.values_list("pk", flat=True)),
    )


# ---------------------------------------------------------------- reading


def test_administrator_lists_roles_with_a_real_token(users):
    response = token_login("administrator").get(URL)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["code"] for row in rows] == list(Role.objects.order_by("pk").values_list("code", flat=True))
    sales = next(row for row in rows if row["code"] == "sales")
    assert sales["name"] == "销售" and sales["is_builtin"] is True and sales["is_super"] is False
    assert sales["data_scope"] == "self"
    assert sales["permissions"] == Role.objects.get(code="sales").permissions


def test_retrieve(users, org):
    role = RoleFactory(name="华南主管", data_scope=Role.DataScope.CUSTOM, permissions=["customers.view"])
    role.custom_departments.set([org["south"], org["east"]])

    response = token_client(users["admin"]).get(f"{URL}{role.pk}/")

    assert response.status_code == 200
    assert sorted(response.json()["custom_departments"]) == sorted([org["south"].pk, org["east"].pk])
    assert token_client(users["admin"]).get(f"{URL}999999/").status_code == 404


def test_list_queries_do_not_grow_with_rows(users, org, django_assert_max_num_queries):
    for i in range(60):
        role = RoleFactory(
            name=f"批量角色{i}", data_scope=Role.DataScope.CUSTOM, permissions=["customers.view"]
        )
        role.custom_departments.set([org["south"], org["finance"]])
    client = token_client(users["administrator"])
    with django_assert_max_num_queries(15):
        response = client.get(URL, {"page_size": 200})
    assert response.status_code == 200
    assert len(response.json()["results"]) >= 66


@pytest.mark.parametrize("name", ["sales1", "manager", "finance", "norole"])
def test_role_without_roles_view_gets_403(users, name):
    client = token_client(users[name])
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{Role.objects.get(code='sales').pk}/").status_code == 403


# ---------------------------------------------------------------- creating


def test_create_a_role(users, org):
    response = token_client(users["administrator"]).post(
        URL,
        {
            "name": " 华南主管 ",
            "description": "看华南的客户",
            "data_scope": "custom",
            "custom_departments": [org["south"].pk],
            "permissions": ["customers.view", "customers.edit", "customers.view"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    role = Role.objects.get(name="华南主管")
    assert response.json()["id"] == role.pk
    assert role.description == "看华南的客户"
    assert role.data_scope == "custom"
    assert role.permissions == ["customers.edit", "customers.view"]
    assert list(role.custom_departments.all()) == [org["south"]]
    assert not role.is_builtin and not role.is_super and role.code is None
    assert OperationLog.objects.filter(action="role.created", target_id=str(role.pk)).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "该字段不能为空。"),
        ({"name": "  "}, "该字段不能为空。"),
        ({"name": "角" * 65}, "64"),
        ({"name": "销售"}, "已有名为“销售”的角色。"),
        ({"permissions": ["customers.view", "customers.fly"]}, "不是合法选项"),
        ({"permissions": "customers.view"}, ""),
        ({"data_scope": "everything"}, "不是合法选项"),
        ({"data_scope": "custom"}, "数据范围为“定制”时，请至少选择一个部门。"),
        ({"data_scope": "custom", "custom_departments": []}, "数据范围为“定制”时，请至少选择一个部门。"),
        ({"custom_departments": [999999]}, "无效主键"),
        ({"is_super": True}, "未知字段。"),
        ({"code": "boss"}, "未知字段。"),
    ],
)
def test_bad_input_is_rejected_and_changes_nothing(users, data, message):
    before = snapshot()

    valid = {"name": "新角色", "data_scope": "self", "permissions": ["customers.view"]}
    response = token_client(users["administrator"]).post(URL, valid | data, format="json")

    assert response.status_code == 400
    assert message in errors_text(response)
    assert snapshot() == before
    assert not OperationLog.objects.filter(action__startswith="role.").exists()


def test_creating_needs_roles_create(users):
    role = RoleFactory(name="只读角色管理", permissions=["roles.view"])
    client = token_client(UserFactory(username="viewer", roles=[role]))

    assert client.get(URL).status_code == 200
    assert client.post(URL, {"name": "新角色", "data_scope": "self"}, format="json").status_code == 403
    assert not Role.objects.filter(name="新角色").exists()


# ---------------------------------------------------------------- editing


def test_patch_a_built_in_role_changes_what_its_users_may_do(users):
    sales = Role.objects.get(code="sales")
    sales1 = token_client(users["sales1"])
    assert sales1.get("/api/v1/users/").status_code == 403

    response = token_client(users["administrator"]).patch(
        f"{URL}{sales.pk}/", {"permissions": sales.permissions + ["users.view"]}, format="json"
    )

    assert response.status_code == 200, response.content
    sales.refresh_from_db()
    assert "users.view" in sales.permissions
    assert sales.name == "销售" and sales.data_scope == "self"
    assert OperationLog.objects.filter(action="role.updated", target_id=str(sales.pk)).exists()
    listed = sales1.get("/api/v1/users/")
    assert listed.status_code == 200
    assert [row["username"] for row in listed.json()["results"]] == ["sales1"]


def test_patch_rename_and_scope(users, org):
    role = RoleFactory(name="临时角色", permissions=["customers.view"])

    response = token_client(users["administrator"]).patch(
        f"{URL}{role.pk}/",
        {"name": "华东主管", "data_scope": "custom", "custom_departments": [org["east"].pk]},
        format="json",
    )

    assert response.status_code == 200
    assert role_snapshot(role) == ("华东主管", "", "custom", ["customers.view"], [org["east"].pk])


def test_super_admin_role_cannot_be_edited(users):
    super_role = Role.objects.get(is_super=True)
    before = role_snapshot(super_role)

    for client in (token_client(users["administrator"]), token_client(users["admin"])):
        response = client.patch(f"{URL}{super_role.pk}/", {"name": "老板"}, format="json")
        assert response.status_code == 400
        assert "超级管理员角色不能编辑。" in errors_text(response)
    assert role_snapshot(super_role) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "该字段不能为空。"),
        ({"name": "财务"}, "已有名为“财务”的角色。"),
        ({"permissions": ["nope.view"]}, "不是合法选项"),
        ({"data_scope": "custom"}, "数据范围为“定制”时，请至少选择一个部门。"),
        ({"is_builtin": False}, "未知字段。"),
    ],
)
def test_bad_patch_changes_nothing(users, data, message):
    sales = Role.objects.get(code="sales")
    before = role_snapshot(sales)

    response = token_client(users["administrator"]).patch(f"{URL}{sales.pk}/", data, format="json")

    assert response.status_code == 400
    assert message in errors_text(response)
    assert role_snapshot(sales) == before


def test_editing_needs_roles_edit(users):
    role = RoleFactory(name="只读角色管理", permissions=["roles.view"])
    client = token_client(UserFactory(username="viewer", roles=[role]))
    assert client.patch(f"{URL}{role.pk}/", {"permissions": ["roles.edit"]}, format="json").status_code == 403
    assert role_snapshot(role)[3] == ["roles.view"]


# ---------------------------------------------------------------- deleting


def test_delete_an_unused_custom_role(users):
    role = RoleFactory(name="临时角色")

    response = token_client(users["administrator"]).delete(f"{URL}{role.pk}/")

    assert response.status_code == 204
    assert not Role.objects.filter(pk=role.pk).exists()
    assert OperationLog.objects.filter(action="role.deleted", target_id=str(role.pk)).exists()


@pytest.mark.parametrize("code", ["super_admin", "admin", "sales", "service"])
def test_built_in_roles_cannot_be_deleted(users, code):
    before = snapshot()

    response = token_client(users["admin"]).delete(f"{URL}{Role.objects.get(code=code).pk}/")

    assert response.status_code == 400
    assert "系统预置角色不能删除。" in errors_text(response)
    assert snapshot() == before


def test_role_in_use_cannot_be_deleted(users):
    role = RoleFactory(name="临时角色")
    users["sales1"].roles.add(role)

    response = token_client(users["administrator"]).delete(f"{URL}{role.pk}/")

    assert response.status_code == 400
    assert "还有员工拥有该角色" in errors_text(response)
    assert Role.objects.filter(pk=role.pk).exists()


def test_deleting_needs_roles_delete(users):
    role = RoleFactory(name="临时角色")
    viewer = RoleFactory(name="只读角色管理", permissions=["roles.view", "roles.edit"])
    client = token_client(UserFactory(username="viewer", roles=[viewer]))
    assert client.delete(f"{URL}{role.pk}/").status_code == 403
    assert Role.objects.filter(pk=role.pk).exists()
