"""From operation-log rows to webhook deliveries.

crm.audit.services calls `webhook_events_logged(logs)` after writing log rows. The call must cost
nothing when no endpoint listens: the set of subscribed events lives in the cache (invalidated when
an endpoint is saved or deleted), so a request whose actions nobody subscribed to runs no query on
the webhook tables. Deliveries are created after the business transaction commits and never make
the business action fail."""

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from crm.webhooks.events import ACTION_EVENTS, RECORD_TYPE_BY_CODE

logger = logging.getLogger(__name__)

SUBSCRIBED_CACHE_KEY = "webhooks:subscribed-events:v1"
SUBSCRIBED_CACHE_SECONDS = 24 * 3600


def subscribed_events() -> frozenset[str]:
    """Events at least one active endpoint subscribed to (cached)."""
    cached = cache.get(SUBSCRIBED_CACHE_KEY)
    if cached is not None:
        return frozenset(cached)
    from crm.webhooks.models import WebhookEndpoint

    events: set[str] = set()
    for endpoint_events in WebhookEndpoint.objects.filter(is_active=True).values_list("events", flat=True):
        events.update(e for e in endpoint_events or [] if isinstance(e, str))
    cache.set(SUBSCRIBED_CACHE_KEY, sorted(events), SUBSCRIBED_CACHE_SECONDS)
    return frozenset(events)


def invalidate_subscriptions() -> None:
    cache.delete(SUBSCRIBED_CACHE_KEY)


def _cached_subscriptions() -> frozenset[str] | None:
    try:
        cached = cache.get(SUBSCRIBED_CACHE_KEY)
    except Exception:  # a cache outage must not break the business action
        logger.exception("webhooks: cache unavailable")
        return None
    return None if cached is None else frozenset(cached)


def api_url(type_code: str, record_id: Any) -> str | None:
    record_type = RECORD_TYPE_BY_CODE.get(type_code)
    if record_type is None or record_id in (None, ""):
        return None
    try:
        path = reverse(f"{record_type.api_route}-detail", args=[record_id])
    except NoReverseMatch:
        return None
    return getattr(settings, "SITE_URL", "").rstrip("/") + path


def event_from_log(log, event: str) -> dict[str, Any]:
    """The event part of a payload (everything but the delivery id)."""
    type_code = event.split(".", 1)[0]
    record_id: Any = log.target_id
    if isinstance(record_id, str) and record_id.isdigit():
        record_id = int(record_id)
    actor = getattr(log, "actor", None)
    occurred = log.created_at or timezone.now()
    return {
        "event": event,
        "occurred_at": occurred.isoformat(),
        "actor": {"id": actor.pk, "name": getattr(actor, "display_name", "") or str(actor)}
        if actor
        else None,
        "data": {
            "type": type_code,
            "id": record_id,
            "name": log.target_repr,
            "changes": log.changes or {},
            "url": api_url(type_code, record_id),
        },
    }


def webhook_events_logged(logs: Iterable) -> None:
    """The hook called by crm.audit.services for every log row written. Never raises."""
    try:
        mapped = [(log, ACTION_EVENTS[log.action]) for log in logs if log.action in ACTION_EVENTS]
        if not mapped:
            return
        # A cold cache is refilled now (one query): holding every payload until commit instead
        # cost 772 MB on a 100,000-row import (bench/imports.py) when nothing was subscribed.
        subscribed = _cached_subscriptions()
        if subscribed is None:
            subscribed = subscribed_events()
        mapped = [(log, event) for log, event in mapped if event in subscribed]
        if not mapped:
            return
        # Build the payloads now (the log rows are in memory), create deliveries after commit.
        events = [event_from_log(log, event) for log, event in mapped]
        transaction.on_commit(lambda: _deliver_after_commit(events))
    except Exception:
        logger.exception("webhooks: could not queue events")


def _deliver_after_commit(events: list[dict[str, Any]]) -> None:
    try:
        subscribed = subscribed_events()  # refills the cache when it was cold
        events = [e for e in events if e["event"] in subscribed]
        if not events:
            return
        from crm.webhooks import services

        services.deliveries_create_for_events(events)
    except Exception:
        logger.exception("webhooks: could not create deliveries")
