"""Importing employees (ORG-2): the user form's rules, departments and roles by name, no super rights."""

import pytest

from crm.accounts.models import Role, User
from crm.audit.models import OperationLog
from crm.imports.targets import get_target

HEADER = ["用户名", "姓名", "邮箱", "手机号", "职位", "部门", "直属上级", "角色", "启用", "初始密码"]


def _importer(users):
    return users["administrator"]  # role 管理员: users.import and users.edit, not a super admin


@pytest.mark.django_db
def test_users_are_created_with_department_manager_roles_and_must_change_password(users, org, run_import):
    rows = [
        HEADER,
        [
            "zhangsan",
            "张三",
            "zs@example.com",
            13800000001,
            "销售代表",
            "华南销售部",
            "manager",
            "销售，客服",
            "是",
            "Kaishi2026",
        ],
        ["lisi", "李四", "", "", "", "办公室/销售中心/华东销售部", "", "", "", ""],
        ["wangwu", "王五", "", "", "", "", "", "", "否", ""],
    ]
    job = run_import(_importer(users), "users", rows)
    assert job.status == "done", (job.error_message, job.errors)
    assert (job.created_count, job.failed_count) == (3, 0)
    zhang = User.objects.get(username="zhangsan")
    assert (zhang.name, zhang.email, zhang.phone, zhang.position) == (
        "张三",
        "zs@example.com",
        "13800000001",
        "销售代表",
    )
    assert zhang.department == org["south"] and zhang.manager == users["manager"]
    assert sorted(zhang.roles.values_list("name", flat=True)) == ["客服", "销售"]
    assert zhang.must_change_password and zhang.is_active
    assert not zhang.is_superuser and not zhang.is_staff
    assert zhang.check_password("Kaishi2026")
    lisi = User.objects.get(username="lisi")
    assert lisi.department == org["east"] and not lisi.roles.exists()
    assert not lisi.has_usable_password()  # an administrator sets the first password
    assert lisi.must_change_password
    wang = User.objects.get(username="wangwu")
    assert not wang.is_active and wang.department == org["root"]
    logs = OperationLog.objects.filter(action="user.created")
    assert logs.count() == 3
    assert logs.get(target_id=str(zhang.pk)).changes["roles"] == [None, ["客服", "销售"]]
    assert "Kaishi2026" not in str(list(logs.values_list("changes", flat=True)))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("用户名", "", "必填"),
        ("用户名", "张 三", "用户名只能包含字母、数字和 @ . + - _ 字符"),
        ("姓名", "", "必填"),
        ("姓名", "名" * 65, "64"),
        ("邮箱", "not-mail", "合法的邮件地址"),
        ("邮箱", "MANAGER@example.com", "已被使用"),
        ("手机号", "abc", "请输入有效的电话号码"),
        ("部门", "不存在部", "部门“不存在部”不存在"),
        ("直属上级", "nobody", "直属上级“nobody”不是在职员工的用户名"),
        ("直属上级", "newbie", "直属上级不能是本人"),
        ("角色", "不存在的角色", "角色“不存在的角色”不存在"),
        ("角色", "超级管理员", "不能通过导入授予超级管理员角色"),
        ("启用", "也许", "请填“是”或“否”"),
        ("初始密码", "12345678", "密码"),
        ("初始密码", "newbie2026", "密码"),
    ],
)
def test_each_rule_is_reported_and_nothing_is_written(users, org, run_import, column, value, message):
    User.objects.filter(pk=users["manager"].pk).update(email="manager@example.com")
    good = {"用户名": "newbie", "姓名": "新人"}
    rows = [list(good), list(good.values())]
    if column in good:
        rows[1][rows[0].index(column)] = value
    else:
        rows[0].append(column)
        rows[1].append(value)
    before = User.objects.count()
    job = run_import(_importer(users), "users", rows, run=False)
    assert job.status == "checked"
    assert job.failed_count == 1, job.errors
    row, header, text = job.errors[0]
    assert row == 2 and header == column and message in text, job.errors
    assert User.objects.count() == before


@pytest.mark.django_db
def test_ambiguous_department_name_asks_for_the_path(users, org, run_import):
    from crm.accounts.tests.factories import DepartmentFactory

    DepartmentFactory(name="深圳组", parent=org["east"])
    rows = [["用户名", "姓名", "部门"], ["a1", "甲", "深圳组"], ["a2", "乙", "销售中心/华东销售部/深圳组"]]
    job = run_import(_importer(users), "users", rows, run=False)
    assert job.failed_count == 1
    assert job.errors[0][0] == 2 and "有多个名为“深圳组”的部门" in job.errors[0][2]


