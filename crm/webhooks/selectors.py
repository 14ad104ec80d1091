"""Reads of the webhooks module. Webhooks are system settings: whoever holds settings.settings sees
all of them; everyone else gets 403 from the views before any read."""

from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from crm.webhooks.models import WebhookAllowedHost, WebhookDelivery, WebhookEndpoint

PAGE_SIZE = 50
MAX_DB_INT = 2**31 - 1


def _pk(value) -> int:
    """An id from a request, or 404 (missing, malformed and out of range answer alike)."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise Http404 from None
    if not 0 < number <= MAX_DB_INT:
        raise Http404
    return number


def endpoints_with_last_delivery() -> QuerySet[WebhookEndpoint]:
    last = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-id")
    return WebhookEndpoint.objects.select_related("created_by").annotate(
        last_status=Subquery(last.values("status")[:1]),
        last_response_status=Subquery(last.values("response_status")[:1]),
        last_at=Subquery(last.values("created_at")[:1]),
    )


def endpoint_get(*, endpoint_id) -> WebhookEndpoint:
    try:
        return WebhookEndpoint.objects.get(pk=_pk(endpoint_id))
    except WebhookEndpoint.DoesNotExist:
        raise Http404 from None


def delivery_get(*, delivery_id) -> WebhookDelivery:
    try:
        return WebhookDelivery.objects.select_related("endpoint", "replay_of").get(pk=_pk(delivery_id))
    except WebhookDelivery.DoesNotExist:
        raise Http404 from None


def allowed_host_get(*, entry_id) -> WebhookAllowedHost:
    try:
        return WebhookAllowedHost.objects.get(pk=_pk(entry_id))
    except WebhookAllowedHost.DoesNotExist:
        raise Http404 from None


@dataclass
class DeliveryPage:
    items: list[WebhookDelivery]
    next_before: int | None


def delivery_page(*, endpoint: WebhookEndpoint, status: str = "", before: str | None = None) -> DeliveryPage:
    """Newest first, keyset paged on id (ids grow with created_at)."""
    rows = WebhookDelivery.objects.filter(endpoint=endpoint).defer("payload", "response_body")
    if status in WebhookDelivery.Status.values:
        rows = rows.filter(status=status)
    if before and before.isdigit() and len(before) < 12:
        rows = rows.filter(pk__lt=int(before))
    items = list(rows.order_by("-id")[: PAGE_SIZE + 1])
    next_before = items[PAGE_SIZE - 1].pk if len(items) > PAGE_SIZE else None
    return DeliveryPage(items=items[:PAGE_SIZE], next_before=next_before)
