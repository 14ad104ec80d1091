"""/api/v1/users/: the same permissions, data scopes and rules as the 员工 screens."""

import pytest

from crm.accounts.models import Role, User
from crm.accounts.tests.factories import RoleFactory, UserFactory
from crm.api.tests import clear_throttle, errors_text, token_client, token_login
from crm.audit.models import OperationLog

pytestmark = pytest.mark.django_db

URL = "/api/v1/users/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    clear_throttle()


def ids(response):
    return {row["id"] for row in response.json()["results"]}


def snapshot():
    return list(User.objects.order_by("pk").values())


# ---------------------------------------------------------------- reading


def test_admin_lists_everyone_with_a_real_token(users):
    client = token_login("admin")

    response = client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert ids(response) == {u.pk for u in users.values()}
    sales1 = next(row for row in body["results"] if row["username"] == "sales1")
    assert sales1["department_name"] == "华南销售部"
    assert sales1["roles"] == [Role.objects.get(code="sales").pk]
    assert sales1["manager"] == users["manager"].pk
    assert "password" not in sales1


def test_list_queries_do_not_grow_with_rows(users, org, django_assert_max_num_queries):
    role = Role.objects.get(code="sales")
    for i in range(60):
        UserFactory(username=f"bulk{i}", department=org["south"], manager=users["manager"], roles=[role])
    for viewer in ("admin", "manager"):
        client = token_client(users[viewer])
        with django_assert_max_num_queries(15):
            response = client.get(URL, {"page_size": 200})
        assert response.status_code == 200
        assert len(response.json()["results"]) >= 60


def test_pages_walk_every_visible_user_once(users):
    client = token_client(users["admin"])
    seen, url = [], URL + "?page_size=3"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == sorted(u.pk for u in users.values())


def test_manager_sees_only_their_department_tree(users):
    client = token_client(users["manager"])

    assert ids(client.get(URL)) == {users[n].pk for n in ("manager", "sales1", "sales2", "norole")}
    assert client.get(f"{URL}{users['sales1'].pk}/").status_code == 200
    for outside in ("finance", "admin", "service"):
        response = client.get(f"{URL}{users[outside].pk}/")
        assert response.status_code == 404, outside
        assert response.json() == {"detail": "未找到。"}


def test_role_without_users_view_gets_403(users):
    for name in ("sales1", "finance", "norole"):
        client = token_client(users[name])
        assert client.get(URL).status_code == 403, name
        assert client.get(f"{URL}{users[name].pk}/").status_code == 403, name


def test_record_outside_scope_is_404_not_403(users):
    """sales1 given users.view with scope 本人 sees themselves; sales2 'does not exist'."""
    users["sales1"].roles.add(RoleFactory(name="员工查看", permissions=["users.view"]))
    client = token_client(users["sales1"])

    assert ids(client.get(URL)) == {users["sales1"].pk}
    assert client.get(f"{URL}{users['sales1'].pk}/").status_code == 200
    assert client.get(f"{URL}{users['sales2'].pk}/").status_code == 404
    assert client.get(f"{URL}999999/").status_code == 404
    assert client.get(f"{URL}abc/").status_code == 404


def test_filters(users, org):
    users["sales2"].is_active = False
    users["sales2"].save()
    client = token_client(users["admin"])

    assert ids(client.get(URL, {"is_active": "false"})) == {users["sales2"].pk}
    assert users["sales2"].pk not in ids(client.get(URL, {"is_active": "true"}))
    assert ids(client.get(URL, {"department": org["south"].pk})) == {users["sales1"].pk, users["norole"].pk}
    assert ids(client.get(URL, {"q": "SALES"})) == {users["sales1"].pk, users["sales2"].pk}


def test_me_needs_no_permission(users):
    response = token_client(users["norole"]).get(URL + "me/")
    assert response.status_code == 200
    assert response.json()["id"] == users["norole"].pk
    assert response.json()["roles"] == []


# ---------------------------------------------------------------- creating


def new_user(org, **overrides):
    return {
        "username": "zhangsan",
        "password": "Secret12345",
        "name": "张三",
        "email": "zs@example.com",
        "phone": "13800000000",
        "position": "销售代表",
        "department": org["east"].pk,
        "roles": [Role.objects.get(code="sales").pk],
    } | overrides


