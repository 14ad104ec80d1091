"""Every write to quotes (QUO-1): permission-checked, validated (Chinese ValidationError, nothing
saved), atomic and logged. Lines are written set-based: one DELETE and one bulk INSERT per save.

Money: every line amount and every total is computed here with crm/core/money.py only, so the
page, the API and the print view show the same figures (stored on the quote and its lines).

Discount limit: a user may quote a line's effective price (unit price less the line discount) down
to the policy price (crm/products/pricing.price_for) less their role's `QuoteRoleLimit`
(10 % for a role without one; the most generous of the user's roles wins; super admins unlimited).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import diff, log_action, log_actions_bulk
from crm.core.money import HUNDRED, discounted, line_total, to_decimal, to_fen
from crm.customers.models import Contact
from crm.customers.selectors import customers_visible
from crm.customers.services import number_next
from crm.products.models import PricePolicy, Product
from crm.products.pricing import best_price
from crm.quotes.models import (
    DEFAULT_MAX_DISCOUNT_PERCENT,
    DEFAULT_TAX_PERCENT,
    Quote,
    QuoteLine,
    QuoteRoleLimit,
)

MAX_LINES = 200
MAX_QUANTITY = Decimal("999999999.99")
MAX_PRICE = Decimal("999999999999.99")
DEFAULT_VALID_DAYS = 30
HEADER_FIELDS = (
    "customer",
    "contact",
    "opportunity",
    "valid_until",
    "payment_term",
    "tax_percent",
    "note",
)


def _require(actor, permission: str, obj=None) -> None:
    if not policy.can(actor, permission, obj):
        raise PermissionRequiredError(permission)


# ---------------------------------------------------------------- discount limit


def discount_limit(user) -> Decimal | None:
    """The largest discount (percent below the policy price) `user` may give; None: unlimited."""
    if policy.is_super_admin(user):
        return None
    from crm.accounts.models import Role

    role_ids = list(Role.objects.filter(users=user).values_list("pk", flat=True))
    limits = dict(
        QuoteRoleLimit.objects.filter(role_id__in=role_ids).values_list("role_id", "max_discount_percent")
    )
    values = [limits.get(pk, DEFAULT_MAX_DISCOUNT_PERCENT) for pk in role_ids]
    return max(values, default=DEFAULT_MAX_DISCOUNT_PERCENT)


def lowest_price(policy_price: Decimal, limit: Decimal | None) -> Decimal:
    return Decimal("0.00") if limit is None else discounted(policy_price, limit)


def role_limit_set(*, actor, role, max_discount_percent, ip: str | None = None) -> QuoteRoleLimit:
    """Set a role's discount limit (needs roles.edit)."""
    _require(actor, "roles.edit")
    value = _percent(max_discount_percent, "max_discount_percent", _("最大折扣"))
    with transaction.atomic():
        limit, _created = QuoteRoleLimit.objects.get_or_create(role=role)
        old = limit.max_discount_percent
        limit.max_discount_percent = value
        limit.save(update_fields=["max_discount_percent"])
        log_action(
            actor=actor,
            action="quote_limit.updated",
            target=role,
            changes={"max_discount_percent": [str(old), str(value)]},
            ip_address=ip,
        )
    return limit


# ---------------------------------------------------------------- cleaning


def _percent(value, field: str, label: str, *, default: Decimal | None = None) -> Decimal:
    if value in (None, ""):
        if default is not None:
            return default
        raise ValidationError({field: _("请填写%(label)s。") % {"label": label}})
    try:
        number = to_fen(value)
    except ValueError as exc:
        raise ValidationError({field: _("%(label)s必须是数字。") % {"label": label}}) from exc
    if number < 0 or number > HUNDRED:
        raise ValidationError({field: _("%(label)s必须在 0 到 100 之间。") % {"label": label}})
    return number


@dataclass
class _Line:
    product: Product
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_percent: Decimal
    list_price: Decimal
    policy_price: Decimal
    amount: Decimal


def _check_opportunity(actor, opportunity, customer) -> None:
    """The quote's opportunity must belong to its customer and be visible to the actor."""
    from crm.opportunities.selectors import opportunities_visible

    if opportunity.customer_id != customer.pk:
        raise ValidationError(
            {
                "opportunity": _("商机“%(name)s”不属于客户“%(customer)s”。")
                % {"name": opportunity.name, "customer": customer.name}
            }
        )
    if not opportunities_visible(actor).filter(pk=opportunity.pk).exists():
        raise ValidationError({"opportunity": _("只能关联您可以查看的商机。")})


