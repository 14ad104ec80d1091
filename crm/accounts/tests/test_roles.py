import pytest
from django.core.exceptions import ValidationError

from crm.access import policy
from crm.accounts import services
from crm.accounts.models import Role, User
from crm.audit.models import OperationLog


def test_default_roles_exist(db):
    names = set(Role.objects.values_list("name", flat=True))
    assert {"超级管理员", "管理员", "销售经理", "销售", "财务", "客服"} <= names
    assert Role.objects.get(is_super=True).name == "超级管理员"


def test_super_admin_role_cannot_be_edited_or_deleted(admin_client, users):
    role = Role.objects.get(is_super=True)
    response = admin_client.post(f"/org/roles/{role.pk}/edit/", {"name": "改名", "data_scope": "self"})
    assert response.status_code == 400
    assert "超级管理员角色不能编辑" in response.content.decode()
    admin_client.post(f"/org/roles/{role.pk}/delete/")
    role.refresh_from_db()
    assert role.name == "超级管理员"
    assert role.data_scope == "all"


def test_role_matrix_saves_permissions_and_scope_on_one_screen(admin_client, users, org):
    response = admin_client.post(
        "/org/roles/new/",
        {
            "name": "区域主管",
            "description": "看华南",
            "data_scope": "custom",
            "custom_departments": [org["south"].pk],
            "permissions": ["users.view", "departments.view"],
        },
    )
    assert response.status_code == 302
    role = Role.objects.get(name="区域主管")
    assert sorted(role.permissions) == ["departments.view", "users.view"]
    assert list(role.custom_departments.all()) == [org["south"]]
    response = admin_client.post(
        f"/org/roles/{role.pk}/edit/",
        {
            "name": "区域主管",
            "data_scope": "department_tree",
            "permissions": ["users.view", "users.edit"],
        },
    )
    assert response.status_code == 302
    log = OperationLog.objects.get(action="role.updated")
    assert log.changes["permissions"] == [["departments.view", "users.view"], ["users.edit", "users.view"]]
    assert log.changes["data_scope"] == ["custom", "department_tree"]
    matrix = admin_client.get(f"/org/roles/{role.pk}/edit/").content.decode()
    assert 'value="users.edit" aria-label' in matrix and "checked" in matrix


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "", "data_scope": "self"}, "该字段是必填项"),
        ({"name": "销售", "data_scope": "self"}, "已有名为“销售”的角色"),
        ({"name": "x", "data_scope": "custom"}, "至少选择一个部门"),
        ({"name": "x", "data_scope": "everything"}, "选择一个有效的选项"),
        ({"name": "x", "data_scope": "self", "permissions": ["users.fly"]}, "选择一个有效的选项"),
    ],
)
def test_bad_role_input_is_rejected(admin_client, users, data, message):
    before = Role.objects.count()
    response = admin_client.post("/org/roles/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Role.objects.count() == before


def test_builtin_and_used_roles_cannot_be_deleted(users):
    with pytest.raises(ValidationError, match="系统预置"):
        services.role_delete(actor=users["admin"], role=Role.objects.get(code="sales"))
    custom = services.role_save(actor=users["admin"], role=None, name="临时", data_scope="self")
    services.user_set_roles(actor=users["admin"], user=users["norole"], roles=[custom])
    with pytest.raises(ValidationError, match="还有员工"):
        services.role_delete(actor=users["admin"], role=custom)


def test_permission_change_takes_effect_for_the_user(users):
    custom = services.role_save(
        actor=users["admin"], role=None, name="只读员工", data_scope="self", permissions=["users.view"]
    )
    services.user_set_roles(actor=users["admin"], user=users["norole"], roles=[custom])
    fresh = User.objects.get(pk=users["norole"].pk)
    assert policy.can(fresh, "users.view")
    assert not policy.can(fresh, "users.edit")


def test_roles_screen_needs_permission(client, users):
    client.force_login(users["manager"])
    assert client.get("/org/roles/").status_code == 403
    assert client.post("/org/roles/new/", {"name": "x", "data_scope": "all"}).status_code == 403
