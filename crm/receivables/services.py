"""Every write to payment plans and receivables (CTR-2): permission-checked, validated (Chinese
ValidationError, nothing saved), atomic and logged with old → new values.

Permissions: the contract must be visible to the actor (crm.contracts.selectors.contracts_visible)
and the actor needs receivables.create (new plan, new receivable, submitting it), receivables.edit
(change a plan or a receivable), receivables.delete, or receivables.approve (confirm without a flow).

Money: amounts are rounded ROUND_HALF_UP to the fen (crm/core/money.to_fen).
- A contract's plans add up to at most the contract total.
- A receivable is registered only on an effective (approved / done) contract, for at most what is
  still open: total − received_amount − the receivables of that contract in draft or approval.
- `Contract.received_amount` and `PaymentPlan.received_amount` change only when a receivable is
  approved (engine callback `receivable_approved`, or `receivable_confirm`), with the contract row
  locked (SELECT … FOR UPDATE) and the limit checked again under that lock: two approvals that
  each fit alone but not together cannot both pass; the later one raises ValidationError and its
  whole approval transaction rolls back.

Approval: `receivable_submit` sends a receivable into the approval engine (kind "receivable").
When no flow is configured the engine's message is shown and the receivable stays a draft; a user
holding receivables.approve may then confirm it directly (`receivable_confirm`).

Reminders (`plans_remind`, daily job in crm/receivables/tasks.py): the contract owner is told once
when a plan comes within its `remind_days_before` of the due date (marker `reminded_on`) and once
when it is overdue (marker `overdue_notified_on`); changing a plan's due date clears both markers.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, F, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import diff, log_action, log_actions_bulk
from crm.contracts.models import Contract
from crm.contracts.selectors import contracts_visible
from crm.core.money import to_fen
from crm.customers.services import number_next
from crm.messaging.models import Notification
from crm.messaging.services import notification_send
from crm.receivables.models import PaymentMethod, PaymentPlan, Receivable

KIND = "receivable"
MAX_AMOUNT = Decimal("99999999999999.99")
MAX_REMIND_DAYS = 365
OPEN_STATUSES = (Receivable.Status.DRAFT, Receivable.Status.PENDING)
EDITABLE_STATUSES = (Receivable.Status.DRAFT, Receivable.Status.REJECTED)
ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=18, decimal_places=2)
PLAN_FIELDS = ("amount", "due_on", "method", "remind_days_before", "note")
RECEIVABLE_FIELDS = ("amount", "received_on", "method", "plan", "note")


def _require(actor, permission: str, contract: Contract) -> None:
    """The permission, on a contract the actor may see."""
    if not policy.can(actor, permission):
        raise PermissionRequiredError(permission)
    if not contracts_visible(actor).filter(pk=contract.pk).exists():
        raise PermissionRequiredError(permission)


def _sum(queryset, expression="amount") -> Decimal:
    value = queryset.aggregate(v=Coalesce(Sum(expression, output_field=MONEY), ZERO, output_field=MONEY))["v"]
    return to_fen(value or 0)


def _lock_contract(contract_id: int) -> Contract:
    return Contract.objects.select_for_update().get(pk=contract_id)


def _lock_receivable(receivable_pk: int) -> tuple[Contract, Receivable]:
    """Lock the contract first, then the receivable: every writer takes the locks in this order."""
    contract_id = Receivable.objects.filter(pk=receivable_pk).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise ValidationError(_("回款不存在或已被删除。"))
    contract = _lock_contract(contract_id)
    receivable = (
        Receivable.objects.select_for_update(of=("self",)).select_related("plan").get(pk=receivable_pk)
    )
    return contract, receivable


def contract_url(contract_id: int) -> str:
    return reverse("contracts:detail", args=[contract_id])


# ---------------------------------------------------------------- cleaning


def _amount(value, field: str = "amount") -> Decimal:
    if value in (None, ""):
        raise ValidationError({field: _("请填写金额。")})
    try:
        amount = to_fen(value)
    except ValueError as exc:
        raise ValidationError({field: _("金额必须是数字。")}) from exc
    if amount <= 0:
        raise ValidationError({field: _("金额必须大于 0。")})
    if amount > MAX_AMOUNT:
        raise ValidationError({field: _("金额过大。")})
    return amount


def _date(value, field: str, label: str) -> date:
    if value in (None, ""):
        raise ValidationError({field: _("请填写%(label)s。") % {"label": label}})
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError({field: _("请输入有效的日期。")}) from exc
    if not isinstance(value, date):
        raise ValidationError({field: _("请输入有效的日期。")})
    return value


def _method(value, *, blank: bool) -> str:
    value = value or ""
    if value == "" and blank:
        return ""
    if value not in PaymentMethod.values:
        raise ValidationError({"method": _("回款方式无效。")})
    return value


def _note(value) -> str:
    note = str(value or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": _("备注不能超过 500 个字符。")})
    return note


def _clean_plan(values: dict, plan: PaymentPlan | None) -> dict:
    merged = {key: getattr(plan, key) for key in PLAN_FIELDS} if plan is not None else {}
    merged.update({key: values[key] for key in PLAN_FIELDS if key in values})
    days = merged.get("remind_days_before")
    if days in (None, ""):
        days = 3
    try:
        days = int(days)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"remind_days_before": _("提前提醒天数必须是整数。")}) from exc
    if not 0 <= days <= MAX_REMIND_DAYS:
        raise ValidationError(
            {"remind_days_before": _("提前提醒天数必须在 0 到 %(max)s 之间。") % {"max": MAX_REMIND_DAYS}}
        )
    return {
        "amount": _amount(merged.get("amount")),
        "due_on": _date(merged.get("due_on"), "due_on", _("计划回款日期")),
        "method": _method(merged.get("method"), blank=True),
        "remind_days_before": days,
        "note": _note(merged.get("note")),
    }


def _check_plan_total(contract: Contract, amount: Decimal, exclude_pk: int | None) -> None:
    others = PaymentPlan.objects.filter(contract_id=contract.pk)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    planned = _sum(others)
    if planned + amount > contract.total:
        raise ValidationError(
            {
                "amount": _(
                    "回款计划合计 ¥%(sum)s 超过合同金额 ¥%(total)s"
                    "（其他计划已有 ¥%(planned)s，本期 ¥%(amount)s，最多还可计划 ¥%(left)s）。"
                )
                % {
                    "sum": planned + amount,
                    "total": contract.total,
                    "planned": planned,
                    "amount": amount,
                    "left": max(contract.total - planned, ZERO),
                }
            }
        )


def _plan_snapshot(plan: PaymentPlan) -> dict:
    return {key: getattr(plan, key) for key in PLAN_FIELDS}


# ---------------------------------------------------------------- payment plans


def plan_create(*, actor, contract: Contract, values: dict, ip: str | None = None) -> PaymentPlan:
    """A new instalment of `contract` (any status but void); its number is the next of the contract."""
    _require(actor, "receivables.create", contract)
    cleaned = _clean_plan(values, None)
    with transaction.atomic():
        contract = _lock_contract(contract.pk)  # serialises numbering and the sum check per contract
        if contract.status == Contract.Status.VOID:
            raise ValidationError(_("合同已作废，不能添加回款计划。"))
        _check_plan_total(contract, cleaned["amount"], None)
        last = PaymentPlan.objects.filter(contract_id=contract.pk).order_by("-number").first()
        plan = PaymentPlan.objects.create(
            contract=contract,
            customer_id=contract.customer_id,
            number=(last.number + 1) if last else 1,
            created_by=actor,
            **cleaned,
        )
        log_action(
            actor=actor,
            action="payment_plan.created",
            target=plan,
            changes={key: [None, value] for key, value in _plan_snapshot(plan).items()}
            | {"contract": [None, contract.code], "number": [None, plan.number]},
            ip_address=ip,
        )
    return plan


def plan_update(*, actor, plan: PaymentPlan, values: dict, ip: str | None = None) -> PaymentPlan:
    _require(actor, "receivables.edit", plan.contract)
    cleaned = _clean_plan(values, plan)
    with transaction.atomic():
        contract = _lock_contract(plan.contract_id)
        if contract.status == Contract.Status.VOID:
            raise ValidationError(_("合同已作废，不能修改回款计划。"))
        plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if cleaned["amount"] < plan.received_amount:
            raise ValidationError(
                {
                    "amount": _("计划金额不能少于该期已回款 ¥%(received)s。")
                    % {"received": to_fen(plan.received_amount)}
                }
            )
        _check_plan_total(contract, cleaned["amount"], plan.pk)
        before = _plan_snapshot(plan)
        fields = list(PLAN_FIELDS)
        if cleaned["due_on"] != plan.due_on or cleaned["remind_days_before"] != plan.remind_days_before:
            plan.reminded_on = None  # a new due date (or reminder window) is reminded again
            plan.overdue_notified_on = None
            fields += ["reminded_on", "overdue_notified_on"]
        for key, value in cleaned.items():
            setattr(plan, key, value)
        plan.save(update_fields=fields)
        log_action(
            actor=actor,
            action="payment_plan.updated",
            target=plan,
            changes=diff(before, _plan_snapshot(plan)),
            ip_address=ip,
        )
    return plan


def plan_delete(*, actor, plan: PaymentPlan, ip: str | None = None) -> None:
    """Refused once money was received against the plan or a receivable of it is in approval."""
    _require(actor, "receivables.delete", plan.contract)
    with transaction.atomic():
        plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.received_amount > 0:
            raise ValidationError(
                _("第 %(n)s 期回款计划已回款 ¥%(received)s，不能删除。")
                % {"n": plan.number, "received": to_fen(plan.received_amount)}
            )
        if plan.receivables.filter(status=Receivable.Status.PENDING).exists():
            raise ValidationError(_("第 %(n)s 期回款计划有审批中的回款，不能删除。") % {"n": plan.number})
        log_action(
            actor=actor,
            action="payment_plan.deleted",
            target=plan,
            changes={key: [value, None] for key, value in _plan_snapshot(plan).items()}
            | {"number": [plan.number, None]},
            ip_address=ip,
        )
        plan.delete()


# ---------------------------------------------------------------- reminders


def _notify_plan(plan: PaymentPlan, title: str, body: str) -> None:
    notification_send(
        recipient=plan.contract.owner,
        kind=Notification.Kind.REMINDER,
        title=title[:200],
        body=body,
        url=contract_url(plan.contract_id),
    )


def plans_remind(*, today: date | None = None) -> tuple[int, int]:
    """Tell contract owners about plans coming due and plans overdue, once each (idempotent).

    Coming due: today ≥ due_on − remind_days_before, not fully received, `reminded_on` empty →
    notified, `reminded_on` = today. Overdue: due_on < today, not fully received,
    `overdue_notified_on` empty → notified, `overdue_notified_on` = today. Only plans of effective
    (approved / done) contracts count; a plan already overdue gets only the overdue message.
    Selecting and marking are set-based (the rows are locked so
    two workers running at once notify once); returns (coming due, overdue) counts.
    """
    today = today or timezone.localdate()
    base = PaymentPlan.objects.filter(
        received_amount__lt=F("amount"), contract__status__in=[Contract.Status.APPROVED, Contract.Status.DONE]
    )
    # due_on − days ≤ today ⇔ due_on ≤ today + days: one OR term per distinct reminder window.
    windows = set(
        base.filter(reminded_on__isnull=True)
        .order_by()
        .values_list("remind_days_before", flat=True)
        .distinct()
    )
    reminded = overdue = 0
    if windows:
        condition = Q(pk__in=[])
        for days in windows:
            condition |= Q(remind_days_before=days, due_on__lte=today + timedelta(days=days))
        reminded = _notify_and_mark(
            # a plan already overdue gets the overdue message only
            base.filter(condition, due_on__gte=today, reminded_on__isnull=True),
            "reminded_on",
            today,
            "payment_plan.reminded",
            _coming_due_message,
        )
    overdue = _notify_and_mark(
        base.filter(due_on__lt=today, overdue_notified_on__isnull=True),
        "overdue_notified_on",
        today,
        "payment_plan.overdue_notified",
        _overdue_message,
    )
    return reminded, overdue


def _plan_facts(plan: PaymentPlan) -> dict:
    return {
        "contract": plan.contract.code,
        "name": plan.contract.name,
        "customer": plan.customer.name,
        "n": plan.number,
        "due": plan.due_on.isoformat(),
        "amount": plan.amount,
        "left": plan.outstanding_amount,
    }


def _coming_due_message(plan: PaymentPlan) -> tuple[str, str]:
    facts = _plan_facts(plan)
    title = _("回款提醒：%(contract)s 第 %(n)s 期") % facts
    body = _("合同“%(name)s”（%(customer)s）第 %(n)s 期计划于 %(due)s 回款 ¥%(amount)s，尚未回款 ¥%(left)s。")
    return title, body % facts


def _overdue_message(plan: PaymentPlan) -> tuple[str, str]:
    facts = _plan_facts(plan)
    title = _("回款逾期：%(contract)s 第 %(n)s 期") % facts
    body = _(
        "合同“%(name)s”（%(customer)s）第 %(n)s 期应于 %(due)s 回款 ¥%(amount)s，已逾期未回款 ¥%(left)s。"
    )
    return title, body % facts


def _notify_and_mark(queryset, marker: str, today: date, action: str, message) -> int:
    with transaction.atomic():
        due = list(
            queryset.select_for_update(of=("self",))
            .select_related("contract__owner", "customer")
            .order_by("pk")
        )
        if not due:
            return 0
        ids = [plan.pk for plan in due]
        # Conditional UPDATE: a row another run marked meanwhile is not counted twice.
        PaymentPlan.objects.filter(pk__in=ids, **{f"{marker}__isnull": True}).update(**{marker: today})
        for plan in due:
            title, body = message(plan)
            _notify_plan(plan, title, body)
        log_actions_bulk(actor=None, action=action, targets=due, changes={marker: [None, today]})
    return len(due)


# ---------------------------------------------------------------- receivables


def _clean_receivable(values: dict, receivable: Receivable | None, contract: Contract) -> dict:
    merged = {key: getattr(receivable, key) for key in RECEIVABLE_FIELDS} if receivable else {}
    merged.update({key: values[key] for key in RECEIVABLE_FIELDS if key in values})
    received_on = _date(merged.get("received_on") or timezone.localdate(), "received_on", _("回款日期"))
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": _("回款日期不能晚于今天。")})
    plan = merged.get("plan")
    if plan is not None and not isinstance(plan, PaymentPlan):
        plan = PaymentPlan.objects.filter(pk=plan).first() if str(plan).isdigit() else None
        if plan is None:
            raise ValidationError({"plan": _("回款计划不存在。")})
    if plan is not None and plan.contract_id != contract.pk:
        raise ValidationError({"plan": _("所选回款计划不属于合同“%(code)s”。") % {"code": contract.code}})
    return {
        "amount": _amount(merged.get("amount")),
        "received_on": received_on,
        "method": _method(merged.get("method") or PaymentMethod.BANK, blank=False),
        "plan": plan,
        "note": _note(merged.get("note")),
    }


def _check_open_amount(contract: Contract, amount: Decimal, exclude_pk: int | None) -> None:
    """amount ≤ total − received − receivables of the contract in draft or approval."""
    open_ = Receivable.objects.filter(contract_id=contract.pk, status__in=OPEN_STATUSES)
    if exclude_pk is not None:
        open_ = open_.exclude(pk=exclude_pk)
    pending = _sum(open_)
    left = max(contract.total - contract.received_amount - pending, ZERO)
    if amount > left:
        raise ValidationError(
            {
                "amount": _(
                    "回款金额 ¥%(amount)s 超过合同未回款金额 ¥%(left)s"
                    "（合同金额 ¥%(total)s，已回款 ¥%(received)s，待确认 ¥%(pending)s）。"
                )
                % {
                    "amount": amount,
                    "left": left,
                    "total": contract.total,
                    "received": contract.received_amount,
                    "pending": pending,
                }
            }
        )


def _check_effective(contract: Contract) -> None:
    if not contract.is_effective:
        raise ValidationError(_("合同尚未审批通过，不能登记回款。"))


def _receivable_snapshot(receivable: Receivable) -> dict:
    return {
        "amount": receivable.amount,
        "received_on": receivable.received_on,
        "method": receivable.method,
        "plan": receivable.plan.number if receivable.plan_id else None,
        "note": receivable.note,
        "status": receivable.status,
    }


def receivable_create(*, actor, contract: Contract, values: dict, ip: str | None = None) -> Receivable:
    """Register money received (a draft) on an effective contract; it counts once approved."""
    _require(actor, "receivables.create", contract)
    with transaction.atomic():
        contract = _lock_contract(contract.pk)
        _check_effective(contract)
        cleaned = _clean_receivable(values, None, contract)
        _check_open_amount(contract, cleaned["amount"], None)
        receivable = Receivable.objects.create(
            code=number_next(key="receivable"),
            contract=contract,
            customer_id=contract.customer_id,
            owner_id=contract.owner_id,
            department_id=contract.department_id,
            created_by=actor,
            **cleaned,
        )
        log_action(
            actor=actor,
            action="receivable.created",
            target=receivable,
            changes={key: [None, value] for key, value in _receivable_snapshot(receivable).items()}
            | {"contract": [None, contract.code]},
            ip_address=ip,
        )
    return receivable


def receivable_update(*, actor, receivable: Receivable, values: dict, ip: str | None = None) -> Receivable:
    """Change a draft or rejected receivable (then submit it again)."""
    _require(actor, "receivables.edit", receivable.contract)
    with transaction.atomic():
        contract, receivable = _lock_receivable(receivable.pk)
        if receivable.status not in EDITABLE_STATUSES:
            raise ValidationError(_("只有草稿或已驳回的回款可以修改。"))
        _check_effective(contract)
        cleaned = _clean_receivable(values, receivable, contract)
        _check_open_amount(contract, cleaned["amount"], receivable.pk)
        before = _receivable_snapshot(receivable)
        for key, value in cleaned.items():
            setattr(receivable, key, value)
        receivable.save(update_fields=[*RECEIVABLE_FIELDS, "updated_at"])
        log_action(
            actor=actor,
            action="receivable.updated",
            target=receivable,
            changes=diff(before, _receivable_snapshot(receivable)),
            ip_address=ip,
        )
    return receivable


def receivable_delete(*, actor, receivable: Receivable, ip: str | None = None) -> None:
    _require(actor, "receivables.delete", receivable.contract)
    with transaction.atomic():
        _contract, receivable = _lock_receivable(receivable.pk)
        if receivable.status not in EDITABLE_STATUSES:
            raise ValidationError(_("只有草稿或已驳回的回款可以删除。"))
        log_action(
            actor=actor,
            action="receivable.deleted",
            target=receivable,
            changes={key: [value, None] for key, value in _receivable_snapshot(receivable).items()}
            | {"code": [receivable.code, None]},
            ip_address=ip,
        )
        receivable.delete()


def receivable_submit(*, actor, receivable: Receivable, ip: str | None = None) -> Receivable:
    """Send a draft (or rejected) receivable into the approval engine (kind "receivable").

    Without a configured flow the engine's message is raised and the receivable stays as it was;
    someone with receivables.approve may then `receivable_confirm` it."""
    from crm.approvals import services as approvals

    _require(actor, "receivables.create", receivable.contract)
    with transaction.atomic():
        contract, receivable = _lock_receivable(receivable.pk)
        if receivable.status not in EDITABLE_STATUSES:
            raise ValidationError(
                _("回款“%(code)s”当前状态为“%(status)s”，不能提交审批。")
                % {"code": receivable.code, "status": receivable.get_status_display()}
            )
        _check_effective(contract)
        _check_open_amount(contract, receivable.amount, receivable.pk)
        old = receivable.status
        # In approval before the engine starts, so its request_submitted handler finds nothing to do;
        # if the engine refuses (no flow, …) the whole transaction rolls back and it stays as it was.
        receivable.status = Receivable.Status.PENDING
        receivable.save(update_fields=["status", "updated_at"])
        approvals.submit(actor=actor, document=receivable, kind=KIND, ip=ip)
        log_action(
            actor=actor,
            action="receivable.submitted",
            target=receivable,
            changes={"status": [old, receivable.status]},
            ip_address=ip,
        )
    return receivable


def flow_configured(receivable: Receivable) -> bool:
    from crm.approvals import services as approvals

    return approvals.flow_for(KIND, receivable) is not None


def can_confirm(user, receivable: Receivable) -> bool:
    """May `user` confirm this receivable directly (receivables.approve and no flow applies)?"""
    return (
        receivable.status in EDITABLE_STATUSES
        and policy.can(user, "receivables.approve")
        and not flow_configured(receivable)
    )


def receivable_confirm(*, actor, receivable: Receivable, ip: str | None = None) -> Receivable:
    """Confirm a draft receivable without the engine: only when no approval flow applies to it and
    the actor holds receivables.approve. The amounts are booked like an engine approval."""
    _require(actor, "receivables.approve", receivable.contract)
    with transaction.atomic():
        contract, receivable = _lock_receivable(receivable.pk)
        if receivable.status not in EDITABLE_STATUSES:
            raise ValidationError(
                _("回款“%(code)s”当前状态为“%(status)s”，不能直接确认。")
                % {"code": receivable.code, "status": receivable.get_status_display()}
            )
        if flow_configured(receivable):
            raise ValidationError(_("回款已配置审批流，请提交审批。"))
        _book(contract, receivable, actor=actor, ip=ip, action="receivable.confirmed")
    return receivable


def _book(contract: Contract, receivable: Receivable, *, actor, ip: str | None, action: str) -> None:
    """Count an approved receivable (its contract row locked by the caller): check the limit
    again under the lock, add with F() to the contract and the plan, mark it approved."""
    _check_effective(contract)
    left = contract.total - contract.received_amount
    if receivable.amount > left:
        raise ValidationError(
            _("回款“%(code)s”金额 ¥%(amount)s 超过合同“%(contract)s”未回款金额 ¥%(left)s，不能确认。")
            % {"code": receivable.code, "amount": receivable.amount, "contract": contract.code, "left": left}
        )
    Contract.objects.filter(pk=contract.pk).update(received_amount=F("received_amount") + receivable.amount)
    if receivable.plan_id:
        PaymentPlan.objects.filter(pk=receivable.plan_id).update(
            received_amount=F("received_amount") + receivable.amount
        )
    old = receivable.status
    receivable.status = Receivable.Status.APPROVED
    receivable.approved_at = timezone.now()
    receivable.save(update_fields=["status", "approved_at", "updated_at"])
    log_action(
        actor=actor,
        action=action,
        target=receivable,
        changes={
            "status": [old, receivable.status],
            "contract_received": [
                str(contract.received_amount),
                str(contract.received_amount + receivable.amount),
            ],
        },
        ip_address=ip,
    )


# ---------------------------------------------------------------- approval engine callbacks


def _locked_of(request) -> tuple[Contract, Receivable] | tuple[None, None]:
    try:
        return _lock_receivable(int(request.object_id))
    except (TypeError, ValueError, ValidationError):
        return None, None


def _document_locked(request) -> Receivable | None:
    return _locked_of(request)[1]


def receivable_approved(request) -> None:
    """kinds.connect("receivable", on_approved=…): runs inside the deciding transaction; a
    ValidationError here rolls the whole approval back."""
    from crm.approvals.models import ApprovalTask

    contract, receivable = _locked_of(request)
    if receivable is None or receivable.status == Receivable.Status.APPROVED:
        return
    last = (
        ApprovalTask.objects.filter(request_id=request.pk, status=ApprovalTask.Status.APPROVED)
        .select_related("approver")
        .order_by("-decided_at", "-pk")
        .first()
    )
    _book(contract, receivable, actor=last.approver if last else None, ip=None, action="receivable.approved")


def receivable_rejected(request) -> None:
    receivable = _document_locked(request)
    if receivable is None or receivable.status != Receivable.Status.PENDING:
        return
    receivable.status = Receivable.Status.REJECTED
    receivable.save(update_fields=["status", "updated_at"])
    log_action(
        actor=None,
        action="receivable.rejected",
        target=receivable,
        changes={"status": [Receivable.Status.PENDING, Receivable.Status.REJECTED]},
    )


def receivable_request_withdrawn(sender, request, **kwargs) -> None:
    """The applicant withdrew the request: the receivable is a draft again."""
    receivable = _document_locked(request)
    if receivable is None or receivable.status != Receivable.Status.PENDING:
        return
    receivable.status = Receivable.Status.DRAFT
    receivable.save(update_fields=["status", "updated_at"])
    log_action(
        actor=request.applicant,
        action="receivable.withdrawn",
        target=receivable,
        changes={"status": [Receivable.Status.PENDING, Receivable.Status.DRAFT]},
    )


def receivable_request_submitted(sender, request, **kwargs) -> None:
    """A rejected request resubmitted from the approvals page puts the receivable in approval."""
    receivable = _document_locked(request)
    if receivable is None or receivable.status not in EDITABLE_STATUSES:
        return
    old = receivable.status
    receivable.status = Receivable.Status.PENDING
    receivable.save(update_fields=["status", "updated_at"])
    log_action(
        actor=request.applicant,
        action="receivable.submitted",
        target=receivable,
        changes={"status": [old, Receivable.Status.PENDING]},
    )
