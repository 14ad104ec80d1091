"""/api/v1/departments/: the organisation tree, with the rules of the 部门 screen."""

import pytest

from crm.accounts.models import Department, Role
from crm.accounts.tests.factories import DepartmentFactory, RoleFactory, UserFactory
from crm.api.tests import clear_throttle, errors_text, token_client, token_login
from crm.audit.models import OperationLog

pytestmark = pytest.mark.django_db

URL = "/api/v1/departments/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    clear_throttle()


def snapshot():
    return list(Department.objects.order_by("pk").values("pk", "name", "parent_id", "path"))


def ids(response):
    return [row["id"] for row in response.json()["results"]]


# ---------------------------------------------------------------- reading


def test_admin_lists_the_tree_in_path_order_with_a_real_token(users, org):
    client = token_login("admin")
    # Move 销售中心 under the (newer) 财务部: tree order now differs from id order.
    moved = client.patch(f"{URL}{org['sales'].pk}/", {"parent": org["finance"].pk}, format="json")
    assert moved.status_code == 200

    response = client.get(URL)

    assert response.status_code == 200
    tree_order = list(Department.objects.order_by("path").values_list("pk", flat=True))
    assert tree_order != sorted(tree_order)
    assert ids(response) == tree_order
    row = next(r for r in response.json()["results"] if r["id"] == org["south"].pk)
    assert row == {
        "id": org["south"].pk,
        "name": "华南销售部",
        "parent": org["sales"].pk,
        "path": Department.objects.get(pk=org["south"].pk).path,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def test_pages_walk_the_tree_once(users, org):
    client = token_client(users["admin"])
    seen, url = [], URL + "?page_size=2"
    while url:
        body = client.get(url).json()
        seen += ids_of(body)
        url = body["next"]
    assert seen == list(Department.objects.order_by("path").values_list("pk", flat=True))


def ids_of(body):
    return [row["id"] for row in body["results"]]


def test_list_queries_do_not_grow_with_rows(users, org, django_assert_max_num_queries):
    for i in range(60):
        DepartmentFactory(name=f"分部{i}", parent=org["south"] if i % 2 else org["shenzhen"])
    for viewer in ("admin", "manager"):
        client = token_client(users[viewer])
        with django_assert_max_num_queries(15):
            response = client.get(URL, {"page_size": 200})
        assert response.status_code == 200
        assert len(response.json()["results"]) >= 64


def test_manager_sees_their_department_tree_only(users, org):
    client = token_client(users["manager"])

    assert set(ids(client.get(URL))) == {org[k].pk for k in ("sales", "south", "shenzhen", "east")}
    assert client.get(f"{URL}{org['south'].pk}/").status_code == 200
    assert client.get(f"{URL}{org['finance'].pk}/").status_code == 404
    assert client.get(f"{URL}{org['root'].pk}/").status_code == 404


def test_role_without_departments_view_gets_403(users, org):
    client = token_client(users["sales1"])
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{org['south'].pk}/").status_code == 403


# ---------------------------------------------------------------- creating


def test_administrator_creates_a_department(users, org):
    response = token_client(users["administrator"]).post(
        URL, {"name": " 广州组 ", "parent": org["south"].pk}, format="json"
    )

    assert response.status_code == 201, response.content
    department = Department.objects.get(name="广州组")
    assert department.parent == org["south"]
    assert department.path == f"{org['south'].path}{department.pk}/"
    assert response.json()["id"] == department.pk
    log = OperationLog.objects.get(action="department.created")
    assert log.actor == users["administrator"] and log.target_id == str(department.pk)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "parent": "south"}, "该字段不能为空。"),
        ({"name": "   ", "parent": "south"}, "该字段不能为空。"),
        ({"name": "部" * 65, "parent": "south"}, "64"),
        ({"name": "深圳组", "parent": "south"}, "同一上级部门下已有名为“深圳组”的部门。"),
        ({"name": "第二个顶级部门"}, "只能有一个顶级部门"),
        ({"name": "第二个顶级部门", "parent": None}, "只能有一个顶级部门"),
        ({"name": "x", "parent": 999999}, "无效主键"),
        ({"name": "x", "parent": "south", "sort_order": 3}, "未知字段。"),
    ],
)
def test_bad_input_is_rejected_and_changes_nothing(users, org, data, message):
    if data.get("parent") == "south":
        data["parent"] = org["south"].pk
    before = snapshot()

    response = token_client(users["administrator"]).post(URL, data, format="json")

    assert response.status_code == 400
    assert message in errors_text(response)
    assert snapshot() == before
    assert not OperationLog.objects.filter(action__startswith="department.").exists()


def test_creating_needs_departments_create(users, org):
    response = token_client(users["manager"]).post(
        URL, {"name": "新部门", "parent": org["sales"].pk}, format="json"
    )
    assert response.status_code == 403
    assert not Department.objects.filter(name="新部门").exists()


