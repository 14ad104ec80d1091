"""Every write to invoices (CTR-5): permission-checked, validated (Chinese ValidationError, nothing
saved), atomic and logged.

Who may do what (see crm/invoices/selectors.py for visibility): ``invoices.create`` requests an
invoice on a contract the actor may see; ``invoices.approve`` (finance) issues, mails and voids
invoices the actor may see.

Flow: requested → issued → mailed; any non-void invoice may be voided. The non-void invoices of a
contract never add up to more than the contract's total: the check runs with the contract row
locked (SELECT … FOR UPDATE) and `Contract.invoiced_amount` moves with F() in the same
transaction (a database check backs it: invoiced_amount ≤ total).

Amounts are tax-inclusive: tax = amount × rate / (100 + rate), rounded ROUND_HALF_UP to the fen.
"""

import re
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import log_action
from crm.contracts.models import Contract
from crm.contracts.selectors import contracts_visible
from crm.core.money import HUNDRED, to_decimal, to_fen
from crm.customers.services import number_next
from crm.invoices.models import Invoice
from crm.invoices.selectors import invoice_is_visible
from crm.messaging.services import notification_send

MAX_AMOUNT = Decimal("99999999999999.99")
INVOICE_NUMBER = re.compile(r"^(\d{8}|\d{20})$")
TAX_NUMBER = re.compile(r"^[0-9A-Z]{15,20}$")
TRACKING_NUMBER = re.compile(r"^[0-9A-Za-z-]{4,40}$")
TEXT_LIMITS = {"title": 200, "bank_account": 200, "address_phone": 200, "note": 500}
_MONEY = DecimalField(max_digits=16, decimal_places=2)


def _require(actor, permission: str) -> None:
    if not policy.can(actor, permission):
        raise PermissionRequiredError(permission)


def _require_on_invoice(actor, permission: str, invoice: Invoice) -> None:
    """The permission, on an invoice the actor may see (its contract visible)."""
    _require(actor, permission)
    if not invoice_is_visible(actor, invoice):
        raise PermissionRequiredError(permission)


def tax_of(amount, tax_percent) -> Decimal:
    """The tax contained in a tax-inclusive amount: amount × rate / (100 + rate), ROUND_HALF_UP."""
    amount = to_decimal(amount)
    rate = to_decimal(tax_percent)
    return to_fen(amount * rate / (HUNDRED + rate))


def _non_void_total(contract_id: int) -> Decimal:
    return (
        Invoice.objects.filter(contract_id=contract_id)
        .exclude(status=Invoice.Status.VOID)
        .aggregate(total=Coalesce(Sum("amount"), Decimal("0.00"), output_field=_MONEY))["total"]
    )


# ---------------------------------------------------------------- cleaning


def _text(values: dict, key: str) -> str:
    value = str(values.get(key) or "").strip()
    limit = TEXT_LIMITS.get(key)
    if limit and len(value) > limit:
        raise ValidationError({key: _("此项不能超过 %(max)s 个字符。") % {"max": limit}})
    return value


def _amount(value) -> Decimal:
    if value in (None, ""):
        raise ValidationError({"amount": _("请填写开票金额。")})
    try:
        number = to_decimal(value)
    except ValueError as exc:
        raise ValidationError({"amount": _("开票金额必须是数字。")}) from exc
    if number != to_fen(number):
        raise ValidationError({"amount": _("开票金额最多两位小数。")})
    if number <= 0:
        raise ValidationError({"amount": _("开票金额必须大于 0。")})
    if number > MAX_AMOUNT:
        raise ValidationError({"amount": _("开票金额过大。")})
    return to_fen(number)


def _tax_percent(value, default: Decimal) -> Decimal:
    if value in (None, ""):
        return to_fen(default)
    try:
        number = to_fen(value)
    except ValueError as exc:
        raise ValidationError({"tax_percent": _("税率必须是数字。")}) from exc
    if number < 0 or number > HUNDRED:
        raise ValidationError({"tax_percent": _("税率必须在 0 到 100 之间。")})
    return number


def _clean_request(contract: Contract, values: dict) -> dict:
    kind = values.get("kind") or Invoice.Kind.SPECIAL
    if kind not in Invoice.Kind.values:
        raise ValidationError({"kind": _("发票类型无效。")})
    customer = contract.customer
    title = _text(values, "title") or customer.name
    tax_number = str(values.get("tax_number") or "").strip().upper() or (customer.credit_code or "").upper()
    if tax_number and not TAX_NUMBER.match(tax_number):
        raise ValidationError(
            {"tax_number": _("纳税人识别号应为 15 到 20 位数字或大写字母（统一社会信用代码为 18 位）。")}
        )
    if kind == Invoice.Kind.SPECIAL and not tax_number:
        raise ValidationError({"tax_number": _("开具增值税专用发票必须填写纳税人识别号。")})
    return {
        "kind": kind,
        "title": title,
        "tax_number": tax_number,
        "bank_account": _text(values, "bank_account"),
        "address_phone": _text(values, "address_phone"),
        "amount": _amount(values.get("amount")),
        "tax_percent": _tax_percent(values.get("tax_percent"), contract.tax_percent),
        "note": _text(values, "note"),
    }


