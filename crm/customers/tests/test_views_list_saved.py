"""Saved views on the customer list (CUS-2): save, open, rename, delete, default; personal and
shared; a view never shows more than the user's own scope."""

import pytest

from crm.customers import services
from crm.customers.models import DictionaryItem
from crm.savedviews import services as view_services
from crm.savedviews.models import SavedView

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [c.name for c in response.context["rows"]]


@pytest.fixture
def data(users):
    status = DictionaryItem.objects.filter(kind="status").first()
    services.customer_create(actor=users["sales1"], values={"name": "甲公司", "status": status})
    services.customer_create(actor=users["sales1"], values={"name": "乙公司"})
    services.customer_create(actor=users["sales2"], values={"name": "丙公司", "status": status})
    return {"users": users, "status": status}


def save(client, query, name="重点", follow=False, **extra):
    data = {"list": "customers", "name": name, "query": query, "next": "/customers/?scope=all", **extra}
    return client.post("/saved-views/", data, follow=follow)


def test_save_then_open_replays_the_parameters(client, data):
    client.force_login(data["users"]["sales1"])
    query = f"scope=mine&f=status&op=is&v={data['status'].pk}&sort=name"
    response = save(client, query)
    view = SavedView.objects.get()
    assert view.params["conditions"] == [{"field": "status", "op": "is", "value": str(data["status"].pk)}]
    assert response.status_code == 302 and f"view={view.pk}" in response.url
    opened = client.get(f"/customers/?view={view.pk}")
    assert opened.status_code == 302
    page = client.get(opened.url)
    assert names(page) == ["甲公司"]
    assert page.context["active_view"] == view and not page.context["active_view_modified"]
    html = page.content.decode()
    assert 'data-testid="saved-view"' in html and "重点" in html
    # Changing the sort marks the view as modified and offers to save over it.
    changed = client.get(opened.url.replace("sort=name", "sort=-created_at"))
    assert (
        changed.context["active_view_modified"] and 'data-testid="replace-view"' in changed.content.decode()
    )


def test_bad_query_is_refused_with_a_message_and_nothing_saved(client, data):
    client.force_login(data["users"]["sales1"])
    response = save(client, "f=remark&op=contains&v=x", follow=True)
    assert "不能按字段“remark”筛选" in response.content.decode()
    response = save(client, "scope=all", name="", follow=True)
    assert "请填写视图名称" in response.content.decode()
    assert not SavedView.objects.exists()


def test_rename_default_and_delete_through_the_menu(client, data):
    sales1 = data["users"]["sales1"]
    client.force_login(sales1)
    save(client, "scope=mine")
    view = SavedView.objects.get()
    assert client.post(f"/saved-views/{view.pk}/rename/", {"name": "我的"}).status_code == 302
    assert SavedView.objects.get().name == "我的"
    client.post(f"/saved-views/{view.pk}/default/")
    assert SavedView.objects.get().is_default
    # Coming to the list without parameters opens the default view.
    response = client.get("/customers/")
    assert response.status_code == 302 and f"view={view.pk}" in response.url
    client.post(f"/saved-views/{view.pk}/undefault/")
    assert client.get("/customers/").status_code == 200
    client.post(f"/saved-views/{view.pk}/delete/")
    assert not SavedView.objects.exists()


def test_others_cannot_touch_a_personal_view(client, data):
    users = data["users"]
    view = view_services.saved_view_create(
        actor=users["sales1"], list_key="customers", name="私人", params={"scope": "mine"}
    )
    for username in ("sales2", "administrator"):
        client.force_login(users[username])
        assert client.get(f"/customers/?view={view.pk}").status_code == 404
        for action in ("rename", "delete", "default", "replace"):
            assert client.post(f"/saved-views/{view.pk}/{action}/", {"name": "x"}).status_code == 404
    assert SavedView.objects.get().name == "私人" and not SavedView.objects.get().is_default


