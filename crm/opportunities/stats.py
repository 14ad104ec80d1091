"""Opportunity statistics (OPP-2): by stage and status, counts and amounts, win rate, funnel and lost
reasons, over the opportunities the user may see (the same rows as the list and the board).

Two GROUP BY queries whatever the number of opportunities: one by (stage, status), one by lost
reason. Charts come with the reports module; this module gives the figures.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum

from crm.core.money import to_fen
from crm.customers.models import DictionaryItem
from crm.opportunities.models import Opportunity, Stage, StageGroup
from crm.opportunities.selectors import OpportunityFilters, opportunity_list, weighted_amount

ZERO = Decimal("0.00")


@dataclass
class StageFigures:
    stage: Stage
    count: int = 0
    amount: Decimal = ZERO
    weighted: Decimal = ZERO
    reached: int = 0  # opportunities now at this stage or beyond it (won included): the funnel


@dataclass
class StatusFigures:
    status: str
    label: str
    count: int = 0
    amount: Decimal = ZERO


@dataclass
class LostReasonFigures:
    reason: DictionaryItem | None
    count: int
    amount: Decimal


@dataclass
class OpportunityStats:
    group: StageGroup
    stages: list[StageFigures]
    statuses: list[StatusFigures]
    lost_reasons: list[LostReasonFigures] = field(default_factory=list)

    @property
    def total_count(self) -> int:
        return sum(s.count for s in self.statuses)

    @property
    def total_amount(self) -> Decimal:
        return sum((s.amount for s in self.statuses), ZERO)

    def _status(self, status: str) -> StatusFigures:
        return next(s for s in self.statuses if s.status == status)

    @property
    def win_rate(self) -> Decimal | None:
        """Won ÷ (won + lost), percent to one decimal; None before anything was decided."""
        won, lost = self._status(Opportunity.Status.WON).count, self._status(Opportunity.Status.LOST).count
        if won + lost == 0:
            return None
        return (Decimal(won * 100) / Decimal(won + lost)).quantize(Decimal("0.1"))

    @property
    def weighted_pipeline(self) -> Decimal:
        return sum((s.weighted for s in self.stages if s.stage.kind == Stage.Kind.OPEN), ZERO)

    @property
    def funnel(self) -> list[dict]:
        """The open stages in order and 赢单, each with how many got that far and the percentage of
        the first stage's figure (the top of the funnel)."""
        rows = [s for s in self.stages if s.stage.kind != Stage.Kind.LOST]
        top = rows[0].reached if rows else 0
        return [
            {
                "stage": s.stage,
                "reached": s.reached,
                "percent": (Decimal(s.reached * 100) / Decimal(top)).quantize(Decimal("0.1"))
                if top
                else None,
            }
            for s in rows
        ]


@dataclass(frozen=True)
class StatsFilters:
    owner_id: int | None = None
    created_from: date | None = None
    created_to: date | None = None


def opportunity_stats(*, user, group: StageGroup, filters: StatsFilters = StatsFilters()) -> OpportunityStats:
    rows = opportunity_list(user=user, filters=OpportunityFilters(owner_id=filters.owner_id)).filter(
        stage_group=group
    )
    if filters.created_from:
        rows = rows.filter(created_at__date__gte=filters.created_from)
    if filters.created_to:
        rows = rows.filter(created_at__date__lte=filters.created_to)
    stages = list(group.stages.order_by("order", "pk"))
    by_stage: dict[int, StageFigures] = {stage.pk: StageFigures(stage=stage) for stage in stages}
    statuses = {
        value: StatusFigures(status=value, label=str(label)) for value, label in Opportunity.Status.choices
    }
    grouped = (
        rows.order_by().values("stage_id", "status").annotate(n=Count("pk"), total=Sum("expected_amount"))
    )
    for row in grouped:
        amount = to_fen(row["total"] or 0)
        figures = by_stage.get(row["stage_id"])
        if figures is not None:
            figures.count += row["n"]
            figures.amount += amount
        status = statuses.get(row["status"])
        if status is not None:
            status.count += row["n"]
            status.amount += amount
    for figures in by_stage.values():
        figures.weighted = weighted_amount(figures.amount, figures.stage.win_rate)
    # Funnel: an opportunity at an open stage has passed every earlier open stage; a won one every stage.
    open_stages = [by_stage[s.pk] for s in stages if s.kind == Stage.Kind.OPEN]
    won = next((by_stage[s.pk] for s in stages if s.kind == Stage.Kind.WON), None)
    running = won.count if won else 0
    if won:
        won.reached = won.count
    for figures in reversed(open_stages):
        running += figures.count
        figures.reached = running
    lost = (
        rows.filter(status=Opportunity.Status.LOST)
        .order_by()
        .values("lost_reason")
        .annotate(n=Count("pk"), total=Sum("expected_amount"))
        .order_by("-n", "lost_reason")
    )
    lost = list(lost)
    reasons = DictionaryItem.objects.in_bulk([r["lost_reason"] for r in lost if r["lost_reason"]])
    return OpportunityStats(
        group=group,
        stages=[by_stage[s.pk] for s in stages],
        statuses=list(statuses.values()),
        lost_reasons=[
            LostReasonFigures(
                reason=reasons.get(r["lost_reason"]), count=r["n"], amount=to_fen(r["total"] or 0)
            )
            for r in lost
        ],
    )