def _clean_header(actor, values: dict, quote: Quote | None) -> dict:
    cleaned = {k: values[k] for k in HEADER_FIELDS if k in values}
    if quote is not None:
        for key in HEADER_FIELDS:
            cleaned.setdefault(key, getattr(quote, key))
    customer = cleaned.get("customer")
    if customer is None:
        raise ValidationError({"customer": _("请选择客户。")})
    if not customers_visible(actor, include_pool=True).filter(pk=customer.pk).exists():
        raise ValidationError({"customer": _("只能给您可以查看的客户报价。")})
    contact = cleaned.get("contact")
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError(
            {
                "contact": _("联系人“%(name)s”不属于客户“%(customer)s”。")
                % {"name": contact.name, "customer": customer.name}
            }
        )
    opportunity = cleaned.get("opportunity")
    if opportunity is not None:
        _check_opportunity(actor, opportunity, customer)
    valid_until = cleaned.get("valid_until") or timezone.localdate() + timedelta(days=DEFAULT_VALID_DAYS)
    if not isinstance(valid_until, date):
        raise ValidationError({"valid_until": _("请输入有效的日期。")})
    if quote is None and valid_until < timezone.localdate():
        raise ValidationError({"valid_until": _("有效期不能早于今天。")})
    cleaned["valid_until"] = valid_until
    term = cleaned.get("payment_term") or ""
    if term not in Quote.PaymentTerm.values and term != "":
        raise ValidationError({"payment_term": _("付款条件无效。")})
    cleaned["payment_term"] = term
    cleaned["tax_percent"] = _percent(
        cleaned.get("tax_percent"), "tax_percent", _("税率"), default=DEFAULT_TAX_PERCENT
    )
    note = str(cleaned.get("note") or "").strip()
    if len(note) > 2000:
        raise ValidationError({"note": _("备注不能超过 2000 个字符。")})
    cleaned["note"] = note
    return cleaned


def lines_clean(actor, lines: list[dict], header: dict) -> list[_Line]:
    """Validate every line (message names the line and the product) and price it.
    Shared with crm.contracts.services (contract lines are cleaned and priced the same way)."""
    if not lines:
        raise ValidationError({"lines": _("报价单至少需要一行产品明细。")})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": _("报价单最多 %(max)s 行明细。") % {"max": MAX_LINES}})
    product_ids = []
    for raw in lines:
        product = raw.get("product")
        product_ids.append(getattr(product, "pk", product))
    # The rule of crm.products.pricing.price_for, with every product's policies loaded at once.
    active = Prefetch("price_policies", queryset=PricePolicy.objects.filter(is_active=True), to_attr="active")
    wanted = [p for p in product_ids if isinstance(p, int)]
    products = {p.pk: p for p in Product.objects.filter(pk__in=wanted).prefetch_related(active)}
    limit = discount_limit(actor)
    today = timezone.localdate()
    result = []
    for number, (raw, product_id) in enumerate(zip(lines, product_ids, strict=True), start=1):
        product = products.get(product_id) if isinstance(product_id, int) else None
        if product is None:
            raise ValidationError({"lines": _("第 %(n)s 行：产品不存在。") % {"n": number}})
        name = product.name
        if not product.is_active:
            raise ValidationError(
                {
                    "lines": _("第 %(n)s 行：产品“%(product)s”已下架，不能报价。")
                    % {"n": number, "product": name}
                }
            )
        try:
            quantity = to_decimal(raw.get("quantity"))
        except ValueError as exc:
            raise ValidationError(
                {"lines": _("第 %(n)s 行（%(product)s）：数量必须是数字。") % {"n": number, "product": name}}
            ) from exc
        if quantity <= 0 or quantity > MAX_QUANTITY or quantity != to_fen(quantity):
            raise ValidationError(
                {
                    "lines": _("第 %(n)s 行（%(product)s）：数量必须大于 0，最多两位小数。")
                    % {"n": number, "product": name}
                }
            )
        list_price = to_fen(product.list_price)
        policy_price, _policy = best_price(
            product,
            product.active,
            customer=header["customer"],
            quantity=quantity,
            payment_term=header["payment_term"] or None,
            on=today,
        )
        raw_price = raw.get("unit_price")
        try:
            unit_price = policy_price if raw_price in (None, "") else to_fen(raw_price)
        except ValueError as exc:
            raise ValidationError(
                {"lines": _("第 %(n)s 行（%(product)s）：单价必须是数字。") % {"n": number, "product": name}}
            ) from exc
        if unit_price < 0 or unit_price > MAX_PRICE:
            raise ValidationError(
                {"lines": _("第 %(n)s 行（%(product)s）：单价不能为负数。") % {"n": number, "product": name}}
            )
        try:
            discount = _percent(raw.get("discount_percent"), "lines", _("折扣"), default=Decimal("0.00"))
            tax = _percent(raw.get("tax_percent"), "lines", _("税率"), default=header["tax_percent"])
        except ValidationError as exc:
            raise ValidationError(
                {
                    "lines": _("第 %(n)s 行（%(product)s）：%(error)s")
                    % {"n": number, "product": name, "error": " ".join(exc.messages)}
                }
            ) from exc
        lowest = lowest_price(policy_price, limit)
        if discounted(unit_price, discount) < lowest:
            raise ValidationError(
                {
                    "lines": _(
                        "“%(product)s”的成交价不能低于 ¥%(price)s"
                        "（策略价格 ¥%(policy)s，您的折扣权限为 %(limit)s%%）。"
                    )
                    % {"product": name, "price": lowest, "policy": policy_price, "limit": limit}
                }
            )
        description = str(raw.get("description") or "").strip()[:255]
        result.append(
            _Line(
                product=product,
                description=description,
                quantity=quantity,
                unit_price=unit_price,
                discount_percent=discount,
                tax_percent=tax,
                list_price=list_price,
                policy_price=policy_price,
                amount=line_total(quantity, unit_price, discount, tax),
            )
        )
    return result


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def compute_totals(lines) -> Totals:
    """Per line: gross = qty × price, net = gross less discount, amount = net plus tax (each rounded
    to the fen with money.line_total); the totals add those, so total = subtotal − discount + tax."""
    subtotal = discount_total = tax_total = total = Decimal("0.00")
    for line in lines:
        gross = line_total(line.quantity, line.unit_price)
        net = line_total(line.quantity, line.unit_price, line.discount_percent)
        amount = line_total(line.quantity, line.unit_price, line.discount_percent, line.tax_percent)
        subtotal += gross
        discount_total += gross - net
        tax_total += amount - net
        total += amount
    return Totals(to_fen(subtotal), to_fen(discount_total), to_fen(tax_total), to_fen(total))


