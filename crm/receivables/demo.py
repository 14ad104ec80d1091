"""Demo payment plans and receivables for seed_demo (idempotent; runs after the contracts demo).

A one-step "receivable" approval flow (finance role) is created when none exists. Every approved
demo contract gets three plans (40 / 30 / 30 percent of its total; the first one already due), one
receivable against its first plan approved through the engine, and one against its second plan
left in approval. Nothing is created when plans exist or when there is no approved contract."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from crm.accounts.models import Role, User
from crm.approvals import services as approvals
from crm.approvals.models import ApprovalFlow, ApprovalStep, ApprovalTask
from crm.contracts.models import Contract
from crm.core.money import to_fen
from crm.receivables import services
from crm.receivables.models import PaymentMethod, PaymentPlan, Receivable

SHARES = (Decimal("0.4"), Decimal("0.3"))
DUE_IN_DAYS = (-10, 20, 50)


def ensure_flow() -> None:
    admin = User.objects.filter(roles__is_super=True, is_active=True).order_by("pk").first()
    finance = Role.objects.filter(code="finance").first()
    if (
        admin is None
        or finance is None
        or ApprovalFlow.objects.filter(kind=services.KIND, is_active=True).exists()
    ):
        return
    approvals.flow_save(
        actor=admin,
        name="回款确认",
        kind=services.KIND,
        description="财务确认到账后计入合同已回款",
        steps=[
            {
                "name": "财务确认到账",
                "approver_type": ApprovalStep.ApproverType.ROLE,
                "approver_role": finance,
            }
        ],
    )


def _approve(receivable: Receivable) -> None:
    task = (
        ApprovalTask.objects.filter(
            request__kind=services.KIND,
            request__object_id=str(receivable.pk),
            request__status="pending",
            status=ApprovalTask.Status.PENDING,
        )
        .select_related("approver")
        .order_by("pk")
        .first()
    )
    if task is not None:
        approvals.approve(actor=task.approver, task=task, comment="已到账")


def _split(total: Decimal) -> list[Decimal]:
    first, second = (to_fen(total * share) for share in SHARES)
    return [first, second, total - first - second]


@transaction.atomic
def seed() -> int:
    """Returns how many plans were created."""
    if PaymentPlan.objects.exists() or Receivable.objects.exists():
        return 0
    contracts = list(
        Contract.objects.filter(status=Contract.Status.APPROVED, total__gt=0, owner__is_active=True)
        .select_related("owner")
        .order_by("pk")
    )
    if not contracts:
        return 0
    ensure_flow()
    today = timezone.localdate()
    created = 0
    for contract in contracts:
        owner = contract.owner
        amounts = [amount for amount in _split(contract.total) if amount > 0]
        plans = [
            services.plan_create(
                actor=owner,
                contract=contract,
                values={
                    "amount": amount,
                    "due_on": today + timedelta(days=DUE_IN_DAYS[index]),
                    "method": PaymentMethod.BANK,
                    "remind_days_before": 3,
                },
            )
            for index, amount in enumerate(amounts)
        ]
        created += len(plans)
        first = services.receivable_create(
            actor=owner,
            contract=contract,
            values={"amount": plans[0].amount, "received_on": today - timedelta(days=8), "plan": plans[0]},
        )
        _submit_or_confirm(owner, first, approve=True)
        if len(plans) > 1:
            second = services.receivable_create(
                actor=owner,
                contract=contract,
                values={
                    "amount": to_fen(plans[1].amount / 2),
                    "received_on": today,
                    "plan": plans[1],
                    "method": PaymentMethod.ACCEPTANCE,
                    "note": "承兑汇票，待财务确认",
                },
            )
            _submit_or_confirm(owner, second, approve=False)
    return created


def _submit_or_confirm(owner, receivable: Receivable, *, approve: bool) -> None:
    if services.flow_configured(receivable):
        services.receivable_submit(actor=owner, receivable=receivable)
        if approve:
            _approve(receivable)
    elif approve:  # no finance role to configure a flow with: the super admin confirms directly
        admin = User.objects.filter(roles__is_super=True, is_active=True).order_by("pk").first()
        if admin is not None:
            services.receivable_confirm(actor=admin, receivable=receivable)
