"""Reads of follow-ups, always through the customer access policy.

A follow-up is visible when the user holds activities.view and may see its customer
(`crm.customers.selectors.customers_visible`, pool customers included). One sub-select, never a
per-row check.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from crm.access import policy
from crm.activities.models import FollowUp, FollowUpAttachment, FollowUpComment, FollowUpTemplate
from crm.core.paging import KeysetPage, keyset_page
from crm.customers.models import Customer, DictionaryItem
from crm.customers.search import search_q
from crm.customers.selectors import customers_visible

LIST_PAGE_SIZE = 20
REMINDER_PAGE_SIZE = 20


def followups_visible(user) -> QuerySet[FollowUp]:
    if not policy.can(user, "activities.view"):
        return FollowUp.objects.none()
    return FollowUp.objects.filter(customer__in=customers_visible(user, include_pool=True).values("pk"))


def with_rows(followups: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    """What a list row shows, fetched with the page: 1 query + 2 prefetches (comments, files)."""
    return followups.select_related("customer", "contact", "author", "type").prefetch_related(
        Prefetch("comments", queryset=FollowUpComment.objects.select_related("author")),
        "attachments",
    )


def followup_get_for_user(*, user, followup_id, lock: bool = False) -> FollowUp:
    """The follow-up, or 404 alike for missing and not visible."""
    followups = followups_visible(user).select_related("customer", "contact", "author", "type")
    if lock:
        followups = followups.select_for_update(of=("self",))
    try:
        return followups.get(pk=int(followup_id))
    except (FollowUp.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def followup_detail(*, user, followup_id) -> FollowUp:
    followups = with_rows(followups_visible(user))
    try:
        return followups.get(pk=int(followup_id))
    except (FollowUp.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def attachment_get_for_user(*, user, attachment_id) -> FollowUpAttachment:
    attachments = FollowUpAttachment.objects.filter(followup__in=followups_visible(user).values("pk"))
    try:
        return attachments.get(pk=int(attachment_id))
    except (FollowUpAttachment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def followup_types() -> QuerySet[DictionaryItem]:
    return DictionaryItem.objects.filter(kind=DictionaryItem.Kind.FOLLOWUP_TYPE, is_active=True)


@dataclass(frozen=True)
class FollowUpFilters:
    type_id: int | None = None
    author_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    customer_query: str = ""
    customer_id: int | None = None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def followup_list(*, user, filters: FollowUpFilters = FollowUpFilters()) -> QuerySet[FollowUp]:
    """Visible follow-ups, filtered; the caller pages with `followup_page` (keyset)."""
    followups = followups_visible(user)
    if filters.customer_id is not None:
        followups = followups.filter(customer_id=filters.customer_id)
    if filters.type_id is not None:
        followups = followups.filter(type_id=filters.type_id)
    if filters.author_id is not None:
        followups = followups.filter(author_id=filters.author_id)
    if filters.date_from is not None:
        followups = followups.filter(followed_at__gte=_day_start(filters.date_from))
    if filters.date_to is not None:
        followups = followups.filter(followed_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    if filters.customer_query:
        followups = followups.filter(
            customer__in=Customer.objects.filter(search_q(filters.customer_query)).values("pk")
        )
    return followups


def followup_page(
    *, user, filters: FollowUpFilters, cursor: str | None, size: int = LIST_PAGE_SIZE
) -> KeysetPage:
    return keyset_page(with_rows(followup_list(user=user, filters=filters)), cursor, size)


def followups_for_customer(user, customer: Customer, limit: int = 20) -> list[FollowUp]:
    """The customer's latest follow-ups for its detail page (timeline), newest first; [] when the
    user may not see follow-ups or the customer. Three queries whatever the limit."""
    followups = followups_visible(user).filter(customer_id=customer.pk)
    return list(with_rows(followups).order_by("-created_at", "-pk")[:limit])


# ---------------------------------------------------------------- reminder lists (FUP-4)

REMINDER_TABS = ("today", "overdue", "call", "email")


def _today_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    local = timezone.localtime(now or timezone.now())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def customers_to_contact(*, user, tab: str, now: datetime | None = None) -> QuerySet[Customer]:
    """今日待联系 (next contact today) or 已逾期 (next contact before today), soonest first."""
    start, end = _today_bounds(now)
    customers = customers_visible(user)
    if tab == "today":
        customers = customers.filter(next_contact_at__gte=start, next_contact_at__lt=end)
    else:
        customers = customers.filter(next_contact_at__lt=start)
    return customers.select_related("owner").order_by("next_contact_at", "pk")


def pending_actions(*, user, action: str) -> QuerySet[FollowUp]:
    """待打电话 / 待发邮件: follow-ups whose next action is still the customer's next contact (no later
    follow-up has replaced it), for visible customers, soonest first."""
    return (
        followups_visible(user)
        .filter(
            next_action=action, next_contact_at__isnull=False, customer__next_contact_at=F("next_contact_at")
        )
        .select_related("customer", "contact", "author", "type")
        .order_by("next_contact_at", "pk")
    )


def reminder_counts(*, user, now: datetime | None = None, cap: int = 1000) -> dict[str, int]:
    """How many rows each tab holds, capped (shown as "1000+"): four small queries."""
    counts = {
        "today": customers_to_contact(user=user, tab="today", now=now),
        "overdue": customers_to_contact(user=user, tab="overdue", now=now),
        "call": pending_actions(user=user, action=FollowUp.NextAction.CALL),
        "email": pending_actions(user=user, action=FollowUp.NextAction.EMAIL),
    }
    return {key: qs.order_by()[: cap + 1].count() for key, qs in counts.items()}


# ---------------------------------------------------------------- templates


def templates_visible(user) -> QuerySet[FollowUpTemplate]:
    """The user's own templates and the shared ones."""
    if not getattr(user, "is_authenticated", False):
        return FollowUpTemplate.objects.none()
    return FollowUpTemplate.objects.filter(Q(owner=user) | Q(is_shared=True)).select_related("type", "owner")


def template_get_for_user(*, user, template_id) -> FollowUpTemplate:
    try:
        return templates_visible(user).get(pk=int(template_id))
    except (FollowUpTemplate.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def followups_linked(user, link_field: str, pk: int, limit: int = 20) -> list[FollowUp]:
    """The newest follow-ups linked to an opportunity or contract the user already may see."""
    if not policy.can(user, "activities.view"):
        return []
    rows = FollowUp.objects.filter(**{f"{link_field}_id": pk})
    return list(with_rows(rows).order_by("-created_at", "-pk")[:limit])