def _write_lines(quote: Quote, lines: list[_Line]) -> None:
    """Replace the quote's lines: one DELETE, one INSERT; then store the totals (one UPDATE)."""
    QuoteLine.objects.filter(quote=quote).delete()
    QuoteLine.objects.bulk_create(
        [
            QuoteLine(
                quote=quote,
                order=index,
                product=line.product,
                description=line.description,
                quantity=line.quantity,
                unit=line.product.unit,
                list_price=line.list_price,
                policy_price=line.policy_price,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                tax_percent=line.tax_percent,
                amount=line.amount,
            )
            for index, line in enumerate(lines, start=1)
        ]
    )
    totals = compute_totals(lines)
    for key, value in totals.__dict__.items():
        setattr(quote, key, value)
    Quote.objects.filter(pk=quote.pk).update(**totals.__dict__)


def _lines_snapshot(lines) -> list[str]:
    return [
        f"{line.product.code} × {line.quantity} @ {line.unit_price}"
        f" -{line.discount_percent}% +{line.tax_percent}%"
        for line in lines
    ]


def _header_snapshot(quote: Quote) -> dict:
    return {key: getattr(quote, key) for key in HEADER_FIELDS} | {"total": quote.total}


# ---------------------------------------------------------------- create / update / delete


def quote_create(*, actor, values: dict, lines: list[dict], owner=None, ip: str | None = None) -> Quote:
    _require(actor, "quotes.create")
    header = _clean_header(actor, values, None)
    cleaned_lines = lines_clean(actor, lines, header)
    owner = owner or actor
    if owner.pk != actor.pk and not policy.visible_users(actor).filter(pk=owner.pk, is_active=True).exists():
        raise ValidationError({"owner": _("只能把报价单分配给您的数据范围内的员工。")})
    with transaction.atomic():
        quote = Quote.objects.create(
            code=number_next(key="quote"),
            owner=owner,
            department_id=owner.department_id,
            created_by=actor,
            quoted_on=timezone.localdate(),
            **header,
        )
        _write_lines(quote, cleaned_lines)
        log_action(
            actor=actor,
            action="quote.created",
            target=quote,
            changes={"lines": [None, _lines_snapshot(cleaned_lines)], "total": [None, str(quote.total)]},
            ip_address=ip,
        )
    return quote


def quote_update(
    *, actor, quote: Quote, values: dict, lines: list[dict] | None = None, ip: str | None = None
):
    """Change a draft's header and (when given) replace its lines."""
    _require(actor, "quotes.edit", quote)
    if not quote.is_editable:
        raise ValidationError(_("只有草稿状态的报价单可以修改；已发送的报价单请复制后修改。"))
    header = _clean_header(actor, values, quote)
    if lines is None:
        lines = [
            {
                "product": line.product_id,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent,
                "tax_percent": line.tax_percent,
            }
            for line in quote.lines.all()
        ]
    cleaned_lines = lines_clean(actor, lines, header)
    before = _header_snapshot(quote)
    old_lines = _lines_snapshot(quote.lines.select_related("product"))
    with transaction.atomic():
        for key, value in header.items():
            setattr(quote, key, value)
        quote.save(update_fields=[*header.keys(), "updated_at"])
        _write_lines(quote, cleaned_lines)
        changes = diff(before, _header_snapshot(quote))
        new_lines = _lines_snapshot(cleaned_lines)
        if new_lines != old_lines:
            changes["lines"] = [old_lines, new_lines]
        log_action(actor=actor, action="quote.updated", target=quote, changes=changes, ip_address=ip)
    return quote


