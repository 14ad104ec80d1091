"""Deliveries reach a real HTTP server, signed; failures retry with back-off, redirects fail, and
admins can replay a delivery or send a test event."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from crm.webhooks import services
from crm.webhooks.models import WebhookDelivery
from crm.webhooks.tasks import retry_due_webhooks

pytestmark = pytest.mark.django_db


def _event(name="customer.transferred"):
    return {
        "event": name,
        "occurred_at": timezone.now().isoformat(),
        "actor": None,
        "data": {
            "type": "customer",
            "id": 7,
            "name": "深圳华创",
            "changes": {},
            "url": "/api/v1/customers/7/",
        },
    }


def _queue(endpoint, django_capture_on_commit_callbacks, event="customer.transferred"):
    with django_capture_on_commit_callbacks(execute=True):
        ids = services.deliveries_create_for_events([_event(event)])
    return WebhookDelivery.objects.get(pk=ids[0])


def test_receiver_gets_signed_json_that_verifies(
    make_endpoint, receiver, immediate, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint()
    delivery = _queue(endpoint, django_capture_on_commit_callbacks)

    assert delivery.status == WebhookDelivery.Status.SUCCESS
    assert delivery.attempts == 1 and delivery.response_status == 200 and delivery.delivered_at
    assert delivery.response_ms is not None and delivery.response_ms >= 0
    assert len(delivery.response_body) == 2048  # only the first 2 KB of the answer are kept
    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "CRM-Webhooks/1"
    assert headers["X-CRM-Event"] == "customer.transferred"
    assert headers["X-CRM-Delivery"] == str(delivery.uuid)
    timestamp = headers["X-CRM-Timestamp"]
    expected = hmac.new(
        endpoint.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-CRM-Signature"] == f"sha256={expected}"
    assert abs(int(timestamp) - timezone.now().timestamp()) < 60
    payload = json.loads(body)
    assert payload["id"] == str(delivery.uuid) and payload["event"] == "customer.transferred"
    assert payload["data"]["name"] == "深圳华创"


def test_a_signature_with_another_secret_does_not_verify(
    make_endpoint, receiver, immediate, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint()
    _queue(endpoint, django_capture_on_commit_callbacks)
    (request,) = receiver.requests
    wrong = services.sign("whsec_other", int(request["headers"]["X-CRM-Timestamp"]), request["body"])
    assert wrong != request["headers"]["X-CRM-Signature"]


def test_non_2xx_retries_with_back_off_then_fails(
    make_endpoint, receiver, immediate, django_capture_on_commit_callbacks
):
    make_endpoint(path="/fail")
    delivery = _queue(None, django_capture_on_commit_callbacks)
    waits = [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=12),
    ]
    for attempt, wait in enumerate(waits, start=1):
        delivery.refresh_from_db()
        assert delivery.status == WebhookDelivery.Status.RETRYING
        assert delivery.attempts == attempt and delivery.response_status == 500
        assert delivery.error == "接收方返回 HTTP 500。"
        remaining = delivery.next_attempt_at - timezone.now()
        assert wait - timedelta(seconds=30) < remaining <= wait
        # Not due yet: the sweeper leaves it alone.
        assert services.deliveries_retry_due() == 0
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
        retry_due_webhooks()  # the periodic job (immediate mode) sends it again
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 6 and delivery.next_attempt_at is None
    assert len(receiver.requests) == 6
    assert services.deliveries_retry_due() == 0


def test_a_redirect_is_a_failure_and_is_not_followed(
    make_endpoint, receiver, immediate, django_capture_on_commit_callbacks
):
    make_endpoint(path="/redirect")
    delivery = _queue(None, django_capture_on_commit_callbacks)
    assert receiver.paths() == ["/redirect"]  # /ok was never requested
    assert delivery.status == WebhookDelivery.Status.RETRYING and delivery.response_status == 302
    assert "不跟随重定向" in delivery.error


def test_an_unreachable_receiver_is_a_failed_attempt(
    users, allow_local, immediate, receiver, django_capture_on_commit_callbacks
):
    endpoint = services.endpoint_create(
        actor=users["admin"], values={"name": "关掉的", "url": receiver.url(), "events": ["customer.created"]}
    )
    receiver.server.shutdown()
    receiver.server.server_close()
    delivery = _queue(endpoint, django_capture_on_commit_callbacks, event="customer.created")
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert delivery.error.startswith("连接失败") and delivery.response_status is None


def test_the_ssrf_guard_runs_again_at_delivery_time(
    make_endpoint, receiver, immediate, allow_local, users, django_capture_on_commit_callbacks
):
    make_endpoint()
    services.allowed_host_delete(actor=users["admin"], entry=allow_local)
    delivery = _queue(None, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    assert delivery.status == WebhookDelivery.Status.RETRYING and "不允许发送" in delivery.error


def test_a_delivery_in_flight_or_done_is_not_sent_twice(
    make_endpoint, receiver, immediate, django_capture_on_commit_callbacks
):
    make_endpoint()
    delivery = _queue(None, django_capture_on_commit_callbacks)
    assert services.delivery_attempt(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 1


def test_replay_sends_the_same_event_as_a_new_delivery(
    users, make_endpoint, receiver, immediate, django_capture_on_commit_callbacks
):
    make_endpoint(path="/gone")
    original = _queue(None, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        replay = services.delivery_replay(actor=users["admin"], delivery=original)
    replay.refresh_from_db()
    assert replay.pk != original.pk and replay.replay_of == original
    assert replay.event == original.event and replay.attempts == 1
    assert replay.payload["id"] == str(replay.uuid)
    assert {k: v for k, v in replay.payload.items() if k != "id"} == {
        k: v for k, v in original.payload.items() if k != "id"
    }
    assert [json.loads(r["body"])["data"] for r in receiver.requests] == [original.payload["data"]] * 2


def test_send_test_event(users, make_endpoint, receiver, immediate, django_capture_on_commit_callbacks):
    endpoint = make_endpoint()
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.endpoint_send_test(actor=users["admin"], endpoint=endpoint)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCESS and delivery.event == "webhook.test"
    assert receiver.requests[0]["headers"]["X-CRM-Event"] == "webhook.test"


def test_an_inactive_endpoint_does_not_get_queued_deliveries(
    users, make_endpoint, receiver, immediate, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint()
    with django_capture_on_commit_callbacks(execute=False):
        ids = services.deliveries_create_for_events([_event()])
    endpoint.is_active = False
    endpoint.save(update_fields=["is_active"])
    delivery = services.delivery_attempt(delivery_id=ids[0])
    assert delivery.status == WebhookDelivery.Status.FAILED and delivery.error == "接收地址已停用，未发送。"
    assert receiver.requests == []