@pytest.mark.django_db
def test_username_and_email_twice_in_the_file(users, org, run_import):
    rows = [
        ["用户名", "姓名", "邮箱"],
        ["a1", "甲", "a@example.com"],
        ["A1", "乙", ""],
        ["a3", "丙", "A@example.com"],
    ]
    job = run_import(_importer(users), "users", rows, run=False)
    assert job.failed_count == 2
    assert [e[0] for e in job.errors] == [3, 4]
    assert "与第 2 行重复" in job.errors[0][2] and "与第 2 行重复" in job.errors[1][2]


@pytest.mark.django_db
def test_existing_username_is_skipped_by_default(users, org, run_import):
    rows = [["用户名", "姓名"], ["SALES1", "改名"], ["newbie", "新人"]]
    job = run_import(_importer(users), "users", rows)
    assert job.status == "done"
    assert (job.created_count, job.skipped_count) == (1, 1)
    users["sales1"].refresh_from_db()
    assert users["sales1"].name != "改名"


@pytest.mark.django_db
def test_update_changes_filled_cells_and_roles_never_passwords(users, org, run_import):
    sales1 = users["sales1"]
    old_password = sales1.password
    rows = [
        ["用户名", "姓名", "职位", "部门", "角色", "初始密码"],
        ["sales1", "杨莉莉", "组长", "深圳组", "销售, 财务", "Xinmima2026"],
    ]
    job = run_import(_importer(users), "users", rows, dedupe="update")
    assert job.status == "done", job.errors
    assert job.updated_count == 1
    sales1.refresh_from_db()
    assert (sales1.name, sales1.position, sales1.department) == ("杨莉莉", "组长", org["shenzhen"])
    assert sorted(sales1.roles.values_list("name", flat=True)) == ["财务", "销售"]
    assert sales1.password == old_password
    assert OperationLog.objects.filter(action="user.updated", target_id=str(sales1.pk)).exists()
    assert OperationLog.objects.filter(action="user.roles_changed", target_id=str(sales1.pk)).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "extra", "message"),
    [
        ("admin", {}, "不能通过导入修改超级管理员的账号"),
        ("administrator", {}, "不能通过导入修改自己的账号"),
        ("sales1", {"启用": "否"}, "停用员工需要交接其客户"),
        ("manager", {"直属上级": "sales1"}, "会形成循环"),
    ],
)
def test_update_refuses_what_an_import_must_not_do(users, org, run_import, username, extra, message):
    rows = [["用户名", "姓名", *extra], [username, "新名字", *extra.values()]]
    job = run_import(_importer(users), "users", rows, dedupe="update", run=False)
    assert job.failed_count == 1, job.errors
    assert message in job.errors[0][2]


@pytest.mark.django_db
def test_permissions(users, org):
    from django.core.exceptions import PermissionDenied

    from crm.imports import services

    with pytest.raises(PermissionDenied):
        services.target_for(users["manager"], "users")
    target = get_target("users")
    role = Role.objects.create(name="人事导入", code="hr_import", permissions=["users.import"])
    users["norole"].roles.set([role])
    assert target.allowed_dedupe_modes(users["norole"]) == ["skip"]
    assert target.allowed_dedupe_modes(users["administrator"]) == ["skip", "update"]


@pytest.mark.django_db
def test_import_with_errors_writes_nothing_unless_only_valid(users, org, run_import):
    rows = [["用户名", "姓名"], ["ok1", "甲"], ["bad name", "乙"]]
    before = User.objects.count()
    job = run_import(_importer(users), "users", rows, run=False)
    assert job.failed_count == 1
    assert User.objects.count() == before
    job = run_import(_importer(users), "users", rows, only_valid=True)
    assert job.status == "done" and job.created_count == 1
    assert User.objects.filter(username="ok1").exists()


@pytest.mark.django_db
def test_check_uses_a_bounded_number_of_queries(users, org, django_assert_max_num_queries):
    target = get_target("users")
    ctx = target.start(_importer(users), {"dedupe": "skip"})
    with django_assert_max_num_queries(5):
        for i in range(50):
            outcome = target.check(
                ctx, i + 2, {"username": f"u{i}", "name": "x", "department": "深圳组", "roles": "销售"}
            )
            assert outcome.ok, outcome.errors


@pytest.mark.django_db
def test_pages(client, users, org):
    client.force_login(users["administrator"])
    page = client.get("/imports/users/")
    assert page.status_code == 200
    assert "初始密码" in page.content.decode()
    template = client.get("/imports/users/template.xlsx")
    assert template.status_code == 200
    client.force_login(users["manager"])
    assert client.get("/imports/users/").status_code == 403
