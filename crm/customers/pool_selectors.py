"""Reads for the public customer pool (公海, POOL-1..3), always through the access policy.

Public customers (owner empty) are visible to a user with pool.view in the pools the user may see
(`selectors.pools_visible`); claimed customers and recall candidates are the owned customers in
the user's data scope. Anything else answers 404, like a record that does not exist.
"""

from datetime import datetime, time

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from crm.access import policy
from crm.audit.models import OperationLog
from crm.customers.models import ClaimRequest, Customer, Pool
from crm.customers.search import search_q
from crm.customers.selectors import pools_visible

PAGE_SIZE = 20


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- public customers


def pool_customers(user) -> QuerySet[Customer]:
    """Public (unowned, live) customers in the pools the user may see."""
    if not policy.can(user, "pool.view"):
        return Customer.objects.none()
    return Customer.objects.filter(
        deleted_at__isnull=True, owner__isnull=True, pool__in=pools_visible(user).values("pk")
    )


def claimed_customers(user) -> QuerySet[Customer]:
    """Customers claimed from a pool (已领用) whose owner is in the user's data scope."""
    if not policy.can(user, "pool.view"):
        return Customer.objects.none()
    customers = Customer.objects.filter(deleted_at__isnull=True, owner__isnull=False, pool__isnull=False)
    scope = policy.visible_q(user, "owner")
    return customers if scope is None else customers.filter(scope)


def pool_customer_list(*, user, query: str = "", pool_id=None, status: str = "public") -> QuerySet[Customer]:
    """The /pool/ list: public customers (status="public") or claimed ones ("claimed"),
    searched and filtered by pool; ordered newest first for keyset paging."""
    customers = claimed_customers(user) if status == "claimed" else pool_customers(user)
    pool_id = _int_or_none(pool_id)
    if pool_id is not None:
        customers = customers.filter(pool_id=pool_id)
    if query:
        customers = customers.filter(search_q(query))
    return customers.select_related("pool", "owner", "previous_owner", "status", "value_level").order_by(
        "-created_at", "-pk"
    )


def claimable_customer_get(*, user, customer_id) -> Customer:
    """A customer lying in a pool the user may see, public or already taken (so that a late
    claimant gets the service's clear "already claimed" message rather than a 404), or 404."""
    customer_id = _int_or_none(customer_id)
    if not policy.can(user, "pool.view"):
        raise Http404
    customers = Customer.objects.filter(deleted_at__isnull=True, pool__in=pools_visible(user).values("pk"))
    try:
        return customers.select_related("pool").get(pk=customer_id)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc


def owned_customer_get(*, user, customer_id) -> Customer:
    """A customer the user owns (for 退回公海), or 404."""
    customer_id = _int_or_none(customer_id)
    try:
        return Customer.objects.select_related("pool").get(
            pk=customer_id, owner_id=user.pk, deleted_at__isnull=True
        )
    except Customer.DoesNotExist as exc:
        raise Http404 from exc


def recallable_customers(user) -> QuerySet[Customer]:
    """Owned, live customers whose owner is in the user's data scope (shares do not count)."""
    customers = Customer.objects.filter(deleted_at__isnull=True, owner__isnull=False)
    scope = policy.visible_q(user, "owner")
    return customers if scope is None else customers.filter(scope)


def assignable_users(user) -> QuerySet:
    """Whom the user may assign pool customers to: active people in the user's data scope."""
    return policy.visible_users(user).filter(is_active=True).select_related("department").order_by("pk")


# ---------------------------------------------------------------- applications


def applications_to_decide(user) -> QuerySet[ClaimRequest]:
    """Pending applications in the pools the user may see, for a user with pool.edit."""
    if not policy.can(user, "pool.edit"):
        return ClaimRequest.objects.none()
    return (
        ClaimRequest.objects.filter(
            status=ClaimRequest.Status.PENDING, pool__in=pools_visible(user).values("pk")
        )
        .select_related("customer", "pool", "applicant")
        .order_by("-created_at", "-pk")
    )


def applications_of(user) -> QuerySet[ClaimRequest]:
    """The user's own applications, newest first."""
    return (
        ClaimRequest.objects.filter(applicant=user)
        .select_related("customer", "pool", "decided_by")
        .order_by("-created_at", "-pk")
    )


def application_get(*, user, application_id) -> ClaimRequest:
    """A pending application the user may decide, or 404."""
    application_id = _int_or_none(application_id)
    try:
        return applications_to_decide(user).get(pk=application_id)
    except ClaimRequest.DoesNotExist as exc:
        raise Http404 from exc


# ---------------------------------------------------------------- limits


def start_of_today() -> datetime:
    """Midnight today in the site's time zone (the day the daily claim limit counts)."""
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today, time.min))


def claims_today(user) -> int:
    """Customers the user took from a pool today: own claims plus approved applications."""
    since = start_of_today()
    claimed = OperationLog.objects.filter(actor_id=user.pk, action="pool.claimed", created_at__gte=since)
    approved = ClaimRequest.objects.filter(
        applicant_id=user.pk, status=ClaimRequest.Status.APPROVED, decided_at__gte=since
    )
    return claimed.count() + approved.count()


def owned_count(user) -> int:
    """Live customers the user owns (the recycle bin does not count)."""
    return Customer.objects.filter(owner_id=user.pk, deleted_at__isnull=True).count()


# ---------------------------------------------------------------- settings


def pools_for_settings() -> QuerySet[Pool]:
    return Pool.objects.prefetch_related("departments", "users").order_by("-is_default", "pk")


def pool_get_for_settings(*, pool_id) -> Pool:
    try:
        return Pool.objects.get(pk=_int_or_none(pool_id))
    except Pool.DoesNotExist as exc:
        raise Http404 from exc
