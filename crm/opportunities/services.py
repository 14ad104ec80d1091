"""Every write to opportunities (OPP-1): one function per business action, atomic, permission-checked,
logged. Transfer is set-based (one UPDATE, one INSERT of N log rows). Moving to the 赢单 / 输单 stage
only happens through `opportunity_win` / `opportunity_lose`."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.accounts.models import User
from crm.activities import services as activity_services
from crm.activities.models import FollowUp
from crm.audit.services import diff, log_action, log_actions_bulk
from crm.core.money import line_total, to_decimal, to_fen
from crm.customers import services as customer_services
from crm.customers.models import Contact, Customer, DictionaryItem
from crm.customers.selectors import customers_visible
from crm.opportunities.models import Opportunity, OpportunityLine, Stage, StageGroup
from crm.products.models import Product

MAX_AMOUNT = Decimal("999999999999.99")
EDITABLE_FIELDS = ("name", "customer", "source", "expected_amount", "expected_close_date", "remark")


def _require(actor, permission: str) -> None:
    if not policy.can(actor, permission):
        raise PermissionRequiredError(permission)


def _snapshot(opp: Opportunity) -> dict[str, Any]:
    return {key: getattr(opp, key) for key in EDITABLE_FIELDS} | {
        "stage": opp.stage,
        "owner": opp.owner,
        "status": opp.get_status_display(),
    }


@dataclass
class LineInput:
    product: Product
    quantity: Any = 1
    unit_price: Any = None  # None: the price policy's price (crm.products.pricing.price_for)
    discount_percent: Any = 0


def _clean_lines(lines: list[LineInput], customer: Customer) -> list[OpportunityLine]:
    from crm.products.pricing import price_for

    rows, errors = [], []
    for index, line in enumerate(lines, start=1):
        try:
            quantity = to_decimal(line.quantity)
            price = (
                price_for(line.product, customer=customer, quantity=quantity).unit_price
                if (line.unit_price in (None, ""))
                else to_fen(line.unit_price)
            )
            discount = to_decimal(line.discount_percent or 0)
            if quantity <= 0:
                raise ValueError
            amount = line_total(quantity, price, discount)
        except (ValueError, ArithmeticError):
            errors.append(
                _("第 %(n)s 行产品的数量、单价或折扣无效（数量须大于 0，折扣 0–100）。") % {"n": index}
            )
            continue
        rows.append(
            OpportunityLine(
                product=line.product,
                quantity=quantity,
                unit_price=price,
                discount_percent=discount,
                amount=amount,
            )
        )
    if errors:
        raise ValidationError({"lines": errors})
    return rows


def _check_values(actor, values: dict[str, Any], contacts, *, previous=None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned = {k: v for k, v in values.items() if k in EDITABLE_FIELDS}
    cleaned["name"] = str(cleaned.get("name") or "").strip()
    cleaned["remark"] = str(cleaned.get("remark") or "").strip()
    if not cleaned["name"]:
        errors["name"] = _("请填写商机名称。")
    elif len(cleaned["name"]) > 200:
        errors["name"] = _("商机名称不能超过 200 个字符。")
    customer = cleaned.get("customer")
    if customer is None:
        errors["customer"] = _("请选择客户。")
    elif (previous is None or previous.get("customer") != customer) and not customers_visible(actor).filter(
        pk=customer.pk
    ).exists():
        errors["customer"] = _("所选客户不存在或您无权查看。")
    try:
        amount = to_fen(cleaned.get("expected_amount") or 0)
        if amount < 0 or amount > MAX_AMOUNT:
            raise ValueError
        cleaned["expected_amount"] = amount
    except ValueError:
        errors["expected_amount"] = _("预计金额须为 0 到 999999999999.99 之间的数字。")
    source = cleaned.get("source")
    if source is not None and source.kind != DictionaryItem.Kind.SOURCE:
        errors["source"] = _("“%(value)s”不是有效的商机来源。") % {"value": source}
    if customer is not None and contacts and any(c.customer_id != customer.pk for c in contacts):
        errors["contacts"] = _("所选联系人不属于该客户。")
    if errors:
        raise ValidationError(errors)
    return cleaned


def default_group() -> StageGroup | None:
    return StageGroup.objects.filter(is_active=True).order_by("-is_default", "pk").first()


def _apply_lines(opp: Opportunity, rows: list[OpportunityLine]) -> None:
    OpportunityLine.objects.filter(opportunity=opp).delete()
    for row in rows:
        row.opportunity = opp
    OpportunityLine.objects.bulk_create(rows)
    if rows:
        opp.expected_amount = to_fen(sum((row.amount for row in rows), Decimal(0)))


@transaction.atomic
def opportunity_create(
    *,
    actor,
    values: dict[str, Any],
    contacts: list[Contact] | tuple = (),
    lines: list[LineInput] | None = None,
    stage: Stage | None = None,
    owner: User | None = None,
    ip: str | None = None,
) -> Opportunity:
    """A new open opportunity on a customer the actor may see, numbered by the "opportunity" rule."""
    _require(actor, "opportunities.create")
    contacts = list(contacts)
    cleaned = _check_values(actor, values, contacts)
    owner = owner or actor
    if not owner.is_active or (
        owner.pk != actor.pk and not policy.visible_users(actor).filter(pk=owner.pk).exists()
    ):
        raise ValidationError({"owner": _("只能把商机分配给您的数据范围内的在职员工。")})
    if stage is None:
        group = default_group()
        if group is None:
            raise ValidationError(_("还没有启用的商机阶段组，请先在“商机阶段设置”中创建。"))
        stage = group.stages.filter(kind=Stage.Kind.OPEN).order_by("order", "pk").first()
        if stage is None:
            raise ValidationError(_("阶段组“%(group)s”没有进行中的阶段。") % {"group": group})
    elif stage.is_terminal or not stage.group.is_active:
        raise ValidationError({"stage": _("新商机只能放在启用的阶段组的进行中阶段。")})
    rows = _clean_lines(lines or [], cleaned["customer"])
    opp = Opportunity(
        **cleaned,
        stage_group_id=stage.group_id,
        stage=stage,
        owner=owner,
        department_id=owner.department_id,
        created_by=actor,
    )
    opp.code = customer_services.number_next(key="opportunity")
    opp.save()
    opp.contacts.set(contacts)
    if rows:
        _apply_lines(opp, rows)
        opp.save(update_fields=["expected_amount"])
    log_action(
        actor=actor,
        action="opportunity.created",
        target=opp,
        changes=diff({}, _snapshot(opp)),
        ip_address=ip,
    )
    return opp


def _locked_one(actor, opp: Opportunity) -> Opportunity:
    from crm.opportunities.selectors import opportunities_visible

    return policy.get_visible_or_404(
        actor,
        opportunities_visible(actor).select_for_update(of=("self",)).select_related("stage", "owner"),
        owner_field=None,
        pk=opp.pk,
    )


@transaction.atomic
def opportunity_update(
    *,
    actor,
    opportunity: Opportunity,
    values: dict[str, Any],
    contacts: list[Contact] | None = None,
    lines: list[LineInput] | None = None,
    ip: str | None = None,
) -> Opportunity:
    """Change the fields (and the contacts / product lines when given); lines set the expected amount."""
    _require(actor, "opportunities.edit")
    opp = _locked_one(actor, opportunity)
    old = _snapshot(opp)
    contacts = list(opp.contacts.all()) if contacts is None else list(contacts)
    merged = {k: v for k, v in old.items() if k in EDITABLE_FIELDS} | values
    cleaned = _check_values(actor, merged, contacts, previous=old)
    for key, value in cleaned.items():
        setattr(opp, key, value)
    if lines is not None:
        _apply_lines(opp, _clean_lines(lines, opp.customer))
    elif opp.lines.exists():
        opp.expected_amount = old["expected_amount"]  # the lines make the amount
    opp.save()
    opp.contacts.set(contacts)
    changes = diff(old, _snapshot(opp))
    if changes or lines is not None:
        log_action(actor=actor, action="opportunity.updated", target=opp, changes=changes, ip_address=ip)
    return opp


@transaction.atomic
def opportunity_change_stage(
    *, actor, opportunity: Opportunity, stage: Stage, ip: str | None = None
) -> Opportunity:
    """Advance (or go back) to an open stage of the same group; 赢单/输单 go through win/lose."""
    _require(actor, "opportunities.edit")
    opp = _locked_one(actor, opportunity)
    if stage.group_id != opp.stage_group_id:
        raise ValidationError({"stage": _("只能移动到同一阶段组内的阶段。")})
    if opp.status != Opportunity.Status.OPEN:
        raise ValidationError(
            _("商机已结束（%(status)s），请先重新打开。") % {"status": opp.get_status_display()}
        )
    if stage.kind == Stage.Kind.WON:
        raise ValidationError({"stage": _("赢单请使用“赢单”操作。")})
    if stage.kind == Stage.Kind.LOST:
        raise ValidationError({"stage": _("输单请使用“输单”操作，并填写输单原因。")})
    if stage.pk == opp.stage_id:
        return opp
    old_stage = opp.stage
    opp.stage = stage
    opp.save(update_fields=["stage", "updated_at"])
    log_action(
        actor=actor,
        action="opportunity.stage_changed",
        target=opp,
        changes={"stage": [str(old_stage), str(stage)]},
        ip_address=ip,
    )
    return opp


def _terminal(opp: Opportunity, kind: str) -> Stage:
    stage = Stage.objects.filter(group_id=opp.stage_group_id, kind=kind).first()
    if stage is None:
        raise ValidationError(_("阶段组缺少“%(kind)s”阶段。") % {"kind": Stage.Kind(kind).label})
    return stage


@transaction.atomic
def opportunity_win(*, actor, opportunity: Opportunity, ip: str | None = None) -> Opportunity:
    """Mark an open opportunity won: the group's 赢单 stage, status 赢单, won_at now."""
    _require(actor, "opportunities.edit")
    opp = _locked_one(actor, opportunity)
    if opp.status != Opportunity.Status.OPEN:
        raise ValidationError(_("只有进行中的商机可以赢单。"))
    old_stage = opp.stage
    opp.stage = _terminal(opp, Stage.Kind.WON)
    opp.status = Opportunity.Status.WON
    opp.won_at = timezone.now()
    opp.save(update_fields=["stage", "status", "won_at", "updated_at"])
    # A deal for the "no deal within N days" recycle rule (crm/customers/recycle.py, NO_DEAL).
    Customer.objects.filter(pk=opp.customer_id).update(last_deal_at=opp.won_at)
    log_action(
        actor=actor,
        action="opportunity.won",
        target=opp,
        changes={"stage": [str(old_stage), str(opp.stage)], "expected_amount": opp.expected_amount},
        ip_address=ip,
    )
    return opp