def test_administrator_creates_a_user(users, org):
    client = token_client(users["administrator"])

    response = client.post(URL, new_user(org, manager=users["manager"].pk), format="json")

    assert response.status_code == 201, response.content
    user = User.objects.get(username="zhangsan")
    assert response.json()["id"] == user.pk
    assert (user.name, user.email, user.phone, user.position) == (
        "张三",
        "zs@example.com",
        "13800000000",
        "销售代表",
    )
    assert user.department == org["east"]
    assert user.manager == users["manager"]
    assert list(user.roles.values_list("code", flat=True)) == ["sales"]
    assert user.check_password("Secret12345")
    assert user.must_change_password and user.is_active
    log = OperationLog.objects.get(action="user.created")
    assert log.actor == users["administrator"] and log.target_id == str(user.pk)


def test_user_without_department_goes_to_the_top_department(users, org):
    data = new_user(org)
    del data["department"]
    response = token_client(users["admin"]).post(URL, data, format="json")
    assert response.status_code == 201
    assert User.objects.get(username="zhangsan").department == org["root"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": "SALES1"}, "detail", "用户名“SALES1”已被使用。"),
        ({"email": "Sales2@Example.com"}, "detail", "邮箱“Sales2@Example.com”已被使用。"),
        ({"name": ""}, "name", "该字段不能为空。"),
        ({"name": "   "}, "name", "该字段不能为空。"),
        ({"name": "名" * 65}, "name", "64"),
        ({"username": "bad name!"}, "username", ""),
        ({"email": "not-an-email"}, "email", ""),
        ({"phone": "call me"}, "phone", ""),
        ({"password": "12345678"}, "password", ""),
        ({"roles": [999999]}, "roles", ""),
        ({"department": 999999}, "department", ""),
        ({"is_superuser": True}, "is_superuser", "未知字段。"),
    ],
)
def test_bad_input_is_rejected_and_changes_nothing(users, org, overrides, field, message):
    before = snapshot()
    logs = OperationLog.objects.count()

    response = token_client(users["administrator"]).post(URL, new_user(org, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert message in errors_text(response)
    assert snapshot() == before
    assert OperationLog.objects.count() == logs


def test_only_a_super_admin_grants_the_super_admin_role(users, org):
    super_role = Role.objects.get(is_super=True)
    data = new_user(org, roles=[super_role.pk])

    refused = token_client(users["administrator"]).post(URL, data, format="json")
    assert refused.status_code == 400
    assert "只有超级管理员可以授予超级管理员角色。" in errors_text(refused)
    assert not User.objects.filter(username="zhangsan").exists()

    allowed = token_client(users["admin"]).post(URL, data, format="json")
    assert allowed.status_code == 201
    assert User.objects.get(username="zhangsan").roles.get() == super_role


def test_creating_needs_users_create(users, org):
    response = token_client(users["manager"]).post(URL, new_user(org), format="json")
    assert response.status_code == 403
    assert not User.objects.filter(username="zhangsan").exists()


def test_department_and_manager_outside_scope_do_not_exist(users, org):
    """A creator limited to 本部门及下级 cannot file people under other departments or managers."""
    role = RoleFactory(
        name="销售人事", data_scope=Role.DataScope.DEPARTMENT_TREE, permissions=["users.view", "users.create"]
    )
    creator = UserFactory(username="hr", department=org["sales"], roles=[role])
    client = token_client(creator)

    outside_department = client.post(URL, new_user(org, department=org["finance"].pk), format="json")
    outside_manager = client.post(URL, new_user(org, manager=users["finance"].pk), format="json")
    inside = client.post(URL, new_user(org, manager=users["manager"].pk), format="json")

    assert outside_department.status_code == 400 and "department" in outside_department.json()
    assert outside_manager.status_code == 400 and "manager" in outside_manager.json()
    assert inside.status_code == 201


# ---------------------------------------------------------------- editing


def test_patch_changes_only_what_is_sent(users, org):
    sales1 = users["sales1"]
    finance_role = Role.objects.get(code="finance")
    client = token_client(users["administrator"])

    response = client.patch(
        f"{URL}{sales1.pk}/",
        {"name": "李四", "department": org["east"].pk, "roles": [finance_role.pk]},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["department_name"] == "华东销售部"
    sales1.refresh_from_db()
    assert sales1.name == "李四"
    assert sales1.department == org["east"]
    assert sales1.email == "sales1@example.com"
    assert sales1.manager == users["manager"]
    assert list(sales1.roles.all()) == [finance_role]
    assert set(OperationLog.objects.filter(target_id=str(sales1.pk)).values_list("action", flat=True)) == {
        "user.updated",
        "user.roles_changed",
    }


def test_patch_clears_the_manager(users):
    client = token_client(users["admin"])
    response = client.patch(f"{URL}{users['sales1'].pk}/", {"manager": None}, format="json")
    assert response.status_code == 200
    users["sales1"].refresh_from_db()
    assert users["sales1"].manager is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "SALES2@example.com"}, "已被使用"),
        ({"name": ""}, "该字段不能为空。"),
        ({"username": "renamed"}, "未知字段。"),
        ({"is_active": False}, "未知字段。"),
        ({"password": "Another12345"}, "未知字段。"),
        ({"department": None}, "不能为 null"),
    ],
)
def test_bad_patch_changes_nothing(users, data, message):
    before = snapshot()

    response = token_client(users["admin"]).patch(f"{URL}{users['sales1'].pk}/", data, format="json")

    assert response.status_code == 400
    assert message in errors_text(response)
    assert snapshot() == before


