import pytest
from django.core.exceptions import ValidationError

from crm.accounts import services
from crm.accounts.models import Department
from crm.accounts.tests.factories import UserFactory
from crm.audit.models import OperationLog


def test_root_department_is_created_by_migration(db):
    root = Department.objects.get(parent__isnull=True)
    assert root.name == "办公室"
    assert root.path == f"/{root.pk}/"


def test_create_rename_and_log(users, org):
    admin = users["admin"]
    dept = services.department_create(actor=admin, name="  市场部 ", parent=org["root"])
    assert dept.name == "市场部"
    assert dept.path == f"{org['root'].path}{dept.pk}/"
    services.department_update(actor=admin, department=dept, name="品牌市场部", parent=org["root"])
    log = OperationLog.objects.filter(action="department.renamed").get()
    assert log.changes == {"name": ["市场部", "品牌市场部"]}
    assert log.actor == admin


def test_move_rewrites_the_whole_subtree(users, org):
    services.department_update(
        actor=users["admin"], department=org["south"], name="华南销售部", parent=org["finance"]
    )
    for key in ("south", "shenzhen"):
        org[key].refresh_from_db()
    assert org["south"].path == f"{org['finance'].path}{org['south'].pk}/"
    assert org["shenzhen"].path == f"{org['south'].path}{org['shenzhen'].pk}/"
    assert OperationLog.objects.filter(action="department.moved").count() == 1


@pytest.mark.parametrize("target", ["sales", "south", "shenzhen"])
def test_cannot_move_under_itself_or_a_descendant(users, org, target):
    with pytest.raises(ValidationError, match="下级部门之下"):
        services.department_update(
            actor=users["admin"], department=org["sales"], name="销售中心", parent=org[target]
        )
    org["sales"].refresh_from_db()
    assert org["sales"].parent == org["root"]


@pytest.mark.parametrize("name, message", [("", "不能为空"), ("   ", "不能为空"), ("部" * 65, "不能超过 64")])
def test_bad_names_are_rejected(users, org, name, message):
    before = Department.objects.count()
    with pytest.raises(ValidationError, match=message):
        services.department_create(actor=users["admin"], name=name, parent=org["root"])
    assert Department.objects.count() == before


def test_sibling_names_are_unique(users, org):
    with pytest.raises(ValidationError, match="已有名为“华南销售部”"):
        services.department_create(actor=users["admin"], name="华南销售部", parent=org["sales"])


def test_delete_only_when_empty(users, org):
    with pytest.raises(ValidationError, match="下级部门"):
        services.department_delete(actor=users["admin"], department=org["sales"])
    with pytest.raises(ValidationError, match="员工"):
        services.department_delete(actor=users["admin"], department=org["east"])  # sales2 works there
    with pytest.raises(ValidationError, match="顶级部门不能删除"):
        services.department_delete(actor=users["admin"], department=org["root"])
    empty = services.department_create(actor=users["admin"], name="临时部门", parent=org["root"])
    services.department_delete(actor=users["admin"], department=empty)
    assert not Department.objects.filter(pk=empty.pk).exists()
    assert OperationLog.objects.filter(action="department.deleted", target_repr="临时部门").exists()


def test_disabled_users_still_block_deleting_their_department(users, org):
    dept = services.department_create(actor=users["admin"], name="待撤销", parent=org["root"])
    UserFactory(department=dept, is_active=False)
    with pytest.raises(ValidationError, match="含已停用"):
        services.department_delete(actor=users["admin"], department=dept)


def test_department_pages_create_move_and_show_errors(admin_client, org):
    response = admin_client.post("/org/departments/new/", {"name": "海外部", "parent": org["root"].pk})
    assert response.status_code == 302
    dept = Department.objects.get(name="海外部")
    response = admin_client.post(
        f"/org/departments/{org['sales'].pk}/edit/", {"name": "销售中心", "parent": org["shenzhen"].pk}
    )
    assert response.status_code == 400
    assert "不能把部门移动到它自己或它的下级部门之下" in response.content.decode()
    page = admin_client.get(f"/org/departments/?department={dept.pk}").content.decode()
    assert "海外部" in page


def test_salesperson_cannot_manage_departments(client, users, org):
    client.force_login(users["sales1"])
    assert client.get("/org/departments/").status_code == 403
    assert client.post("/org/departments/new/", {"name": "x", "parent": org["root"].pk}).status_code == 403
    assert not Department.objects.filter(name="x").exists()


def test_groups_inside_departments(admin_client, users, org):
    response = admin_client.post(
        "/org/teams/new/",
        {
            "name": "大客户组",
            "department": org["south"].pk,
            "leader": users["sales1"].pk,
            "members": [users["sales1"].pk],
        },
    )
    assert response.status_code == 302
    team = org["south"].teams.get()
    assert list(team.members.all()) == [users["sales1"]]
    duplicate = admin_client.post("/org/teams/new/", {"name": "大客户组", "department": org["south"].pk})
    assert duplicate.status_code == 400
    assert org["south"].teams.count() == 1
    with pytest.raises(ValidationError, match="小组"):
        services.department_delete(actor=users["admin"], department=_team_only_department(users, org))


def _team_only_department(users, org):
    dept = services.department_create(actor=users["admin"], name="只有小组", parent=org["root"])
    services.team_save(
        actor=users["admin"], team=None, name="临时组", department=dept, leader=None, members=[]
    )
    return dept


def test_department_used_by_a_custom_role_cannot_be_deleted(users, org):
    dept = services.department_create(actor=users["admin"], name="定制用", parent=org["root"])
    services.role_save(
        actor=users["admin"], role=None, name="看定制用", data_scope="custom", custom_departments=[dept]
    )
    with pytest.raises(ValidationError, match="看定制用"):
        services.department_delete(actor=users["admin"], department=dept)