@transaction.atomic
def opportunity_lose(
    *, actor, opportunity: Opportunity, reason: DictionaryItem | None, note: str = "", ip: str | None = None
) -> Opportunity:
    """Mark an open opportunity lost with a reason (丢单原因 dictionary) and an optional note."""
    _require(actor, "opportunities.edit")
    opp = _locked_one(actor, opportunity)
    if opp.status != Opportunity.Status.OPEN:
        raise ValidationError(_("只有进行中的商机可以输单。"))
    if reason is None:
        raise ValidationError({"lost_reason": _("请选择输单原因。")})
    if reason.kind != DictionaryItem.Kind.LOST_REASON or not reason.is_active:
        raise ValidationError({"lost_reason": _("输单原因无效：请从“丢单原因”字典中选择一个启用的选项。")})
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"lost_note": _("输单说明不能超过 500 个字。")})
    old_stage = opp.stage
    opp.stage = _terminal(opp, Stage.Kind.LOST)
    opp.status = Opportunity.Status.LOST
    opp.lost_at = timezone.now()
    opp.lost_reason = reason
    opp.lost_note = note
    opp.save(update_fields=["stage", "status", "lost_at", "lost_reason", "lost_note", "updated_at"])
    log_action(
        actor=actor,
        action="opportunity.lost",
        target=opp,
        changes={"stage": [str(old_stage), str(opp.stage)], "lost_reason": reason, "lost_note": note},
        ip_address=ip,
    )
    return opp


