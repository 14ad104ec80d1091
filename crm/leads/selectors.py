"""Reads of leads, always through the access policy (owner in the user's data scope)."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from crm.access import policy
from crm.activities.models import FollowUp
from crm.activities.selectors import with_rows
from crm.core.paging import KeysetPage, keyset_page
from crm.leads.models import Lead

PAGE_SIZE = 20
SORTS = {"created": "created_at", "updated": "updated_at"}  # keyset paging needs a non-null time


def leads_visible(user) -> QuerySet[Lead]:
    """The leads whose owner lies in the user's data scope; none without leads.view."""
    if not policy.can(user, "leads.view"):
        return Lead.objects.none()
    return policy.visible(user, Lead.objects.all())


def lead_get_for_user(*, user, lead_id) -> Lead:
    """The lead, or 404 alike for missing and not visible."""
    leads = leads_visible(user).select_related(
        "owner",
        "department",
        "created_by",
        "source",
        "industry",
        "region",
        "converted_customer",
        "converted_by",
    )
    return policy.get_visible_or_404(user, leads, owner_field=None, pk=lead_id)


@dataclass(frozen=True)
class LeadFilters:
    q: str = ""
    status: str = ""
    source_id: int | None = None
    owner_id: int | None = None
    sort: str = "created"


def search_q(text: str) -> Q:
    """Quick search: company or contact name (contains), mobile (prefix), code (exact)."""
    text = text.strip()
    condition = Q(company__icontains=text) | Q(contact_name__icontains=text) | Q(code__iexact=text)
    digits = text.replace(" ", "").replace("-", "")
    if digits.isdigit():
        condition |= Q(mobile__startswith=digits)
    return condition


def lead_list(*, user, filters: LeadFilters = LeadFilters()) -> QuerySet[Lead]:
    leads = leads_visible(user)
    if filters.q.strip():
        leads = leads.filter(search_q(filters.q))
    if filters.status in Lead.Status.values:
        leads = leads.filter(status=filters.status)
    if filters.source_id is not None:
        leads = leads.filter(source_id=filters.source_id)
    if filters.owner_id is not None:
        leads = leads.filter(owner_id=filters.owner_id)
    return leads


def lead_page(*, user, filters: LeadFilters, cursor: str | None, size: int = PAGE_SIZE) -> KeysetPage:
    """One page in keyset order (newest first by the chosen time): one query, LIMIT size+1."""
    leads = lead_list(user=user, filters=filters).select_related("owner", "source", "converted_customer")
    return keyset_page(leads, cursor, size, time_field=SORTS.get(filters.sort, "created_at"))


def followups_for_lead(user, lead: Lead, limit: int = 20) -> list[FollowUp]:
    """The lead's follow-ups, newest first (after conversion they are the customer's too)."""
    if not policy.can(user, "activities.view"):
        return []
    return list(with_rows(FollowUp.objects.filter(lead_id=lead.pk)).order_by("-created_at", "-pk")[:limit])


EXPORT_FIELDS = (
    "code",
    "company",
    "contact_name",
    "title",
    "mobile",
    "phone",
    "email",
    "wechat",
    "source",
    "industry",
    "region",
    "address",
    "status",
    "owner",
    "created_at",
    "last_followup_at",
    "remark",
)


def lead_export_rows(leads: QuerySet[Lead]) -> tuple[list[str], Iterator[list]]:
    """Headers (the fields' names in the user's language) and rows for an export of `leads`."""
    headers = [str(Lead._meta.get_field(name).verbose_name) for name in EXPORT_FIELDS]
    rows = leads.select_related("source", "industry", "region", "owner").order_by("-created_at", "-pk")

    def values(lead: Lead) -> list:
        row = []
        for name in EXPORT_FIELDS:
            value = getattr(lead, name)
            if name == "status":
                value = lead.get_status_display()
            elif name == "owner":
                value = lead.owner.display_name if lead.owner_id else ""
            elif value is not None and name in ("source", "industry", "region"):
                value = value.name
            row.append(value)
        return row

    return headers, (values(lead) for lead in rows.iterator(chunk_size=500))