def _day(value, field: str, label: str) -> date:
    if value in (None, ""):
        raise ValidationError({field: _("请填写%(label)s。") % {"label": label}})
    if isinstance(value, str):
        from django.utils.dateparse import parse_date

        try:
            parsed = parse_date(value.strip())
        except ValueError:
            parsed = None
        value = parsed
    if not isinstance(value, date):
        raise ValidationError({field: _("请输入有效的日期。")})
    if value > timezone.localdate():
        raise ValidationError({field: _("%(label)s不能晚于今天。") % {"label": label}})
    return value


def _status_error(invoice: Invoice) -> ValidationError:
    return ValidationError(
        _("发票申请“%(code)s”当前状态为“%(status)s”，不能执行此操作。")
        % {"code": invoice.code, "status": invoice.get_status_display()}
    )


def _locked(invoice: Invoice, sources: set[str]) -> Invoice:
    """The invoice row locked and re-read; its status must be one of `sources`."""
    fresh = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if fresh.status not in sources:
        raise _status_error(fresh)
    return fresh


def _copy(target: Invoice, source: Invoice, fields) -> None:
    for name in fields:
        setattr(target, name, getattr(source, name))


# ---------------------------------------------------------------- request


def invoice_request(*, actor, contract: Contract, values: dict, ip: str | None = None) -> Invoice:
    """Request an invoice on an effective (approved / done) contract the actor may see.

    `values`: amount (required, tax-inclusive), kind, title (default: the customer's name),
    tax_number (default: the customer's credit code), bank_account, address_phone, tax_percent
    (default: the contract's), note."""
    _require(actor, "invoices.create")
    if not contracts_visible(actor).filter(pk=contract.pk).exists():
        raise PermissionRequiredError("invoices.create")
    if not contract.is_effective:
        raise ValidationError(
            _("合同“%(code)s”尚未审批通过（当前状态：%(status)s），不能申请开票。")
            % {"code": contract.code, "status": contract.get_status_display()}
        )
    cleaned = _clean_request(contract, values)
    amount = cleaned["amount"]
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        if not locked.is_effective:
            raise ValidationError(
                _("合同“%(code)s”尚未审批通过（当前状态：%(status)s），不能申请开票。")
                % {"code": locked.code, "status": locked.get_status_display()}
            )
        already = _non_void_total(locked.pk)
        if already + amount > locked.total:
            raise ValidationError(
                {
                    "amount": _(
                        "开票金额超出合同可开票余额：合同金额 ¥%(total)s，已申请开票 ¥%(done)s，"
                        "最多还可申请 ¥%(left)s。"
                    )
                    % {"total": locked.total, "done": already, "left": max(locked.total - already, 0)}
                }
            )
        invoice = Invoice.objects.create(
            code=number_next(key="invoice"),
            contract=locked,
            customer_id=locked.customer_id,
            owner_id=locked.owner_id,
            department_id=locked.department_id,
            tax_amount=tax_of(amount, cleaned["tax_percent"]),
            created_by=actor,
            **cleaned,
        )
        Contract.objects.filter(pk=locked.pk).update(invoiced_amount=F("invoiced_amount") + amount)
        contract.invoiced_amount = Contract.objects.values_list("invoiced_amount", flat=True).get(
            pk=locked.pk
        )
        log_action(
            actor=actor,
            action="invoice.requested",
            target=invoice,
            changes={
                "status": [None, invoice.status],
                "contract": [None, locked.code],
                "amount": [None, str(amount)],
                "tax_amount": [None, str(invoice.tax_amount)],
            },
            ip_address=ip,
        )
    return invoice


# ---------------------------------------------------------------- issue / mail / void


def _clean_invoice_number(value, exclude_pk: int) -> str:
    number = str(value or "").strip().replace(" ", "")
    if not number:
        raise ValidationError({"invoice_number": _("请填写发票号码。")})
    if not INVOICE_NUMBER.match(number):
        raise ValidationError(
            {"invoice_number": _("发票号码应为 8 位数字（增值税发票）或 20 位数字（全电发票）。")}
        )
    taken = (
        Invoice.objects.filter(invoice_number=number)
        .exclude(status=Invoice.Status.VOID)
        .exclude(pk=exclude_pk)
        .values_list("code", flat=True)
        .first()
    )
    if taken:
        raise ValidationError(
            {
                "invoice_number": _("发票号码 %(number)s 已用于发票申请“%(code)s”。")
                % {"number": number, "code": taken}
            }
        )
    return number


