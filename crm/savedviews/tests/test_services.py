"""Saved views (CUS-2): the rules of the services; the list replays views in crm/customers/tests."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.audit.models import OperationLog
from crm.customers.models import DictionaryItem
from crm.savedviews import selectors, services
from crm.savedviews.models import SavedView

pytestmark = pytest.mark.django_db


def create(user, name="我的重点客户", params=None, **kwargs):
    return services.saved_view_create(
        actor=user, list_key="customers", name=name, params=params or {"scope": "mine"}, **kwargs
    )


def test_create_stores_clean_params_and_logs(users):
    status = DictionaryItem.objects.filter(kind="status").first()
    view = create(
        users["sales1"],
        params={
            "scope": "mine",
            "q": " 中兴 ",
            "sort": "name",
            "conditions": [{"field": "status", "op": "is", "value": str(status.pk)}],
            "columns": ["status", "code", "name"],
        },
    )
    view.refresh_from_db()
    assert view.params == {
        "scope": "mine",
        "q": "中兴",
        "sort": "name",
        "conditions": [{"field": "status", "op": "is", "value": str(status.pk)}],
        "columns": ["code", "status"],  # in column order; the name column is always shown
        "custom_columns": [],
    }
    assert view.owner == users["sales1"] and not view.is_shared
    assert OperationLog.objects.filter(action="saved_view.created", target_id=str(view.pk)).exists()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"scope": "everything"}, "范围“everything”无效"),
        ({"sort": "password"}, "不能按“password”排序"),
        ({"conditions": [{"field": "remark", "op": "contains", "value": "x"}]}, "不能按字段“remark”筛选"),
        (
            {"conditions": [{"field": "status", "op": "is", "value": "1 OR 1=1"}]},
            "筛选条件“status=1 OR 1=1”无效",
        ),
        ({"conditions": [{"field": "name", "op": "like", "value": "x"}]}, "筛选条件“name:like”无效"),
        ({"columns": ["password"]}, "不能显示列“password”"),
        ({"sql": "select 1"}, "不认识的列表条件：sql"),
        ({"q": "x" * 101}, "快速搜索最多 100 个字"),
        ("scope=all", "列表条件应为对象"),
    ],
)
def test_invalid_params_are_refused_with_a_message(users, params, message):
    with pytest.raises(ValidationError) as caught:
        create(users["sales1"], params=params)
    assert message in " ".join(caught.value.messages)
    assert not SavedView.objects.exists()


@pytest.mark.parametrize(("name", "message"), [("", "请填写视图名称"), ("长" * 41, "最多 40 个字")])
def test_name_is_required_and_short(users, name, message):
    with pytest.raises(ValidationError, match=message):
        create(users["sales1"], name=name)
    assert not SavedView.objects.exists()


def test_name_is_unique_per_owner_and_list(users):
    create(users["sales1"], name="A")
    with pytest.raises(ValidationError, match="已有名为“A”的视图"):
        create(users["sales1"], name=" A ")
    create(users["sales2"], name="A")  # another owner may use it
    view = create(users["sales1"], name="B")
    with pytest.raises(ValidationError, match="已有名为“A”的视图"):
        services.saved_view_update(actor=users["sales1"], view=view, name="A")
    assert SavedView.objects.get(pk=view.pk).name == "B"


def test_at_most_fifty_views_per_user(users, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_VIEWS", 3)
    for i in range(3):
        create(users["sales1"], name=f"V{i}")
    with pytest.raises(ValidationError, match="每人最多保存 3 个视图"):
        create(users["sales1"], name="V3")
    assert SavedView.objects.filter(owner=users["sales1"]).count() == 3


def test_only_settings_holders_share(users):
    with pytest.raises(PermissionDenied):
        create(users["manager"], is_shared=True)
    mine = create(users["manager"], name="mine")
    with pytest.raises(PermissionDenied):
        services.saved_view_update(actor=users["manager"], view=mine, is_shared=True)
    assert not SavedView.objects.filter(is_shared=True).exists()
    shared = create(users["administrator"], name="共享", is_shared=True)
    assert shared.is_shared


def test_shared_views_are_seen_by_all_and_kept_by_settings_holders(users):
    shared = create(users["administrator"], name="全公司", is_shared=True)
    personal = create(users["administrator"], name="私人")
    assert list(selectors.views_visible(users["sales1"], "customers")) == [shared]
    assert selectors.views_visible(users["norole"], "customers").count() == 0
    for action in (
        lambda: services.saved_view_update(actor=users["sales1"], view=shared, name="改名"),
        lambda: services.saved_view_delete(actor=users["sales1"], view=shared),
        lambda: services.saved_view_set_default(actor=users["sales1"], view=shared),
        lambda: services.saved_view_delete(actor=users["sales1"], view=personal),
    ):
        with pytest.raises(PermissionDenied):
            action()
    assert SavedView.objects.get(pk=shared.pk).name == "全公司" and SavedView.objects.count() == 2
    # Another holder of customers.settings keeps shared views too.
    users["manager"].roles.add(*users["administrator"].roles.all())
    from crm.accounts.models import User

    manager = User.objects.get(pk=users["manager"].pk)
    services.saved_view_update(actor=manager, view=shared, name="全公司客户")
    assert SavedView.objects.get(pk=shared.pk).name == "全公司客户"


def test_one_default_per_user_and_list(users):
    first = create(users["sales1"], name="A", is_default=True)
    second = create(users["sales1"], name="B")
    services.saved_view_set_default(actor=users["sales1"], view=second)
    assert selectors.default_view(users["sales1"], "customers") == second
    assert not SavedView.objects.get(pk=first.pk).is_default
    services.saved_view_set_default(actor=users["sales1"], view=second, default=False)
    assert selectors.default_view(users["sales1"], "customers") is None
    assert OperationLog.objects.filter(action="saved_view.default_cleared").count() == 1


def test_delete_logs_and_removes(users):
    view = create(users["sales1"])
    pk = view.pk
    services.saved_view_delete(actor=users["sales1"], view=view)
    assert not SavedView.objects.exists()
    assert OperationLog.objects.filter(action="saved_view.deleted", target_id=str(pk)).exists()


def test_hidden_fields_cannot_be_saved(users):
    from crm.customers.tests.test_field_permissions import restrict

    sales1 = restrict(users["sales1"], {"customers.mobile": "hidden", "customers.status": "hidden"})
    for params in (
        {"conditions": [{"field": "mobile", "op": "contains", "value": "138"}]},
        {"columns": ["status"]},
    ):
        with pytest.raises(ValidationError):
            create(sales1, params=params)
    assert not SavedView.objects.exists()


def test_unknown_list_is_refused(users):
    with pytest.raises(ValidationError, match="未知的列表"):
        services.saved_view_create(actor=users["sales1"], list_key="leads", name="x", params={})