def test_shared_views_need_the_settings_permission(client, data):
    users = data["users"]
    client.force_login(users["sales1"])
    save(client, "scope=all", name="共享尝试", is_shared="1")
    assert not SavedView.objects.exists()
    shared = view_services.saved_view_create(
        actor=users["administrator"], list_key="customers", name="全部客户", params={}, is_shared=True
    )
    page = client.get("/customers/?scope=all").content.decode()
    assert "全部客户" in page and 'data-testid="save-view-shared"' not in page
    for action in ("rename", "delete", "replace"):
        assert client.post(f"/saved-views/{shared.pk}/{action}/", {"name": "x"}).status_code == 403
    assert client.post(f"/saved-views/{shared.pk}/default/").status_code == 403
    assert SavedView.objects.get().name == "全部客户"
    client.force_login(users["administrator"])
    assert 'data-testid="save-view-shared"' in client.get("/customers/?scope=all").content.decode()
    client.post(f"/saved-views/{shared.pk}/rename/", {"name": "公司客户"})
    assert SavedView.objects.get().name == "公司客户"


def test_a_shared_view_never_shows_more_than_the_users_scope(client, data):
    users = data["users"]
    shared = view_services.saved_view_create(
        actor=users["administrator"],
        list_key="customers",
        name="全部",
        params={"scope": "all"},
        is_shared=True,
    )
    client.force_login(users["administrator"])
    assert set(names(client.get(client.get(f"/customers/?view={shared.pk}").url))) == {
        "甲公司",
        "乙公司",
        "丙公司",
    }
    client.force_login(users["sales2"])
    assert names(client.get(client.get(f"/customers/?view={shared.pk}").url)) == ["丙公司"]
    client.force_login(users["norole"])
    assert client.get(f"/customers/?view={shared.pk}").status_code == 403


def test_a_view_with_a_field_now_hidden_shows_the_filter_message(client, data):
    from crm.customers.tests.test_field_permissions import restrict

    users = data["users"]
    view = view_services.saved_view_create(
        actor=users["administrator"],
        list_key="customers",
        name="按手机",
        params={"conditions": [{"field": "mobile", "op": "contains", "value": "138"}]},
        is_shared=True,
    )
    sales1 = restrict(users["sales1"], {"customers.mobile": "hidden"})
    client.force_login(sales1)
    response = client.get(client.get(f"/customers/?view={view.pk}").url)
    assert response.status_code == 400
    assert "筛选条件“mobile”无效" in response.content.decode()


def test_list_with_views_keeps_a_bounded_number_of_queries(client, data, django_assert_max_num_queries):
    users = data["users"]
    for i in range(10):
        view_services.saved_view_create(actor=users["sales1"], list_key="customers", name=f"V{i}", params={})
        view_services.saved_view_create(
            actor=users["administrator"], list_key="customers", name=f"S{i}", params={}, is_shared=True
        )
    client.force_login(users["sales1"])
    view = SavedView.objects.filter(owner=users["sales1"]).first()
    url = client.get(f"/customers/?view={view.pk}").url
    with django_assert_max_num_queries(16):
        response = client.get(url)
    assert len(response.context["saved_views"]) == 20


def test_a_view_on_a_custom_field_later_deactivated_shows_the_filter_message(client, data):
    from crm.customfields.services import customfield_create, customfield_set_active

    users = data["users"]
    field = customfield_create(
        actor=users["admin"],
        target="customers",
        values={"key": "note", "label": "备注说明", "field_type": "text", "searchable": True},
    )
    view = view_services.saved_view_create(
        actor=users["sales1"],
        list_key="customers",
        name="按备注",
        params={
            "conditions": [{"field": "custom.note", "op": "contains", "value": "重要"}],
            "custom_columns": ["note"],
        },
    )
    assert view.params["custom_columns"] == ["note"]
    customfield_set_active(actor=users["admin"], field=field, active=False)
    client.force_login(users["sales1"])
    response = client.get(client.get(f"/customers/?view={view.pk}").url)
    assert response.status_code == 400
    assert "筛选条件“custom.note”无效" in response.content.decode()
