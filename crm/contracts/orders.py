"""The order flow of product orders (CTR-3): an approved contract of kind ORDER goes
confirmed → paid → shipped → done, one step at a time.

Each step needs contracts.edit on a contract the actor may see, locks the contract row, checks it
is still in the step before (a clear message otherwise, nothing changed) and writes the log.
Shipping takes each line's quantity out of Product.stock in one UPDATE, with the product rows
locked in primary-key order (concurrent shipments of orders sharing products cannot deadlock);
a product that would go below zero refuses the shipment, naming the products and their stock,
unless the actor has products.settings and asks for it (allow_negative=True). Completing the
order also completes the contract (status 已完成).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, DecimalField, F, Sum, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import log_action, log_actions_bulk
from crm.contracts.models import Contract, ContractLine
from crm.contracts.selectors import contracts_visible
from crm.products.models import Product

EDIT_PERMISSION = "contracts.edit"
NEGATIVE_STOCK_PERMISSION = "products.settings"
OrderStatus = Contract.OrderStatus

# step name → (order status required before, order status after, log action)
STEPS = {
    "paid": (OrderStatus.CONFIRMED, OrderStatus.PAID, "contract.order_paid"),
    "ship": (OrderStatus.PAID, OrderStatus.SHIPPED, "contract.order_shipped"),
    "complete": (OrderStatus.SHIPPED, OrderStatus.DONE, "contract.order_completed"),
}
FLOW = (OrderStatus.CONFIRMED, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DONE)
NEXT_STEP = {before: name for name, (before, _after, _action) in STEPS.items()}


def next_step(contract: Contract) -> str | None:
    """The step an order may take now ("paid" / "ship" / "complete"), None when there is none."""
    if contract.kind != Contract.Kind.ORDER or contract.status != Contract.Status.APPROVED:
        return None
    return NEXT_STEP.get(contract.order_status)


def _locked(actor, contract: Contract) -> Contract:
    if not contracts_visible(actor).filter(pk=contract.pk).exists():
        raise Http404
    if not policy.can(actor, EDIT_PERMISSION):
        raise PermissionRequiredError(EDIT_PERMISSION)
    return Contract.objects.select_for_update().get(pk=contract.pk)


def _check_step(contract: Contract, step: str) -> None:
    before, _after, _action = STEPS[step]
    if contract.kind != Contract.Kind.ORDER:
        raise ValidationError(_("合同“%(code)s”不是产品订单，没有订单流程。") % {"code": contract.code})
    if contract.status != Contract.Status.APPROVED:
        raise ValidationError(
            _("订单“%(code)s”当前状态为“%(status)s”，只有已审批的订单可以执行此操作。")
            % {"code": contract.code, "status": contract.get_status_display()}
        )
    if contract.order_status != before:
        current = contract.get_order_status_display() if contract.order_status else _("未确认")
        raise ValidationError(
            _("订单“%(code)s”当前为“%(current)s”，需要先到“%(required)s”才能执行此操作。")
            % {"code": contract.code, "current": current, "required": before.label}
        )


def _advance(actor, contract: Contract, step: str, *, ip, extra_fields=(), changes=None) -> Contract:
    _before, after, action = STEPS[step]
    old = contract.order_status
    contract.order_status = after
    fields = ["order_status", "updated_at", *extra_fields]
    contract.save(update_fields=fields)
    log_action(
        actor=actor,
        action=action,
        target=contract,
        changes={"order_status": [old, after], **(changes or {})},
        ip_address=ip,
    )
    return contract


def order_mark_paid(*, actor, contract: Contract, ip: str | None = None) -> Contract:
    """已确认 → 已付款."""
    with transaction.atomic():
        locked = _locked(actor, contract)
        _check_step(locked, "paid")
        return _advance(actor, locked, "paid", ip=ip)


def _quantities(contract: Contract) -> dict[int, Decimal]:
    rows = (
        ContractLine.objects.filter(contract=contract)
        .values("product_id")
        .annotate(quantity=Sum("quantity"))
        .order_by("product_id")
    )
    return {row["product_id"]: row["quantity"] for row in rows}


def order_ship(*, actor, contract: Contract, allow_negative: bool = False, ip: str | None = None) -> Contract:
    """已付款 → 已发货: take the lines' quantities out of stock (all or nothing)."""
    with transaction.atomic():
        locked = _locked(actor, contract)
        _check_step(locked, "ship")
        wanted = _quantities(locked)
        products = list(
            Product.objects.select_for_update()
            .filter(pk__in=wanted)
            .order_by("pk")
            .only("pk", "code", "name", "unit", "stock")
        )
        short = [p for p in products if p.stock - wanted[p.pk] < 0]
        if short and not (allow_negative and policy.can(actor, NEGATIVE_STOCK_PERMISSION)):
            names = "；".join(
                _("%(name)s（库存 %(stock)s，需要 %(quantity)s）")
                % {
                    "name": p.name,
                    "stock": _plain(p.stock),
                    "quantity": _plain(wanted[p.pk]),
                }
                for p in short
            )
            if allow_negative:
                message = _("库存不足，不能发货：%(products)s。负库存发货需要产品设置权限。")
            else:
                message = _("库存不足，不能发货：%(products)s。")
            raise ValidationError(message % {"products": names})
        if products:
            money = DecimalField(max_digits=14, decimal_places=2)
            taken = Case(
                *[When(pk=p.pk, then=Value(wanted[p.pk])) for p in products],
                default=Value(Decimal("0")),
                output_field=money,
            )
            Product.objects.filter(pk__in=[p.pk for p in products]).update(
                stock=F("stock") - taken, updated_at=timezone.now()
            )
            log_actions_bulk(
                actor=actor,
                action="product.stock_shipped",
                targets=products,
                message=locked.code,
                ip_address=ip,
                changes_by_target={
                    p.pk: {"stock": [str(p.stock), str(p.stock - wanted[p.pk])]} for p in products
                },
            )
        locked.shipped_at = timezone.now()
        return _advance(
            actor,
            locked,
            "ship",
            ip=ip,
            extra_fields=["shipped_at"],
            changes={"negative_stock": [None, [p.code for p in short]]} if short else None,
        )


def _plain(value: Decimal) -> str:
    """2.00 → "2", 2.50 → "2.5" for messages."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def order_complete(*, actor, contract: Contract, ip: str | None = None) -> Contract:
    """已发货 → 已完成; the contract becomes 已完成 too."""
    with transaction.atomic():
        locked = _locked(actor, contract)
        _check_step(locked, "complete")
        old_status = locked.status
        locked.status = Contract.Status.DONE
        return _advance(
            actor,
            locked,
            "complete",
            ip=ip,
            extra_fields=["status"],
            changes={"status": [old_status, Contract.Status.DONE]},
        )


ACTIONS = {"paid": order_mark_paid, "ship": order_ship, "complete": order_complete}