@transaction.atomic
def opportunity_reopen(*, actor, opportunity: Opportunity, ip: str | None = None) -> Opportunity:
    """A won or lost opportunity goes back to the last open stage of its group."""
    _require(actor, "opportunities.edit")
    opp = _locked_one(actor, opportunity)
    if opp.status == Opportunity.Status.OPEN:
        raise ValidationError(_("商机正在进行中，无需重新打开。"))
    stage = opp.stage_group.stages.filter(kind=Stage.Kind.OPEN).order_by("-order", "-pk").first()
    if stage is None:
        raise ValidationError(_("阶段组“%(group)s”没有进行中的阶段。") % {"group": opp.stage_group})
    old_stage, old_status = opp.stage, opp.get_status_display()
    opp.stage = stage
    opp.status = Opportunity.Status.OPEN
    opp.won_at = opp.lost_at = None
    opp.lost_reason = None
    opp.lost_note = ""
    opp.save()
    log_action(
        actor=actor,
        action="opportunity.reopened",
        target=opp,
        changes={"stage": [str(old_stage), str(stage)], "status": [old_status, opp.get_status_display()]},
        ip_address=ip,
    )
    return opp


@transaction.atomic
def opportunities_transfer(
    *, actor, opportunities: QuerySet[Opportunity], to_user: User, ip: str | None = None
) -> int:
    """Give opportunities to `to_user`: one UPDATE, one log row per opportunity (old → new owner)."""
    from crm.opportunities.selectors import opportunities_visible

    _require(actor, "opportunities.transfer")
    if not to_user.is_active:
        raise ValidationError(_("不能把商机转移给已停用的员工。"))
    if to_user.pk != actor.pk and not policy.visible_users(actor).filter(pk=to_user.pk).exists():
        raise ValidationError(_("只能把商机转移给您的数据范围内的员工。"))
    ids = opportunities.values("pk")
    rows = [
        opp
        for opp in opportunities_visible(actor)
        .filter(pk__in=ids)
        .select_for_update(of=("self",))
        .select_related("owner")
        .order_by("pk")
        if opp.owner_id != to_user.pk
    ]
    if not rows:
        return 0
    Opportunity.objects.filter(pk__in=[opp.pk for opp in rows]).update(
        owner=to_user, department_id=to_user.department_id, updated_at=timezone.now()
    )
    log_actions_bulk(
        actor=actor,
        action="opportunity.transferred",
        targets=rows,
        changes_by_target={opp.pk: {"owner": [str(opp.owner), str(to_user)]} for opp in rows},
        ip_address=ip,
    )
    return len(rows)