def test_parent_outside_scope_does_not_exist(users, org):
    role = RoleFactory(
        name="销售行政",
        data_scope=Role.DataScope.DEPARTMENT_TREE,
        permissions=["departments.view", "departments.create"],
    )
    client = token_client(UserFactory(username="clerk", department=org["sales"], roles=[role]))

    outside = client.post(URL, {"name": "新部门", "parent": org["finance"].pk}, format="json")
    inside = client.post(URL, {"name": "新部门", "parent": org["east"].pk}, format="json")

    assert outside.status_code == 400 and "parent" in outside.json()
    assert inside.status_code == 201
    assert Department.objects.get(name="新部门").parent == org["east"]


# ---------------------------------------------------------------- renaming and moving


def test_rename(users, org):
    response = token_client(users["administrator"]).patch(
        f"{URL}{org['east'].pk}/", {"name": "华东大区"}, format="json"
    )

    assert response.status_code == 200
    org["east"].refresh_from_db()
    assert org["east"].name == "华东大区"
    assert org["east"].parent == org["sales"]
    log = OperationLog.objects.get(action="department.renamed")
    assert log.changes == {"name": ["华东销售部", "华东大区"]}


def test_move_takes_the_subtree_along(users, org):
    response = token_client(users["administrator"]).patch(
        f"{URL}{org['south'].pk}/", {"parent": org["east"].pk}, format="json"
    )

    assert response.status_code == 200, response.content
    south = Department.objects.get(pk=org["south"].pk)
    shenzhen = Department.objects.get(pk=org["shenzhen"].pk)
    assert south.parent == org["east"]
    assert south.path == f"{org['east'].path}{south.pk}/"
    assert shenzhen.path == f"{south.path}{shenzhen.pk}/"
    assert response.json()["path"] == south.path
    assert OperationLog.objects.filter(action="department.moved", target_id=str(south.pk)).exists()


@pytest.mark.parametrize(
    ("department", "data", "message"),
    [
        ("sales", {"parent": "shenzhen"}, "不能把部门移动到它自己或它的下级部门之下。"),
        ("sales", {"parent": "sales"}, "不能把部门移动到它自己或它的下级部门之下。"),
        ("sales", {"parent": None}, "只能有一个顶级部门"),
        ("root", {"parent": "sales"}, "顶级部门不能移动到其他部门下。"),
        ("shenzhen", {"name": ""}, "该字段不能为空。"),
        ("shenzhen", {"name": "部" * 65}, "64"),
        ("east", {"name": "华南销售部"}, "同一上级部门下已有名为“华南销售部”的部门。"),
        ("east", {"path": "/1/"}, "未知字段。"),
    ],
)
def test_bad_change_is_rejected_and_changes_nothing(users, org, department, data, message):
    data = {k: org[v].pk if k == "parent" and v else v for k, v in data.items()}
    before = snapshot()

    response = token_client(users["administrator"]).patch(f"{URL}{org[department].pk}/", data, format="json")

    assert response.status_code == 400
    assert message in errors_text(response)
    assert snapshot() == before


def test_editing_needs_departments_edit(users, org):
    response = token_client(users["manager"]).patch(f"{URL}{org['east'].pk}/", {"name": "x"}, format="json")
    assert response.status_code == 403


# ---------------------------------------------------------------- deleting


def test_delete_an_empty_department(users, org):
    empty = DepartmentFactory(name="空部门", parent=org["sales"])

    response = token_client(users["administrator"]).delete(f"{URL}{empty.pk}/")

    assert response.status_code == 204
    assert not Department.objects.filter(pk=empty.pk).exists()
    assert OperationLog.objects.filter(action="department.deleted", target_id=str(empty.pk)).exists()


@pytest.mark.parametrize(
    ("department", "message"),
    [
        ("root", "顶级部门不能删除。"),
        ("south", "该部门下还有下级部门，不能删除。"),
        ("finance", "该部门下还有员工（含已停用），不能删除。"),
    ],
)
def test_delete_refused(users, org, department, message):
    before = snapshot()

    response = token_client(users["administrator"]).delete(f"{URL}{org[department].pk}/")

    assert response.status_code == 400
    assert message in errors_text(response)
    assert snapshot() == before
    assert not OperationLog.objects.filter(action="department.deleted").exists()


def test_deleting_a_department_with_only_disabled_people_is_refused(users, org):
    users["finance"].is_active = False
    users["finance"].save()
    response = token_client(users["admin"]).delete(f"{URL}{org['finance'].pk}/")
    assert response.status_code == 400
    assert Department.objects.filter(pk=org["finance"].pk).exists()


def test_deleting_needs_departments_delete(users, org):
    empty = DepartmentFactory(name="空部门", parent=org["sales"])
    assert token_client(users["manager"]).delete(f"{URL}{empty.pk}/").status_code == 403
    assert Department.objects.filter(pk=empty.pk).exists()
