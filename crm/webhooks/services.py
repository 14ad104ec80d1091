"""Every write of the webhooks module: endpoints, the allow-list, deliveries, attempts, replays."""

import hashlib
import hmac
import http.client
import json
import logging
import re
import ssl
import time
import uuid
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.audit.services import log_action
from crm.webhooks import netguard
from crm.webhooks.events import EVENTS, TEST_EVENT
from crm.webhooks.models import WebhookAllowedHost, WebhookDelivery, WebhookEndpoint, new_secret

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
RESPONSE_BODY_LIMIT = 2048
# Waits after the 1st, 2nd, … failed attempt; after the last one the delivery is failed.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(seconds=60)  # an attempt in flight is not picked up again by the sweeper
USER_AGENT = "CRM-Webhooks/1"
HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}\.?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$"
)


# ---------------------------------------------------------------- allow-list


def allow_list() -> netguard.AllowList:
    return netguard.AllowList.from_entries(WebhookAllowedHost.objects.values_list("host", flat=True))


def _normalise_allowed_host(value: str) -> str:
    value = (value or "").strip().lower()
    if value.startswith("[") and "]" in value:
        value = value[1:].replace("]", "", 1)
    if not value:
        raise ValidationError({"host": _("请填写主机名、IP 地址或网段。")})
    network = netguard.parse_network(value)
    if network is not None:
        if network.prefixlen < (8 if network.version == 4 else 16):
            raise ValidationError({"host": _("网段范围太大，请缩小（IPv4 至少 /8，IPv6 至少 /16）。")})
        if network.num_addresses == 1:
            return str(network.network_address)
        return str(network)
    if "/" in value or not HOSTNAME_RE.match(value):
        raise ValidationError(
            {
                "host": _(
                    "“%(value)s”不是有效的主机名、IP 地址或网段"
                    "（例如 hooks.internal、10.0.0.5、10.0.0.0/24）。"
                )
                % {"value": value}
            }
        )
    return value.rstrip(".")


@transaction.atomic
def allowed_host_create(*, actor, host: str, note: str = "", ip: str | None = None) -> WebhookAllowedHost:
    value = _normalise_allowed_host(host)
    if WebhookAllowedHost.objects.filter(host=value).exists():
        raise ValidationError({"host": _("“%(value)s”已在允许列表中。") % {"value": value}})
    entry = WebhookAllowedHost.objects.create(host=value, note=(note or "").strip()[:200], created_by=actor)
    log_action(
        actor=actor,
        action="webhook_allowed_host.created",
        target=entry,
        changes={"host": [None, value]},
        ip_address=ip,
    )
    return entry


@transaction.atomic
def allowed_host_delete(*, actor, entry: WebhookAllowedHost, ip: str | None = None) -> None:
    log_action(
        actor=actor,
        action="webhook_allowed_host.deleted",
        target=entry,
        changes={"host": [entry.host, None]},
        ip_address=ip,
    )
    entry.delete()


# ---------------------------------------------------------------- endpoints


def validate_url(url: str) -> str:
    """The URL, stripped, if deliveries may go there now; ValidationError({"url": …}) otherwise."""
    url = (url or "").strip()
    if len(url) > 500:
        raise ValidationError({"url": _("接收地址太长（最多 500 个字符）。")})
    try:
        netguard.check(url, allow_list())
    except netguard.UnsafeURLError as exc:
        raise ValidationError({"url": exc.messages}) from None
    return url


def _clean_values(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    name = str(values.get("name") or "").strip()
    if not name:
        errors["name"] = [_("请填写名称。")]
    elif len(name) > 100:
        errors["name"] = [_("名称最多 100 个字符。")]
    events = values.get("events") or []
    if not isinstance(events, (list, tuple)) or not all(isinstance(e, str) for e in events):
        errors["events"] = [_("订阅事件格式不正确。")]
        events = []
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        errors["events"] = [_("未知事件：%(events)s。") % {"events": "、".join(unknown)}]
    elif not events:
        errors["events"] = [_("请至少选择一个事件。")]
    url = ""
    try:
        url = validate_url(str(values.get("url") or ""))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "url": url,
        "events": [e for e in EVENTS if e in set(events)],
        "is_active": bool(values.get("is_active", True)),
    }


