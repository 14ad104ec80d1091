"""Reads of customer points (CUS-10), always through the access policy: a customer's entries are
shown to whoever may see the customer (crm.customers.selectors.customers_visible)."""

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce

from crm.customers.selectors import customers_visible
from crm.points.models import PointsEntry

RECENT_LIMIT = 10


def points_balance(customer) -> int:
    """The customer's balance: the sum of its ledger (one query)."""
    return PointsEntry.objects.filter(customer=customer).aggregate(total=Coalesce(Sum("points"), 0))["total"]


def points_entries(customer, limit: int = RECENT_LIMIT) -> list[PointsEntry]:
    """The customer's latest `limit` entries, newest first, with their contract and author (one query)."""
    return list(
        PointsEntry.objects.filter(customer=customer)
        .select_related("contract", "created_by")
        .order_by("-created_at", "-id")[:limit]
    )


def points_entries_visible(user) -> QuerySet[PointsEntry]:
    """Entries of the customers `user` may see, newest first (for the API)."""
    customers = customers_visible(user, include_pool=True).values("pk")
    return (
        PointsEntry.objects.filter(customer_id__in=customers)
        .select_related("customer", "contract", "created_by")
        .order_by("-created_at", "-id")
    )
