"""Reads of opportunities, always through the access policy: the owner in the user's data scope and
the customer visible to the user."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet

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
    """One page in keyset order (newest first by the chosen time) in two queries: the page's ids
    (LIMIT size+1 over narrow rows, which PostgreSQL answers from opp_owner_board_idx without
    joining the customer, owner and stage of every row it passes over), then those rows with their
    customer, owner and stage, by id."""
    time_field = SORTS.get(filters.sort, "created_at")
    keys = opportunity_list(user=user, filters=filters).only("pk", time_field)
    page = keyset_page(keys, cursor, size, time_field=time_field)
    ids = [row.pk for row in page.items]
    found = Opportunity.objects.filter(pk__in=ids).select_related("customer", "owner", "stage").in_bulk()
    return KeysetPage([found[pk] for pk in ids if pk in found], page.next_cursor)


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


def _board_rows(rows: QuerySet[Opportunity], stage_ids: list[int], per_stage: int) -> tuple[dict, list]:
    """{stage id: {"n": count, "total": sum}} and the ids of the newest `per_stage` cards of every
    stage, in ONE statement over the visible rows read once (narrow: id, stage, time, amount):

        WITH v AS (<rows>) SELECT the first per_stage ids of stage 1 (ORDER BY … LIMIT)
        UNION ALL … of stage n UNION ALL SELECT stage, count, sum FROM v GROUP BY stage

    A manager's scope holds ~50,000 opportunities: ranking them all with window functions sorted
    every row (on disk with the default work_mem) and took ~190 ms; a LIMIT per stage keeps a
    top-N heap instead (~100 ms, bench/pipeline.py), most of it the access check itself."""
    narrow = rows.order_by().values_list("pk", "stage_id", "updated_at", "expected_amount")
    try:
        sql, params = narrow.query.sql_with_params()
    except EmptyResultSet:
        return {}, []
    cards = [
        f"SELECT * FROM (SELECT v.stage_id, v.id, CAST(NULL AS bigint), CAST(NULL AS numeric) "  # noqa: S608
        f"FROM v WHERE v.stage_id = %s ORDER BY v.updated_at DESC, v.id DESC LIMIT {int(per_stage)}) AS c{n}"
        for n in range(len(stage_ids) if per_stage > 0 else 0)
    ]
    statement = (
        f"WITH v (id, stage_id, updated_at, expected_amount) AS ({sql}) "  # noqa: S608
        + "".join(f"{part} UNION ALL " for part in cards)
        + "SELECT v.stage_id, NULL, count(*), sum(v.expected_amount) FROM v GROUP BY v.stage_id"
    )
    totals: dict[int, dict] = {}
    card_ids: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, *(stage_ids if cards else [])])
        for stage_id, pk, n, total in cursor.fetchall():
            if pk is None:
                # SQLite sums decimals as floats: through str() they keep their two places.
                totals[stage_id] = {"n": n, "total": Decimal(str(total)) if total is not None else None}
            else:
                card_ids.append(pk)
    return totals, card_ids


# What a board card shows (opportunities/_board.html): loading the full opportunity, customer and
# owner rows of ~120 cards cost more Python time than the rest of the board. Other fields load lazily.
CARD_FIELDS = (
    "name",
    "stage",
    "status",
    "expected_amount",
    "updated_at",
    "customer__name",
    "owner__username",
    "owner__name",
    "owner__first_name",
    "owner__last_name",
)


def kanban(
    *,
    user,
    group: StageGroup,
    filters: OpportunityFilters = OpportunityFilters(),
    per_stage: int = CARDS_PER_STAGE,
) -> Kanban:
    """The board of one group in three queries: the stages; the per-stage count and sum with the
    ids of the first `per_stage` cards of every stage (_board_rows); those cards with their
    customer and owner, read by id.

    The weighted sum of a column is its sum × the stage's win rate, rounded to the fen once: every
    card of a column has the same rate, so this equals Σ amount × rate exactly before rounding."""
    stages = list(group.stages.order_by("order", "pk"))
    rows = opportunity_list(user=user, filters=filters).filter(stage_group=group)
    totals, card_ids = _board_rows(rows, [stage.pk for stage in stages], max(per_stage, 0))
    cards: dict[int, list] = {}
    for opp in (
        Opportunity.objects.filter(pk__in=card_ids)
        .select_related("customer", "owner")
        .only(*CARD_FIELDS)
        .order_by("stage_id", "-updated_at", "-pk")
    ):
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