@transaction.atomic
def opportunity_delete(*, actor, opportunity: Opportunity, ip: str | None = None) -> None:
    _require(actor, "opportunities.delete")
    opp = _locked_one(actor, opportunity)
    log_action(actor=actor, action="opportunity.deleted", target=opp, ip_address=ip)
    FollowUp.objects.filter(opportunity=opp).update(opportunity=None)
    opp.delete()


@transaction.atomic
def opportunity_followup_create(
    *, actor, opportunity: Opportunity, ip: str | None = None, **values
) -> FollowUp:
    """A follow-up on the opportunity's customer (same rules as the customer's), linked to the opportunity.
    `values`: type, content, contact, followed_at, next_contact_at, next_action."""
    from crm.opportunities.selectors import opportunity_get_for_user

    opp = opportunity_get_for_user(user=actor, opportunity_id=opportunity.pk)
    return activity_services.followup_create_linked(
        actor=actor, document=opp, link_field="opportunity", ip=ip, **values
    )


# ---------------------------------------------------------------- stage groups (settings)


def _require_settings(actor) -> None:
    """Stage groups are system settings (there is no opportunities.settings action)."""
    _require(actor, "settings.settings")


def _check_rate(value) -> int:
    try:
        rate = int(value)
    except (TypeError, ValueError):
        rate = -1
    if not 0 <= rate <= 100:
        raise ValidationError({"win_rate": _("赢率须为 0 到 100 之间的整数。")})
    return rate


