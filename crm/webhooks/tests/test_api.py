"""/api/v1/webhooks/ and /api/v1/webhook-deliveries/: settings admins only, 404 for unknown ids,
Chinese 400s that change nothing."""

import pytest
from rest_framework.test import APIClient

from crm.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(users):
    client = APIClient()
    client.force_authenticate(users["admin"])
    return client


def test_salesperson_gets_403_everywhere(users, make_endpoint):
    endpoint = make_endpoint()
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="customer.transferred")
    client = APIClient()
    client.force_authenticate(users["sales1"])
    assert client.get("/api/v1/webhooks/").status_code == 403
    assert client.get(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 403
    assert client.post("/api/v1/webhooks/", {}, format="json").status_code == 403
    assert client.delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 403
    assert client.post(f"/api/v1/webhooks/{endpoint.pk}/regenerate-secret/").status_code == 403
    assert client.get("/api/v1/webhook-deliveries/").status_code == 403
    assert client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/").status_code == 403
    assert WebhookEndpoint.objects.count() == 1 and WebhookDelivery.objects.count() == 1


def test_unauthenticated_is_refused():
    assert APIClient().get("/api/v1/webhooks/").status_code in (401, 403)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/webhooks/999999/"),
        ("put", "/api/v1/webhooks/999999/"),
        ("patch", "/api/v1/webhooks/999999/"),
        ("delete", "/api/v1/webhooks/999999/"),
        ("post", "/api/v1/webhooks/999999/test/"),
        ("post", "/api/v1/webhooks/99999999999999999999/regenerate-secret/"),
        ("get", "/api/v1/webhook-deliveries/999999/"),
        ("post", "/api/v1/webhook-deliveries/999999/replay/"),
        ("get", "/api/v1/webhooks/abc/"),
    ],
)
def test_unknown_ids_answer_404(api, method, url):
    assert getattr(api, method)(url, {}, format="json").status_code == 404


def test_crud(api, allow_local, receiver):
    response = api.post(
        "/api/v1/webhooks/",
        {"name": "财务系统", "url": receiver.url(), "events": ["contract.approved", "receivable.approved"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["is_active"] is True
    pk = body["id"]
    assert [e["id"] for e in api.get("/api/v1/webhooks/").json()["results"]] == [pk]

    response = api.patch(f"/api/v1/webhooks/{pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert response.json()["events"] == ["contract.approved", "receivable.approved"]

    old = body["secret"]
    new = api.post(f"/api/v1/webhooks/{pk}/regenerate-secret/").json()["secret"]
    assert new != old

    assert api.delete(f"/api/v1/webhooks/{pk}/").status_code == 204
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "x", "url": "http://0x7f.1/", "events": ["lead.created"]}, "url", "不允许发送"),
        ({"name": "x", "url": "http://[::1]:8000/", "events": ["lead.created"]}, "url", "不允许发送"),
        ({"name": "x", "url": "javascript:alert(1)", "events": ["lead.created"]}, "url", "http://"),
        ({"name": "x", "url": "https://93.184.216.34/", "events": []}, "events", "请至少选择一个事件。"),
        ({"name": "x", "url": "https://93.184.216.34/", "events": ["nope"]}, "events", "nope"),
        (
            {"name": "x", "url": "https://93.184.216.34/", "events": ["lead.created"], "secret": "mine"},
            "secret",
            "未知字段",
        ),
    ],
)
def test_bad_input_answers_400_in_chinese_and_changes_nothing(api, data, field, message):
    response = api.post("/api/v1/webhooks/", data, format="json")
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert WebhookEndpoint.objects.count() == 0


def test_deliveries_list_filters_and_replay(
    api, make_endpoint, receiver, immediate, django_capture_on_commit_callbacks
):
    first = make_endpoint(name="一")
    second = make_endpoint(name="二")
    ok = WebhookDelivery.objects.create(
        endpoint=first,
        event="customer.transferred",
        status="success",
        payload={"event": "customer.transferred"},
    )
    WebhookDelivery.objects.create(endpoint=second, event="customer.transferred", status="failed")
    rows = api.get("/api/v1/webhook-deliveries/", {"endpoint": first.pk}).json()["results"]
    assert [r["id"] for r in rows] == [ok.pk]
    rows = api.get("/api/v1/webhook-deliveries/", {"status": "failed"}).json()["results"]
    assert [r["endpoint"] for r in rows] == [second.pk]
    assert api.get("/api/v1/webhook-deliveries/", {"status": "weird"}).status_code == 400

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/webhook-deliveries/{ok.pk}/replay/")
    assert response.status_code == 202
    replay = WebhookDelivery.objects.get(pk=response.json()["id"])
    assert replay.replay_of == ok and replay.status == "success"
    assert receiver.requests[0]["headers"]["X-CRM-Delivery"] == str(replay.uuid)


def test_list_queries_are_bounded(api, make_endpoint, django_assert_max_num_queries):
    endpoint = make_endpoint()
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=endpoint, event="customer.transferred") for _ in range(40)]
    )
    with django_assert_max_num_queries(6):
        assert len(api.get("/api/v1/webhook-deliveries/").json()["results"]) == 40
    for i in range(10):
        make_endpoint(name=f"系统{i}")
    with django_assert_max_num_queries(6):
        assert len(api.get("/api/v1/webhooks/").json()["results"]) == 11


def test_schema_documents_the_webhook_api():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert {
        "/api/v1/webhooks/",
        "/api/v1/webhooks/{id}/",
        "/api/v1/webhooks/{id}/regenerate-secret/",
        "/api/v1/webhooks/{id}/test/",
        "/api/v1/webhook-deliveries/",
        "/api/v1/webhook-deliveries/{id}/",
        "/api/v1/webhook-deliveries/{id}/replay/",
    } <= set(paths)
    assert set(paths["/api/v1/webhooks/{id}/"]) == {"get", "put", "patch", "delete"}
    assert "202" in paths["/api/v1/webhook-deliveries/{id}/replay/"]["post"]["responses"]
