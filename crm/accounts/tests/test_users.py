import pytest
from django.core.exceptions import ValidationError

from crm.accounts import services
from crm.accounts.models import Role, User
from crm.audit.models import OperationLog


def user_form(org, **overrides):
    data = {
        "username": "wangwu",
        "name": "王五",
        "email": "wangwu@example.com",
        "phone": "13800000001",
        "position": "销售代表",
        "department": org["south"].pk,
        "password": "Welcome2026x",
        "roles": [Role.objects.get(code="sales").pk],
    }
    data.update(overrides)
    return data


def test_admin_creates_a_user_with_roles(admin_client, org):
    response = admin_client.post("/org/users/new/", user_form(org))
    assert response.status_code == 302
    user = User.objects.get(username="wangwu")
    assert user.department == org["south"]
    assert [r.code for r in user.roles.all()] == ["sales"]
    assert user.must_change_password
    assert user.password.startswith("md5$")  # hashed (argon2 outside tests)
    log = OperationLog.objects.get(action="user.created")
    assert log.changes["roles"] == [None, ["销售"]]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"username": "SALES1"}, "用户名“SALES1”已被使用"),
        ({"email": "Sales1@Example.com"}, "已被使用"),
        ({"username": ""}, "该字段是必填项"),
        ({"name": "名" * 65}, "64"),
        ({"email": "not-an-email"}, "合法的邮件地址"),
        ({"password": "12345678"}, "密码"),
        ({"username": "bad name!"}, "用户名只能包含"),
    ],
)
def test_bad_user_input_is_rejected_and_changes_nothing(admin_client, org, users, overrides, message):
    before = User.objects.count()
    response = admin_client.post("/org/users/new/", user_form(org, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert User.objects.count() == before


def test_cannot_disable_yourself(users):
    with pytest.raises(ValidationError, match="不能停用自己"):
        services.user_set_active(actor=users["administrator"], user=users["administrator"], active=False)


def test_last_active_super_admin_is_kept(users):
    admin = users["admin"]
    with pytest.raises(ValidationError, match="至少要保留一个"):
        services.user_set_active(actor=users["administrator"], user=admin, active=False)
    with pytest.raises(ValidationError, match="至少要保留一个"):
        services.user_set_roles(actor=admin, user=admin, roles=[])
    assert admin.roles.filter(is_super=True).exists()
    second = services.user_create(
        actor=admin,
        username="root2",
        password="Another2026x",
        name="二号",
        roles=[Role.objects.get(is_super=True)],
    )
    services.user_set_active(actor=second, user=admin, active=False)
    admin.refresh_from_db()
    assert not admin.is_active


def test_only_super_admin_grants_super_role(users):
    with pytest.raises(ValidationError, match="只有超级管理员"):
        services.user_set_roles(
            actor=users["administrator"], user=users["sales1"], roles=[Role.objects.get(is_super=True)]
        )


def test_role_change_is_audited_with_old_and_new(users):
    services.user_set_roles(
        actor=users["admin"], user=users["sales1"], roles=[Role.objects.get(code="sales_manager")]
    )
    log = OperationLog.objects.get(action="user.roles_changed")
    assert log.changes == {"roles": [["销售"], ["销售经理"]]}
    assert log.actor == users["admin"]


def test_manager_cannot_be_self_or_a_subordinate(users):
    manager = users["manager"]
    with pytest.raises(ValidationError, match="下属"):
        services.user_update(
            actor=users["admin"],
            user=manager,
            name=manager.name,
            email=manager.email,
            phone="",
            position="",
            department=manager.department,
            manager=users["sales1"],
        )
    with pytest.raises(ValidationError, match="不能是本人"):
        services.user_update(
            actor=users["admin"],
            user=manager,
            name=manager.name,
            email=manager.email,
            phone="",
            position="",
            department=manager.department,
            manager=manager,
        )


def test_disabled_user_cannot_log_in(client, users, admin_client):
    response = admin_client.post(f"/org/users/{users['sales2'].pk}/active/", {"active": "0"})
    assert response.status_code == 302
    users["sales2"].refresh_from_db()
    assert not users["sales2"].is_active
    assert OperationLog.objects.filter(action="user.disabled", target_id=str(users["sales2"].pk)).exists()
    client.logout()
    response = client.post("/login/", {"username": "sales2", "password": "demo12345"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_user_is_never_deleted(admin_client, users):
    assert admin_client.post(f"/org/users/{users['sales1'].pk}/delete/").status_code == 404
    assert User.objects.filter(pk=users["sales1"].pk).exists()


def test_new_user_must_change_password_first(client, org, users):
    user = services.user_create(
        actor=users["admin"],
        username="newbie",
        password="First2026pass",
        name="新人",
        department=org["south"],
    )
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/account/password/"
    response = client.post(
        "/account/password/",
        {
            "old_password": "First2026pass",
            "new_password1": "Mine2026secret",
            "new_password2": "Mine2026secret",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    user.refresh_from_db()
    assert not user.must_change_password
    assert OperationLog.objects.filter(action="user.password_changed", actor=user).exists()


def test_profile_edit(client, users):
    client.force_login(users["sales1"])
    response = client.post(
        "/account/profile/", {"name": "李娜娜", "email": "lina@example.com", "phone": "13900000000"}
    )
    assert response.status_code == 302
    users["sales1"].refresh_from_db()
    assert users["sales1"].name == "李娜娜"
    taken = client.post("/account/profile/", {"name": "李娜娜", "email": "sales2@example.com", "phone": ""})
    assert taken.status_code == 200
    assert "已被使用" in taken.content.decode()


def test_manager_sees_only_users_of_their_department_tree(client, users):
    client.force_login(users["manager"])
    page = client.get("/org/users/").content.decode()
    assert "sales1" in page and "sales2" in page
    assert "finance" not in page
    assert client.get(f"/org/users/{users['finance'].pk}/edit/").status_code in (403, 404)


def test_user_list_query_count_does_not_grow(admin_client, users, org, django_assert_max_num_queries):
    from crm.accounts.tests.factories import UserFactory

    for i in range(60):
        UserFactory(department=org["south"], manager=users["manager"], roles=["sales"], username=f"bulk{i}")
    with django_assert_max_num_queries(15):
        response = admin_client.get("/org/users/")
    assert response.status_code == 200


def test_non_super_admin_cannot_create_a_super_admin(client, users, org):
    client.force_login(users["administrator"])
    response = client.post("/org/users/new/", user_form(org, roles=[Role.objects.get(is_super=True).pk]))
    assert response.status_code == 400
    assert "只有超级管理员可以授予超级管理员角色" in response.content.decode()
    assert not User.objects.filter(username="wangwu").exists()
