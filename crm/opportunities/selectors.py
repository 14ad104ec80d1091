"""Reads of opportunities, always through the access policy: the owner in the user's data scope and
the customer visible to the user."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from crm.access import policy
from crm.activities.models import FollowUp
from crm.activities.selectors import followups_linked
from crm.core.money import to_fen
from crm.core.paging import KeysetPage, keyset_page
from crm.customers.selectors import customers_visible
from crm.opportunities.models import Opportunity, Stage, StageGroup

PAGE_SIZE = 20
CARDS_PER_STAGE = 20
SORTS = {"created": "created_at", "updated": "updated_at"}


def opportunities_visible(user) -> QuerySet[Opportunity]:
    """Opportunities whose owner lies in the user's scope and whose customer the user may see."""
    if not policy.can(user, "opportunities.view"):
        return Opportunity.objects.none()
    return policy.visible(user, Opportunity.objects.all()).filter(
        customer__in=customers_visible(user).values("pk")
    )


def opportunity_get_for_user(*, user, opportunity_id) -> Opportunity:
    """The opportunity, or 404 alike for missing and not visible."""
    rows = opportunities_visible(user).select_related(
        "customer", "owner", "department", "stage", "stage_group", "source", "lost_reason", "created_by"
    )
    return policy.get_visible_or_404(user, rows, owner_field=None, pk=opportunity_id)


@dataclass(frozen=True)
class OpportunityFilters:
    q: str = ""
    status: str = ""
    stage_id: int | None = None
    owner_id: int | None = None
    customer_id: int | None = None
    sort: str = "created"


def opportunity_list(*, user, filters: OpportunityFilters = OpportunityFilters()) -> QuerySet[Opportunity]:
    rows = opportunities_visible(user)
    text = filters.q.strip()
    if text:
        rows = rows.filter(Q(name__icontains=text) | Q(code__iexact=text) | Q(customer__name__icontains=text))
    if filters.status in Opportunity.Status.values:
        rows = rows.filter(status=filters.status)
    if filters.stage_id is not None:
        rows = rows.filter(stage_id=filters.stage_id)
    if filters.owner_id is not None:
        rows = rows.filter(owner_id=filters.owner_id)
    if filters.customer_id is not None:
        rows = rows.filter(customer_id=filters.customer_id)
    return rows


def opportunity_page(
    *, user, filters: OpportunityFilters, cursor: str | None, size: int = PAGE_SIZE
) -> KeysetPage:
    """One page in keyset order (newest first by the chosen time): one query, LIMIT size+1."""
    rows = opportunity_list(user=user, filters=filters).select_related("customer", "owner", "stage")
    return keyset_page(rows, cursor, size, time_field=SORTS.get(filters.sort, "created_at"))


def stage_groups_active() -> QuerySet[StageGroup]:
    return StageGroup.objects.filter(is_active=True).order_by("-is_default", "name", "pk")


@dataclass
class KanbanColumn:
    stage: Stage
    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")
    cards: list = field(default_factory=list)


@dataclass
class Kanban:
    group: StageGroup
    columns: list[KanbanColumn]

    @property
    def count(self) -> int:
        return sum(c.count for c in self.columns)

    @property
    def amount(self) -> Decimal:
        return sum((c.amount for c in self.columns), Decimal("0.00"))

    @property
    def weighted(self) -> Decimal:
        return sum((c.weighted for c in self.columns), Decimal("0.00"))


def weighted_amount(amount: Decimal, win_rate: int) -> Decimal:
    """amount × win rate / 100, rounded ROUND_HALF_UP to the fen."""
    return to_fen(Decimal(amount) * Decimal(win_rate) / Decimal(100))


def kanban(
    *,
    user,
    group: StageGroup,
    filters: OpportunityFilters = OpportunityFilters(),
    per_stage: int = CARDS_PER_STAGE,
) -> Kanban:
    """The board of one group in three queries: the stages, the per-stage count and sum, and the
    first `per_stage` cards of every stage (a window function ranks the cards within each stage).

    The weighted sum of a column is its sum × the stage's win rate, rounded to the fen once: every
    card of a column has the same rate, so this equals Σ amount × rate exactly before rounding."""
    stages = list(group.stages.order_by("order", "pk"))
    rows = opportunity_list(user=user, filters=filters).filter(stage_group=group)
    totals = {
        row["stage_id"]: row
        for row in rows.order_by().values("stage_id").annotate(n=Count("pk"), total=Sum("expected_amount"))
    }
    ranked = (
        rows.select_related("customer", "owner")
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("stage_id")], order_by=[F("updated_at").desc(), F("pk").desc()]
            )
        )
        .order_by("stage_id", "-updated_at", "-pk")
    )
    cards: dict[int, list] = {}
    for opp in ranked.filter(rank__lte=per_stage):
        cards.setdefault(opp.stage_id, []).append(opp)
    columns = []
    for stage in stages:
        total = totals.get(stage.pk, {})
        amount = to_fen(total.get("total") or 0)
        columns.append(
            KanbanColumn(
                stage=stage,
                count=total.get("n", 0),
                amount=amount,
                weighted=weighted_amount(amount, stage.win_rate),
                cards=cards.get(stage.pk, []),
            )
        )
    return Kanban(group=group, columns=columns)


def customer_opportunities(user, customer_id: int, limit: int = 20) -> list[Opportunity]:
    """A customer's opportunities the user may see, newest first."""
    return list(
        opportunities_visible(user)
        .filter(customer_id=customer_id)
        .select_related("stage", "owner")
        .order_by("-created_at", "-pk")[:limit]
    )


def followups_for_opportunity(user, opp: Opportunity, limit: int = 20) -> list[FollowUp]:
    return followups_linked(user, "opportunity", opp.pk, limit)