def quote_delete(*, actor, quote: Quote, ip: str | None = None) -> None:
    _require(actor, "quotes.delete", quote)
    if quote.status == Quote.Status.ACCEPTED:
        raise ValidationError(_("已接受的报价单不能删除。"))
    with transaction.atomic():
        log_action(
            actor=actor,
            action="quote.deleted",
            target=quote,
            changes={"code": [quote.code, None], "total": [str(quote.total), None]},
            ip_address=ip,
        )
        quote.delete()


def quote_copy(*, actor, quote: Quote, ip: str | None = None) -> Quote:
    """A new draft with the same customer and lines, priced and checked again as of today."""
    _require(actor, "quotes.create")
    _require(actor, "quotes.view", quote)
    lines = [
        {
            "product": line.product_id,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
            "tax_percent": line.tax_percent,
        }
        for line in quote.lines.all()
    ]
    values = {key: getattr(quote, key) for key in HEADER_FIELDS}
    values["valid_until"] = timezone.localdate() + timedelta(days=DEFAULT_VALID_DAYS)
    with transaction.atomic():
        copy = quote_create(actor=actor, values=values, lines=lines, ip=ip)
        log_action(
            actor=actor,
            action="quote.copied",
            target=copy,
            changes={"from": [quote.code, copy.code]},
            ip_address=ip,
        )
    return copy


# ---------------------------------------------------------------- status


TRANSITIONS = {
    "send": ({Quote.Status.DRAFT}, Quote.Status.SENT, "quote.sent"),
    "accept": ({Quote.Status.SENT}, Quote.Status.ACCEPTED, "quote.accepted"),
    "reject": ({Quote.Status.SENT}, Quote.Status.REJECTED, "quote.rejected"),
}


def _transition(actor, quote: Quote, name: str, ip: str | None) -> Quote:
    _require(actor, "quotes.edit", quote)
    sources, target, action = TRANSITIONS[name]
    if quote.status not in sources:
        raise ValidationError(
            _("报价单“%(code)s”当前状态为“%(status)s”，不能执行此操作。")
            % {"code": quote.code, "status": quote.get_status_display()}
        )
    if name in ("send", "accept") and quote.valid_until < timezone.localdate():
        raise ValidationError(_("报价单“%(code)s”已过有效期，请复制后重新报价。") % {"code": quote.code})
    old = quote.status
    with transaction.atomic():
        quote.status = target
        now = timezone.now()
        fields = ["status", "updated_at"]
        if name == "send":
            quote.sent_at = now
            fields.append("sent_at")
        else:
            quote.decided_at = now
            fields.append("decided_at")
        quote.save(update_fields=fields)
        log_action(actor=actor, action=action, target=quote, changes={"status": [old, target]}, ip_address=ip)
    return quote


def quote_send(*, actor, quote: Quote, ip: str | None = None) -> Quote:
    return _transition(actor, quote, "send", ip)


def quote_accept(*, actor, quote: Quote, ip: str | None = None) -> Quote:
    return _transition(actor, quote, "accept", ip)


def quote_reject(*, actor, quote: Quote, ip: str | None = None) -> Quote:
    return _transition(actor, quote, "reject", ip)


def quotes_expire(*, today: date | None = None) -> int:
    """Drafts and sent quotes past their validity become expired: one UPDATE, one log row each."""
    today = today or timezone.localdate()
    with transaction.atomic():
        due = list(
            Quote.objects.select_for_update()
            .filter(status__in=[Quote.Status.DRAFT, Quote.Status.SENT], valid_until__lt=today)
            .only("pk", "status", "code")
        )
        if not due:
            return 0
        Quote.objects.filter(pk__in=[q.pk for q in due]).update(
            status=Quote.Status.EXPIRED, updated_at=timezone.now()
        )
        log_actions_bulk(
            actor=None,
            action="quote.expired",
            targets=due,
            changes_by_target={q.pk: {"status": [q.status, Quote.Status.EXPIRED]} for q in due},
        )
    return len(due)


def contact_of(customer, contact_id) -> Contact | None:
    if not contact_id:
        return None
    return Contact.objects.filter(pk=contact_id, customer=customer).first()
