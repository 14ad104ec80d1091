"""Reads of payment plans (回款计划) and receivables (回款), always through the access policy.

Access rule: a plan or a receivable is visible to a user when
  1. the user holds `receivables.view`, AND
  2. its contract is visible to the user (crm.contracts.selectors.contracts_visible: contracts.view,
     the contract owner in the user's data scope, the customer visible to the user).
So whoever sees a contract sees the money of that contract, and someone who may not see the
customer sees neither the contract nor its plans and receivables. Anything not visible answers 404
like a missing row. Writes additionally need receivables.create / edit / delete / approve (checked
by crm.receivables.services) on a contract visible to the actor.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import DecimalField, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from crm.access import policy
from crm.approvals.selectors import approval_read_or_refuse, mark_read_via_approval
from crm.contracts.models import Contract
from crm.contracts.selectors import contracts_visible
from crm.core.paging import KeysetPage, keyset_page
from crm.receivables.models import PaymentPlan, Receivable

PAGE_SIZE = 20
UPCOMING_DAYS = 30
SECTION_LIMIT = 50
CUSTOMER_LIMIT = 5
OPEN_STATUSES = (Receivable.Status.DRAFT, Receivable.Status.PENDING)
EFFECTIVE = (Contract.Status.APPROVED, Contract.Status.DONE)
ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=18, decimal_places=2)


def _sum(expression) -> Coalesce:
    return Coalesce(Sum(expression, output_field=MONEY), ZERO, output_field=MONEY)


def _fen(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _visible_contract_ids(user):
    return contracts_visible(user).values("pk")


def plans_visible(user) -> QuerySet[PaymentPlan]:
    if not policy.can(user, "receivables.view"):
        return PaymentPlan.objects.none()
    return PaymentPlan.objects.filter(contract_id__in=_visible_contract_ids(user))


def receivables_visible(user) -> QuerySet[Receivable]:
    if not policy.can(user, "receivables.view"):
        return Receivable.objects.none()
    return Receivable.objects.filter(contract_id__in=_visible_contract_ids(user))


def plan_get_for_user(*, user, plan_id) -> PaymentPlan:
    try:
        return plans_visible(user).select_related("contract", "customer").get(pk=int(plan_id))
    except (PaymentPlan.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def receivable_get_for_user(*, user, receivable_id, read_only: bool = False) -> Receivable:
    """The receivable, or 404 alike for missing and not visible.

    `read_only=True` (the detail page) also admits an approver of the receivable outside the normal
    policy (crm.approvals.selectors.approval_read_or_refuse; one more query and the row, only when
    the normal path said no); such a receivable comes back marked `read_via_approval` and its page
    offers no action. Writers never pass read_only."""
    try:
        pk = int(receivable_id)
    except (ValueError, TypeError) as exc:
        raise Http404 from exc
    related = ("contract", "customer", "plan", "owner", "department", "created_by")
    try:
        return mark_read_via_approval(receivables_visible(user).select_related(*related).get(pk=pk), False)
    except Receivable.DoesNotExist as exc:
        if not read_only:
            raise Http404 from exc
    approval_read_or_refuse(user, model=Receivable, object_id=pk, permission="receivables.view")
    try:
        receivable = Receivable.objects.select_related(*related).get(pk=pk)
    except Receivable.DoesNotExist as exc:
        raise Http404 from exc
    return mark_read_via_approval(receivable, True)


# ---------------------------------------------------------------- lists


@dataclass(frozen=True)
class ReceivableFilters:
    q: str = ""
    status: str = ""
    contract_id: int | None = None
    customer_id: int | None = None


def receivable_list(*, user, filters: ReceivableFilters = ReceivableFilters()) -> QuerySet[Receivable]:
    receivables = receivables_visible(user)
    text = filters.q.strip()
    if text:
        receivables = receivables.filter(
            Q(code__iexact=text)
            | Q(contract__code__iexact=text)
            | Q(contract__name__icontains=text)
            | Q(customer__name__icontains=text)
        )
    if filters.status in Receivable.Status.values:
        receivables = receivables.filter(status=filters.status)
    if filters.contract_id is not None:
        receivables = receivables.filter(contract_id=filters.contract_id)
    if filters.customer_id is not None:
        receivables = receivables.filter(customer_id=filters.customer_id)
    return receivables


def receivable_page(
    *, user, filters: ReceivableFilters, cursor: str | None, size: int = PAGE_SIZE
) -> KeysetPage:
    receivables = receivable_list(user=user, filters=filters).select_related("contract", "customer", "owner")
    return keyset_page(receivables, cursor, size)


@dataclass(frozen=True)
class PlanFilters:
    q: str = ""
    due: str = ""  # "" (all), "upcoming" (not fully received, due within 30 days), "overdue"
    contract_id: int | None = None


def plan_list(
    *, user, filters: PlanFilters = PlanFilters(), today: date | None = None
) -> QuerySet[PaymentPlan]:
    today = today or timezone.localdate()
    plans = plans_visible(user)
    text = filters.q.strip()
    if text:
        plans = plans.filter(
            Q(contract__code__iexact=text)
            | Q(contract__name__icontains=text)
            | Q(customer__name__icontains=text)
        )
    if filters.due == "upcoming":
        plans = plans.filter(
            received_amount__lt=F("amount"),
            due_on__gte=today,
            due_on__lte=today + timedelta(days=UPCOMING_DAYS),
        )
    elif filters.due == "overdue":
        plans = plans.filter(received_amount__lt=F("amount"), due_on__lt=today)
    if filters.contract_id is not None:
        plans = plans.filter(contract_id=filters.contract_id)
    return plans


def plan_page(*, user, filters: PlanFilters, cursor: str | None, size: int = PAGE_SIZE) -> KeysetPage:
    """Plans by due date (oldest first), keyset-paged on (due_on, id); one query per page."""
    plans = plan_list(user=user, filters=filters).select_related("contract", "customer", "contract__owner")
    plans = plans.order_by("due_on", "pk")
    position = _parse_plan_cursor(cursor)
    if position is not None:
        due_on, pk = position
        plans = plans.filter(Q(due_on__gt=due_on) | Q(due_on=due_on, pk__gt=pk))
    rows = list(plans[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    next_cursor = f"{rows[-1].due_on.isoformat()}_{rows[-1].pk}" if has_more and rows else None
    return KeysetPage(rows, next_cursor)


def _parse_plan_cursor(cursor: str | None) -> tuple[date, int] | None:
    if not cursor or "_" not in cursor:
        return None
    day, _sep, pk = cursor.partition("_")
    try:
        return date.fromisoformat(day), int(pk)
    except ValueError:
        return None


# ---------------------------------------------------------------- contract and customer cards


@dataclass
class ContractMoney:
    total: Decimal
    received: Decimal
    outstanding: Decimal
    overdue: Decimal
    pending: Decimal  # draft or in approval, not yet counted as received
    planned: Decimal

    @property
    def registrable(self) -> Decimal:
        """What a new receivable may still be registered for."""
        return max(self.outstanding - self.pending, ZERO)


def contract_money(contract: Contract, *, today: date | None = None) -> ContractMoney:
    """The contract's money in two queries (plans and open receivables aggregated in SQL)."""
    today = today or timezone.localdate()
    late = Q(due_on__lt=today, received_amount__lt=F("amount"))
    plans = PaymentPlan.objects.filter(contract_id=contract.pk).aggregate(
        planned=_sum("amount"),
        overdue=Coalesce(
            Sum(F("amount") - F("received_amount"), filter=late, output_field=MONEY), ZERO, output_field=MONEY
        ),
    )
    pending = Receivable.objects.filter(contract_id=contract.pk, status__in=OPEN_STATUSES).aggregate(
        value=_sum("amount")
    )["value"]
    return ContractMoney(
        total=_fen(contract.total),
        received=_fen(contract.received_amount),
        outstanding=_fen(contract.total - contract.received_amount),
        overdue=_fen(plans["overdue"]),
        pending=_fen(pending),
        planned=_fen(plans["planned"]),
    )