def test_manager_cannot_be_oneself_or_a_subordinate(users):
    client = token_client(users["admin"])
    manager = users["manager"]

    self_manager = client.patch(f"{URL}{manager.pk}/", {"manager": manager.pk}, format="json")
    loop = client.patch(f"{URL}{manager.pk}/", {"manager": users["sales1"].pk}, format="json")

    assert self_manager.status_code == 400 and "直属上级不能是本人。" in errors_text(self_manager)
    assert loop.status_code == 400 and "会形成循环" in errors_text(loop)
    manager.refresh_from_db()
    assert manager.manager is None


def test_administrator_cannot_take_the_super_admin_role_away(users):
    response = token_client(users["administrator"]).patch(
        f"{URL}{users['admin'].pk}/", {"roles": [], "name": "改名"}, format="json"
    )

    assert response.status_code == 400
    assert "只有超级管理员可以收回超级管理员角色。" in errors_text(response)
    users["admin"].refresh_from_db()
    assert users["admin"].roles.filter(is_super=True).exists()
    assert users["admin"].name != "改名"  # the whole change is rolled back


def test_editing_needs_users_edit(users):
    client = token_client(users["manager"])
    response = client.patch(f"{URL}{users['sales1'].pk}/", {"name": "x"}, format="json")
    assert response.status_code == 403


# ---------------------------------------------------------------- disabling


def test_disable_and_enable(users):
    client = token_client(users["administrator"])
    sales1_client = token_client(users["sales1"])
    url = f"{URL}{users['sales1'].pk}/"

    disabled = client.post(url + "disable/")
    assert disabled.status_code == 200
    assert disabled.json()["is_active"] is False
    users["sales1"].refresh_from_db()
    assert users["sales1"].is_active is False
    assert sales1_client.get(URL + "me/").status_code == 401
    assert OperationLog.objects.filter(action="user.disabled", target_id=str(users["sales1"].pk)).exists()

    enabled = client.post(url + "enable/")
    assert enabled.status_code == 200 and enabled.json()["is_active"] is True
    users["sales1"].refresh_from_db()
    assert users["sales1"].is_active is True
    assert sales1_client.get(URL + "me/").status_code == 200


def test_cannot_disable_yourself(users):
    response = token_client(users["administrator"]).post(f"{URL}{users['administrator'].pk}/disable/")

    assert response.status_code == 400
    assert "不能停用自己的账号。" in errors_text(response)
    users["administrator"].refresh_from_db()
    assert users["administrator"].is_active
    assert not OperationLog.objects.filter(action="user.disabled").exists()


def test_last_super_admin_cannot_be_disabled(users):
    response = token_client(users["administrator"]).post(f"{URL}{users['admin'].pk}/disable/")
    assert response.status_code == 400
    assert "系统至少要保留一个启用的超级管理员。" in errors_text(response)
    users["admin"].refresh_from_db()
    assert users["admin"].is_active


def test_disable_needs_users_edit_and_scope(users):
    assert token_client(users["manager"]).post(f"{URL}{users['sales1'].pk}/disable/").status_code == 403
    users["sales1"].refresh_from_db()
    assert users["sales1"].is_active


def test_delete_and_put_are_not_offered(users):
    client = token_client(users["admin"])
    assert client.delete(f"{URL}{users['sales1'].pk}/").status_code == 405
    assert client.put(f"{URL}{users['sales1'].pk}/", {}, format="json").status_code == 405
    assert User.objects.filter(pk=users["sales1"].pk).exists()


def test_administrator_cannot_grant_the_super_admin_role_by_patch(users):
    super_role = Role.objects.get(is_super=True)
    client = token_client(users["administrator"])

    response = client.patch(f"{URL}{users['sales1'].pk}/", {"roles": [super_role.pk]}, format="json")

    assert response.status_code == 400
    assert "只有超级管理员可以授予超级管理员角色。" in errors_text(response)
    assert not users["sales1"].roles.filter(is_super=True).exists()