@transaction.atomic
def endpoint_create(*, actor, values: dict[str, Any], ip: str | None = None) -> WebhookEndpoint:
    clean = _clean_values(values)
    endpoint = WebhookEndpoint.objects.create(created_by=actor, **clean)
    log_action(
        actor=actor,
        action="webhook.created",
        target=endpoint,
        changes={k: [None, v] for k, v in clean.items()},
        ip_address=ip,
    )
    return endpoint


@transaction.atomic
def endpoint_update(
    *, actor, endpoint: WebhookEndpoint, values: dict[str, Any], ip: str | None = None
) -> WebhookEndpoint:
    clean = _clean_values({"is_active": endpoint.is_active, **values})
    changes = {k: [getattr(endpoint, k), v] for k, v in clean.items() if getattr(endpoint, k) != v}
    if changes:
        for key, value in clean.items():
            setattr(endpoint, key, value)
        endpoint.save(update_fields=[*clean.keys(), "updated_at"])
        log_action(actor=actor, action="webhook.updated", target=endpoint, changes=changes, ip_address=ip)
    return endpoint


@transaction.atomic
def endpoint_delete(*, actor, endpoint: WebhookEndpoint, ip: str | None = None) -> None:
    log_action(
        actor=actor,
        action="webhook.deleted",
        target=endpoint,
        changes={"url": [endpoint.url, None]},
        ip_address=ip,
    )
    endpoint.delete()


@transaction.atomic
def endpoint_regenerate_secret(*, actor, endpoint: WebhookEndpoint, ip: str | None = None) -> WebhookEndpoint:
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    # The secret itself never goes into the log.
    log_action(actor=actor, action="webhook.secret_regenerated", target=endpoint, ip_address=ip)
    return endpoint


# ---------------------------------------------------------------- deliveries


def _enqueue(delivery_ids: list[int]) -> None:
    from crm.webhooks.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        try:
            deliver_webhook(delivery_id)
        except Exception:  # the sweeper picks a pending delivery up later
            logger.exception("webhooks: could not enqueue delivery %s", delivery_id)


def _new_delivery(endpoint: WebhookEndpoint, event: dict[str, Any], replay_of=None) -> WebhookDelivery:
    delivery_uuid = uuid.uuid4()
    return WebhookDelivery(
        uuid=delivery_uuid,
        endpoint=endpoint,
        event=event["event"],
        payload={"id": str(delivery_uuid), **{k: v for k, v in event.items() if k != "id"}},
        next_attempt_at=timezone.now(),
        replay_of=replay_of,
    )


def deliveries_create_for_events(events: list[dict[str, Any]]) -> list[int]:
    """One delivery per (event, active endpoint subscribed to it), one INSERT; then the jobs."""
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.events]
    rows = [
        _new_delivery(endpoint, event)
        for event in events
        for endpoint in endpoints
        if event["event"] in endpoint.events
    ]
    if not rows:
        return []
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
        if rows[0].pk is None:  # backends that do not return ids from bulk INSERT
            ids = list(
                WebhookDelivery.objects.filter(uuid__in=[r.uuid for r in rows]).values_list("pk", flat=True)
            )
        else:
            ids = [r.pk for r in rows]
        transaction.on_commit(lambda: _enqueue(ids))
    return ids


@transaction.atomic
def endpoint_send_test(*, actor, endpoint: WebhookEndpoint, ip: str | None = None) -> WebhookDelivery:
    event = {
        "event": TEST_EVENT,
        "occurred_at": timezone.now().isoformat(),
        "actor": {"id": actor.pk, "name": actor.display_name} if getattr(actor, "pk", None) else None,
        "data": {"type": "test", "id": endpoint.pk, "name": endpoint.name, "changes": {}, "url": None},
    }
    delivery = _new_delivery(endpoint, event)
    delivery.save()
    log_action(actor=actor, action="webhook.test_sent", target=endpoint, ip_address=ip)
    transaction.on_commit(lambda: _enqueue([delivery.pk]))
    return delivery