def contract_plans(contract: Contract, *, limit: int = SECTION_LIMIT) -> list[PaymentPlan]:
    return list(PaymentPlan.objects.filter(contract_id=contract.pk).order_by("number", "pk")[:limit])


def contract_receivables(contract: Contract, *, limit: int = SECTION_LIMIT) -> list[Receivable]:
    return list(
        Receivable.objects.filter(contract_id=contract.pk)
        .select_related("plan", "owner")
        .order_by("-received_on", "-pk")[:limit]
    )


@dataclass
class CustomerMoney:
    received: Decimal
    outstanding: Decimal
    overdue: Decimal
    receivables: list
    upcoming: list


def customer_money(user, customer_id: int, *, today: date | None = None) -> CustomerMoney:
    """Received / outstanding / overdue over the customer's effective contracts visible to `user`,
    with the latest receivables and the next plans still to be paid (four queries)."""
    today = today or timezone.localdate()
    contracts = contracts_visible(user).filter(customer_id=customer_id, status__in=EFFECTIVE)
    sums = contracts.aggregate(received=_sum("received_amount"), owed=_sum(F("total") - F("received_amount")))
    contract_ids = contracts.values("pk")
    overdue = PaymentPlan.objects.filter(
        contract_id__in=contract_ids, due_on__lt=today, received_amount__lt=F("amount")
    ).aggregate(value=_sum(F("amount") - F("received_amount")))["value"]
    receivables = list(
        receivables_visible(user)
        .filter(customer_id=customer_id)
        .select_related("contract")
        .order_by("-received_on", "-pk")[:CUSTOMER_LIMIT]
    )
    upcoming = list(
        PaymentPlan.objects.filter(contract_id__in=contract_ids, received_amount__lt=F("amount"))
        .select_related("contract")
        .order_by("due_on", "pk")[:CUSTOMER_LIMIT]
    )
    return CustomerMoney(
        received=_fen(sums["received"]),
        outstanding=_fen(sums["owed"]),
        overdue=_fen(overdue),
        receivables=receivables,
        upcoming=upcoming,
    )
