"""Every write to the points ledger (CUS-10).

Earning and reversal follow the contract life cycle (crm.contracts.signals, connected in
crm/points/apps.py): they run inside the transaction that approves or voids the contract, so they
commit or roll back with it, and the unique constraint `points_once_per_contract` makes them
idempotent. Redemption and manual adjustment need the customer settings permission
("customers.settings") and a customer the actor may see; the customer row is locked
(SELECT … FOR UPDATE) while the balance is read and the entry written, so two concurrent
redemptions can never take the balance below zero.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import Http404
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import log_action
from crm.customers.models import Customer
from crm.customers.selectors import customers_visible
from crm.points.models import PointsEntry
from crm.points.selectors import points_balance

MANAGE_PERMISSION = "customers.settings"
MAX_POINTS = 1_000_000_000
MAX_NOTE = 200


# ---------------------------------------------------------------- contract life cycle


def points_earn_for_contract(*, contract, actor=None) -> PointsEntry | None:
    """Credit the customer with the points of an approved contract's lines (at most once).

    Nothing happens when the contract settings turn earning off, when the lines carry no points,
    or when the contract already earned. Runs inside the caller's transaction."""
    from crm.contracts.models import ContractLine, ContractSettings

    if not ContractSettings.load().earn_points:
        return None
    total = ContractLine.objects.filter(contract=contract).aggregate(total=Sum("points"))["total"] or 0
    if total <= 0:
        return None
    if PointsEntry.objects.filter(contract=contract, kind=PointsEntry.Kind.EARN).exists():
        return None
    try:
        with transaction.atomic():  # a savepoint: a concurrent duplicate fails alone
            entry = PointsEntry.objects.create(
                customer_id=contract.customer_id,
                kind=PointsEntry.Kind.EARN,
                points=min(total, MAX_POINTS),
                contract=contract,
                note=_("合同“%(code)s”审批通过") % {"code": contract.code},
                created_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        return None
    log_action(
        actor=actor,
        action="points.earned",
        target=entry.customer,
        changes={"points": [0, entry.points]},
        message=entry.note,
    )
    return entry


def points_reverse_for_contract(*, contract, actor=None) -> PointsEntry | None:
    """Cancel what a voided contract earned (at most once; nothing when it earned nothing).

    The balance may become negative when the points were already redeemed; the ledger shows why."""
    earned = PointsEntry.objects.filter(contract=contract, kind=PointsEntry.Kind.EARN).first()
    if earned is None:
        return None
    if PointsEntry.objects.filter(contract=contract, kind=PointsEntry.Kind.REVERSE).exists():
        return None
    try:
        with transaction.atomic():
            entry = PointsEntry.objects.create(
                customer_id=earned.customer_id,
                kind=PointsEntry.Kind.REVERSE,
                points=-earned.points,
                contract=contract,
                note=_("合同“%(code)s”作废，冲销积分") % {"code": contract.code},
                created_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        return None
    log_action(
        actor=actor,
        action="points.reversed",
        target=entry.customer,
        changes={"points": [earned.points, 0]},
        message=entry.note,
    )
    return entry


def on_contract_approved(sender, contract, actor=None, **kwargs) -> None:
    points_earn_for_contract(contract=contract, actor=actor)


def on_contract_voided(sender, contract, actor=None, **kwargs) -> None:
    points_reverse_for_contract(contract=contract, actor=actor)


# ---------------------------------------------------------------- manual entries


def _clean_points(value, *, allow_negative: bool) -> int:
    text = str(value if value is not None else "").strip()
    try:
        number = int(text)
    except ValueError as exc:
        raise ValidationError({"points": _("积分必须是整数。")}) from exc
    if number == 0 or (number < 0 and not allow_negative):
        message = _("调整积分不能为 0。") if allow_negative else _("兑换积分必须大于 0。")
        raise ValidationError({"points": message})
    if abs(number) > MAX_POINTS:
        raise ValidationError({"points": _("积分数值过大。")})
    return number


def _clean_note(note) -> str:
    text = str(note or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationError({"note": _("说明不能超过 %(max)s 个字符。") % {"max": MAX_NOTE}})
    return text


def _locked_customer(actor, customer) -> Customer:
    """The customer row, locked, if the actor may manage points and see the customer."""
    if not policy.can(actor, MANAGE_PERMISSION):
        raise PermissionRequiredError(MANAGE_PERMISSION)
    customer_id = getattr(customer, "pk", customer)
    if not customers_visible(actor, include_pool=True).filter(pk=customer_id).exists():
        raise Http404
    return Customer.objects.select_for_update().only("pk", "name").get(pk=customer_id)


def _write(*, actor, customer, kind: str, points: int, note: str, action: str, ip) -> PointsEntry:
    with transaction.atomic():
        locked = _locked_customer(actor, customer)
        balance = points_balance(locked)
        if balance + points < 0:
            if kind == PointsEntry.Kind.REDEEM:
                message = _("客户“%(name)s”当前积分 %(balance)s，不足以兑换 %(points)s 积分。") % {
                    "name": locked.name,
                    "balance": balance,
                    "points": -points,
                }
            else:
                message = _("客户“%(name)s”当前积分 %(balance)s，调整 %(points)s 后将小于 0。") % {
                    "name": locked.name,
                    "balance": balance,
                    "points": points,
                }
            raise ValidationError({"points": message})
        entry = PointsEntry.objects.create(
            customer=locked, kind=kind, points=points, note=note, created_by=actor
        )
        log_action(
            actor=actor,
            action=action,
            target=locked,
            changes={"points": [balance, balance + points]},
            message=note,
            ip_address=ip,
        )
    return entry


def points_redeem(*, actor, customer, points, note: str = "", ip: str | None = None) -> PointsEntry:
    """Take `points` (> 0) from the customer's balance; refused when the balance is too small."""
    amount = _clean_points(points, allow_negative=False)
    text = _clean_note(note)
    return _write(
        actor=actor,
        customer=customer,
        kind=PointsEntry.Kind.REDEEM,
        points=-amount,
        note=text,
        action="points.redeemed",
        ip=ip,
    )


def points_adjust(*, actor, customer, points, note: str = "", ip: str | None = None) -> PointsEntry:
    """Add (positive) or remove (negative) points by hand with a reason; never below zero."""
    amount = _clean_points(points, allow_negative=True)
    text = _clean_note(note)
    if not text:
        raise ValidationError({"note": _("请填写调整原因。")})
    return _write(
        actor=actor,
        customer=customer,
        kind=PointsEntry.Kind.ADJUST,
        points=amount,
        note=text,
        action="points.adjusted",
        ip=ip,
    )