@transaction.atomic
def stage_group_create(
    *, actor, name: str, stages: list[tuple[str, int]], is_default: bool = False, ip: str | None = None
) -> StageGroup:
    """A group with its open stages (name, win rate) in order, then 赢单 (100 %) and 输单 (0 %)."""
    _require_settings(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写阶段组名称。")})
    if StageGroup.objects.filter(name=name).exists():
        raise ValidationError({"name": _("已有同名的阶段组“%(name)s”。") % {"name": name}})
    names = [(str(n or "").strip(), _check_rate(r)) for n, r in stages]
    if not names or any(not n for n, _r in names):
        raise ValidationError({"stages": _("请至少填写一个进行中阶段，且每个阶段都要有名称。")})
    if is_default:
        StageGroup.objects.filter(is_default=True).update(is_default=False)
    group = StageGroup.objects.create(name=name, is_default=is_default or not StageGroup.objects.exists())
    order = 0
    for order, (stage_name, rate) in enumerate(names, start=1):
        Stage.objects.create(group=group, name=stage_name, order=order * 10, win_rate=rate)
    Stage.objects.create(
        group=group, name=_("赢单"), order=(order + 1) * 10, win_rate=100, kind=Stage.Kind.WON
    )
    Stage.objects.create(
        group=group, name=_("输单"), order=(order + 2) * 10, win_rate=0, kind=Stage.Kind.LOST
    )
    log_action(
        actor=actor,
        action="stage_group.created",
        target=group,
        changes={"stages": [f"{n} {r}%" for n, r in names]},
        ip_address=ip,
    )
    return group


@transaction.atomic
def stage_update(*, actor, stage: Stage, name: str, order: int, win_rate, ip: str | None = None) -> Stage:
    _require_settings(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写阶段名称。")})
    rate = _check_rate(win_rate)
    if stage.kind == Stage.Kind.WON and rate != 100 or stage.kind == Stage.Kind.LOST and rate != 0:
        raise ValidationError({"win_rate": _("赢单阶段的赢率固定为 100%，输单阶段固定为 0%。")})
    try:
        order = int(order)
        if order < 0 or order > 32767:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError({"order": _("顺序须为 0 到 32767 之间的整数。")}) from None
    old = {"name": stage.name, "order": stage.order, "win_rate": stage.win_rate}
    stage.name, stage.order, stage.win_rate = name, order, rate
    stage.save()
    changes = diff(old, {"name": stage.name, "order": stage.order, "win_rate": stage.win_rate})
    if changes:
        log_action(actor=actor, action="stage.updated", target=stage, changes=changes, ip_address=ip)
    return stage


@transaction.atomic
def stage_add(*, actor, group: StageGroup, name: str, win_rate, ip: str | None = None) -> Stage:
    """A new open stage just before the terminal ones."""
    _require_settings(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写阶段名称。")})
    rate = _check_rate(win_rate)
    last_open = group.stages.filter(kind=Stage.Kind.OPEN).order_by("-order").first()
    order = (last_open.order if last_open else 0) + 1
    stage = Stage.objects.create(group=group, name=name, order=order, win_rate=rate)
    log_action(
        actor=actor,
        action="stage.created",
        target=stage,
        changes={"group": group, "win_rate": rate},
        ip_address=ip,
    )
    return stage