def invoice_issue(*, actor, invoice: Invoice, invoice_number, issued_on, ip: str | None = None) -> Invoice:
    """requested → issued, with the tax invoice's number (8 or 20 digits, unique among live invoices)
    and date; the owner is notified."""
    _require_on_invoice(actor, "invoices.approve", invoice)
    if invoice.status != Invoice.Status.REQUESTED:
        raise _status_error(invoice)
    number = _clean_invoice_number(invoice_number, invoice.pk)
    day = _day(issued_on, "issued_on", _("开票日期"))
    try:
        with transaction.atomic():
            fresh = _locked(invoice, {Invoice.Status.REQUESTED})
            old = fresh.status
            fresh.status = Invoice.Status.ISSUED
            fresh.invoice_number = number
            fresh.issued_on = day
            fresh.save(update_fields=["status", "invoice_number", "issued_on", "updated_at"])
            log_action(
                actor=actor,
                action="invoice.issued",
                target=fresh,
                changes={
                    "status": [old, fresh.status],
                    "invoice_number": ["", number],
                    "issued_on": [None, day],
                },
                ip_address=ip,
            )
            notification_send(
                recipient=fresh.owner,
                title=_("发票已开具：%(code)s") % {"code": fresh.code},
                body=_("%(customer)s 的发票（¥%(amount)s）已开具，发票号码 %(number)s。")
                % {"customer": fresh.title, "amount": fresh.amount, "number": number},
                url=reverse("invoices:detail", args=[fresh.pk]),
            )
    except IntegrityError as exc:  # a concurrent issue took the number a moment ago
        raise ValidationError(
            {"invoice_number": _("发票号码 %(number)s 已被使用。") % {"number": number}}
        ) from exc
    _copy(invoice, fresh, ("status", "invoice_number", "issued_on", "updated_at"))
    return invoice


def invoice_mail(*, actor, invoice: Invoice, tracking_number, mailed_on, ip: str | None = None) -> Invoice:
    """issued → mailed, with the courier's tracking number; mailed on or after the issue date."""
    _require_on_invoice(actor, "invoices.approve", invoice)
    if invoice.status != Invoice.Status.ISSUED:
        raise _status_error(invoice)
    tracking = str(tracking_number or "").strip()
    if not tracking:
        raise ValidationError({"tracking_number": _("请填写快递单号。")})
    if not TRACKING_NUMBER.match(tracking):
        raise ValidationError({"tracking_number": _("快递单号应为 4 到 40 位字母、数字或连字符。")})
    day = _day(mailed_on, "mailed_on", _("邮寄日期"))
    if invoice.issued_on and day < invoice.issued_on:
        raise ValidationError(
            {"mailed_on": _("邮寄日期不能早于开票日期（%(date)s）。") % {"date": invoice.issued_on}}
        )
    with transaction.atomic():
        fresh = _locked(invoice, {Invoice.Status.ISSUED})
        old = fresh.status
        fresh.status = Invoice.Status.MAILED
        fresh.tracking_number = tracking
        fresh.mailed_on = day
        fresh.save(update_fields=["status", "tracking_number", "mailed_on", "updated_at"])
        log_action(
            actor=actor,
            action="invoice.mailed",
            target=fresh,
            changes={
                "status": [old, fresh.status],
                "tracking_number": ["", tracking],
                "mailed_on": [None, day],
            },
            ip_address=ip,
        )
    _copy(invoice, fresh, ("status", "tracking_number", "mailed_on", "updated_at"))
    return invoice


def invoice_void(*, actor, invoice: Invoice, reason, ip: str | None = None) -> Invoice:
    """Any non-void invoice → void (with a reason); its amount no longer counts on the contract."""
    _require_on_invoice(actor, "invoices.approve", invoice)
    if invoice.status == Invoice.Status.VOID:
        raise _status_error(invoice)
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError({"void_reason": _("请填写作废原因。")})
    if len(reason) > 200:
        raise ValidationError({"void_reason": _("作废原因不能超过 200 个字符。")})
    with transaction.atomic():
        # Lock order as in invoice_request: the contract first, then the invoice.
        Contract.objects.select_for_update().filter(pk=invoice.contract_id).first()
        fresh = _locked(invoice, set(Invoice.Status.values) - {Invoice.Status.VOID})
        old = fresh.status
        fresh.status = Invoice.Status.VOID
        fresh.void_reason = reason
        fresh.save(update_fields=["status", "void_reason", "updated_at"])
        Contract.objects.filter(pk=fresh.contract_id).update(
            invoiced_amount=F("invoiced_amount") - fresh.amount
        )
        log_action(
            actor=actor,
            action="invoice.voided",
            target=fresh,
            changes={
                "status": [old, fresh.status],
                "void_reason": ["", reason],
                "amount": [str(fresh.amount), None],
            },
            ip_address=ip,
        )
    _copy(invoice, fresh, ("status", "void_reason", "updated_at"))
    return invoice


def contract_invoiceable(contract: Contract) -> Decimal:
    """What may still be requested on the contract (its total less its non-void invoices)."""
    return max(contract.total - contract.invoiced_amount, Decimal("0.00"))
