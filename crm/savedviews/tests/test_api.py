"""/api/v1/saved-views/: the same rules as the pages."""

import pytest

from crm.api.tests import errors_text, token_client
from crm.audit.models import OperationLog
from crm.savedviews import services
from crm.savedviews.models import SavedView

pytestmark = pytest.mark.django_db
URL = "/api/v1/saved-views/"


def test_crud_of_a_personal_view(users):
    api = token_client(users["sales1"])
    response = api.post(
        URL,
        {"list": "customers", "name": "我的", "params": {"scope": "mine", "sort": "name"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["params"] == {"scope": "mine", "sort": "name"} and body["can_edit"]
    assert body["url"].startswith("/customers/?scope=mine") and f"view={body['id']}" in body["url"]
    pk = body["id"]
    assert [v["name"] for v in api.get(URL, {"list": "customers"}).json()] == ["我的"]
    response = api.patch(f"{URL}{pk}/", {"name": "我的客户"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "我的客户"
    response = api.post(f"{URL}{pk}/default/", {}, format="json")
    assert response.status_code == 200 and response.json()["is_default"]
    assert api.delete(f"{URL}{pk}/").status_code == 204
    assert not SavedView.objects.exists()
    assert OperationLog.objects.filter(action__startswith="saved_view.").count() == 4


def test_bad_params_answer_400_with_a_message(users):
    api = token_client(users["sales1"])
    response = api.post(
        URL,
        {"list": "customers", "name": "x", "params": {"conditions": [{"field": "remark", "op": "is"}]}},
        format="json",
    )
    assert response.status_code == 400 and "不能按字段“remark”筛选" in errors_text(response)
    response = api.post(URL, {"list": "customers", "name": "", "params": {}}, format="json")
    assert response.status_code == 400 and "请填写视图名称" in errors_text(response)
    response = api.post(URL, {"list": "customers", "name": "x", "owner": 1}, format="json")
    assert response.status_code == 400
    assert api.get(URL, {"list": "nope"}).status_code == 400
    assert not SavedView.objects.exists()


def test_permissions(users):
    personal = services.saved_view_create(actor=users["sales1"], list_key="customers", name="私人", params={})
    shared = services.saved_view_create(
        actor=users["administrator"], list_key="customers", name="共享", params={}, is_shared=True
    )
    sales2 = token_client(users["sales2"])
    assert [v["name"] for v in sales2.get(URL).json()] == ["共享"]
    assert sales2.get(f"{URL}{personal.pk}/").status_code == 404
    assert sales2.patch(f"{URL}{personal.pk}/", {"name": "x"}, format="json").status_code == 404
    assert sales2.delete(f"{URL}{personal.pk}/").status_code == 404
    assert sales2.patch(f"{URL}{shared.pk}/", {"name": "x"}, format="json").status_code == 403
    assert sales2.delete(f"{URL}{shared.pk}/").status_code == 403
    assert sales2.post(f"{URL}{shared.pk}/default/", {}, format="json").status_code == 403
    response = sales2.post(URL, {"list": "customers", "name": "共享2", "is_shared": True}, format="json")
    assert response.status_code == 403
    assert token_client(users["norole"]).get(URL).status_code == 403
    assert sorted(SavedView.objects.values_list("name", flat=True)) == ["共享", "私人"]
    admin = token_client(users["administrator"])
    assert admin.patch(f"{URL}{shared.pk}/", {"name": "公司"}, format="json").status_code == 200