@transaction.atomic
def delivery_replay(*, actor, delivery: WebhookDelivery, ip: str | None = None) -> WebhookDelivery:
    """A new delivery of the same event (same payload, its own delivery id) to the same endpoint."""
    replay = _new_delivery(delivery.endpoint, delivery.payload, replay_of=delivery)
    replay.event = delivery.event
    replay.save()
    log_action(
        actor=actor,
        action="webhook.replayed",
        target=delivery.endpoint,
        changes={"delivery": [str(delivery.uuid), str(replay.uuid)]},
        ip_address=ip,
    )
    transaction.on_commit(lambda: _enqueue([replay.pk]))
    return replay


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> dict[str, Any]:
    """One POST; returns response_status, response_ms, response_body, error, ok."""
    result: dict[str, Any] = {"response_status": None, "response_ms": None, "response_body": "", "error": ""}
    try:
        target, address = netguard.check(endpoint.url, allow_list())
    except netguard.UnsafeURLError as exc:
        return {**result, "ok": False, "error": exc.messages[0]}
    body = body_of(delivery.payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-CRM-Event": delivery.event,
        "X-CRM-Delivery": str(delivery.uuid),
        "X-CRM-Timestamp": str(timestamp),
        "X-CRM-Signature": sign(endpoint.secret, timestamp, body),
    }
    connection = netguard.connection_for(target, address, timeout=TIMEOUT_SECONDS)
    started = time.monotonic()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read(RESPONSE_BODY_LIMIT)
        status = response.status
    except TimeoutError:
        return {
            **result,
            "ok": False,
            "error": _("连接超时（%(seconds)s 秒）。") % {"seconds": TIMEOUT_SECONDS},
        }
    except ssl.SSLError as exc:
        return {
            **result,
            "ok": False,
            "error": (_("TLS 握手或证书校验失败：%(error)s") % {"error": exc})[:500],
        }
    except OSError as exc:
        return {**result, "ok": False, "error": (_("连接失败：%(error)s") % {"error": exc})[:500]}
    except http.client.HTTPException as exc:
        return {**result, "ok": False, "error": (_("接收方的响应无效：%(error)s") % {"error": exc})[:500]}
    finally:
        elapsed = int((time.monotonic() - started) * 1000)
        connection.close()
    result.update(
        response_status=status,
        response_ms=elapsed,
        response_body=raw.decode("utf-8", errors="replace").replace("\x00", ""),
    )
    if 200 <= status < 300:
        return {**result, "ok": True}
    if 300 <= status < 400:
        error = _("接收方返回重定向（HTTP %(status)s），Webhook 不跟随重定向，请填写最终地址。") % {
            "status": status
        }
    else:
        error = _("接收方返回 HTTP %(status)s。") % {"status": status}
    return {**result, "ok": False, "error": error}


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Send a due pending/retrying delivery once and record the outcome. None if it is not due
    (already sent, or another worker holds it)."""
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=now + LEASE)
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        outcome = {
            "ok": False,
            "final": True,
            "error": _("接收地址已停用，未发送。"),
            "response_status": None,
            "response_ms": None,
            "response_body": "",
        }
    else:
        outcome = _post(endpoint, delivery)
    delivery.attempts += 1
    delivery.response_status = outcome["response_status"]
    delivery.response_ms = outcome["response_ms"]
    delivery.response_body = outcome["response_body"]
    delivery.error = outcome["error"][:500]
    finished = timezone.now()
    if outcome["ok"]:
        delivery.status = WebhookDelivery.Status.SUCCESS
        delivery.delivered_at = finished
        delivery.next_attempt_at = None
    elif outcome.get("final") or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.status = WebhookDelivery.Status.RETRYING
        delivery.next_attempt_at = finished + BACKOFF[delivery.attempts - 1]
    delivery.save(
        update_fields=[
            "attempts",
            "status",
            "next_attempt_at",
            "response_status",
            "response_ms",
            "response_body",
            "error",
            "delivered_at",
        ]
    )
    return delivery


def deliveries_retry_due(*, limit: int = 500) -> int:
    """The sweeper: queue every pending or retrying delivery whose time has come."""
    ids = list(
        WebhookDelivery.objects.filter(
            status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
            next_attempt_at__lte=timezone.now(),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    _enqueue(ids)
    return len(ids)
