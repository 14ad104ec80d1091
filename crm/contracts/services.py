"""Every write to contracts (CTR-1, CTR-2, CUS-14, CUS-16): permission-checked, validated (Chinese
ValidationError, nothing saved), atomic and logged.

Lines are cleaned, priced and limited by the quote rules (crm.quotes.services.lines_clean,
compute_totals, discount_limit): one DELETE and one bulk INSERT per save, the totals stored on the
contract with crm/core/money.py, so the page, the API and the print view show the same figures.

Approval runs on the engine (crm/approvals) with kind "contract"; when the amount is above the
customer's remaining credit and ContractSettings.credit_mode is "approval", a "credit" request
comes first and its approval submits the "contract" request for the same applicant. The engine's
callbacks (registered in crm/contracts/approval.py) move the contract's status inside the deciding
transaction. An approved contract is locked: its customer, lines and amounts change only after
contract_revise puts it back to draft for a new approval.
"""

import uuid
from datetime import date
from decimal import ROUND_DOWN, Decimal
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.activities.services import followup_create_linked
from crm.audit.services import diff, log_action, log_actions_bulk
from crm.contracts import signals
from crm.contracts.models import (
    DEFAULT_TAX_PERCENT,
    Contract,
    ContractAttachment,
    ContractLine,
    ContractSettings,
)
from crm.contracts.selectors import contract_get_for_user, contracts_visible, customer_outstanding
from crm.core.money import HUNDRED, to_fen
from crm.customers.models import Customer, DictionaryItem
from crm.customers.selectors import customers_visible
from crm.customers.services import number_next
from crm.quotes.models import Quote
from crm.quotes.services import compute_totals, lines_clean

HEADER_FIELDS = (
    "name",
    "kind",
    "customer",
    "contact",
    "opportunity",
    "signed_on",
    "start_on",
    "end_on",
    "customer_signatory",
    "our_signatory",
    "payment_term",
    "tax_percent",
    "terms",
    "note",
)
MAX_ATTACHMENTS = 20
TEXT_LIMITS = {"name": 200, "customer_signatory": 64, "terms": 20000, "note": 2000}
TEXT_LABELS = {
    "name": gettext_lazy("合同名称"),
    "customer_signatory": gettext_lazy("客户签约人"),
    "terms": gettext_lazy("合同条款"),
    "note": gettext_lazy("备注"),
}


def _require(actor, permission: str, obj=None) -> None:
    if not policy.can(actor, permission, obj):
        raise PermissionRequiredError(permission)


def _lock(contract: Contract) -> Contract:
    return Contract.objects.select_for_update().select_related("customer").get(pk=contract.pk)


# ---------------------------------------------------------------- cleaning


def _clean_text(cleaned: dict) -> None:
    for key, limit in TEXT_LIMITS.items():
        value = str(cleaned.get(key) or "").strip()
        if len(value) > limit:
            raise ValidationError(
                {key: _("%(label)s不能超过 %(max)s 个字符。") % {"label": TEXT_LABELS[key], "max": limit}}
            )
        cleaned[key] = value


def _clean_tax(value) -> Decimal:
    if value in (None, ""):
        return DEFAULT_TAX_PERCENT
    try:
        number = to_fen(value)
    except ValueError as exc:
        raise ValidationError({"tax_percent": _("税率必须是数字。")}) from exc
    if number < 0 or number > HUNDRED:
        raise ValidationError({"tax_percent": _("税率必须在 0 到 100 之间。")})
    return number


def _clean_header(actor, values: dict, contract: Contract | None) -> dict:
    cleaned = {k: values[k] for k in HEADER_FIELDS if k in values}
    if contract is not None:
        for key in HEADER_FIELDS:
            cleaned.setdefault(key, getattr(contract, key))
    _clean_text(cleaned)
    if not cleaned["name"]:
        raise ValidationError({"name": _("请填写合同名称。")})
    kind = cleaned.get("kind") or Contract.Kind.CONTRACT
    if kind not in Contract.Kind.values:
        raise ValidationError({"kind": _("合同类型无效。")})
    cleaned["kind"] = kind
    customer = cleaned.get("customer")
    if customer is None:
        raise ValidationError({"customer": _("请选择客户。")})
    if not customers_visible(actor, include_pool=True).filter(pk=customer.pk).exists():
        raise ValidationError({"customer": _("只能给您可以查看的客户签订合同。")})
    contact = cleaned.get("contact")
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError(
            {
                "contact": _("联系人“%(name)s”不属于客户“%(customer)s”。")
                % {"name": contact.name, "customer": customer.name}
            }
        )
    opportunity = cleaned.get("opportunity")
    if opportunity is not None and opportunity.customer_id != customer.pk:
        raise ValidationError(
            {
                "opportunity": _("商机“%(name)s”不属于客户“%(customer)s”。")
                % {"name": opportunity.name, "customer": customer.name}
            }
        )
    signed_on = cleaned.get("signed_on") or timezone.localdate()
    for key in ("signed_on", "start_on", "end_on"):
        value = signed_on if key == "signed_on" else cleaned.get(key)
        if value is not None and not isinstance(value, date):
            raise ValidationError({key: _("请输入有效的日期。")})
    cleaned["signed_on"] = signed_on
    start_on, end_on = cleaned.get("start_on"), cleaned.get("end_on")
    if start_on and end_on and end_on < start_on:
        raise ValidationError({"end_on": _("结束日期不能早于开始日期。")})
    signatory = cleaned.get("our_signatory")
    if signatory is not None and not signatory.is_active:
        raise ValidationError({"our_signatory": _("我方签约人已停用，请选择在职员工。")})
    term = cleaned.get("payment_term") or ""
    if term not in Quote.PaymentTerm.values and term != "":
        raise ValidationError({"payment_term": _("付款条件无效。")})
    cleaned["payment_term"] = term
    cleaned["tax_percent"] = _clean_tax(cleaned.get("tax_percent"))
    return cleaned


def _clean_lines(actor, lines: list[dict], header: dict) -> list:
    """The quote rules (product on sale, quantity > 0, price and discount limit); [] for no lines."""
    if not lines:
        return []
    return lines_clean(actor, lines, header)


def line_points(product, quantity) -> int:
    """Points of a line: the product's unit points × quantity, rounded down to a whole point."""
    value = Decimal(product.points or 0) * Decimal(quantity)
    return int(value.to_integral_value(rounding=ROUND_DOWN))


def _write_lines(contract: Contract, lines: list) -> None:
    """Replace the contract's lines: one DELETE, one INSERT; then store the totals (one UPDATE)."""
    ContractLine.objects.filter(contract=contract).delete()
    ContractLine.objects.bulk_create(
        [
            ContractLine(
                contract=contract,
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
                points=line_points(line.product, line.quantity),
            )
            for index, line in enumerate(lines, start=1)
        ]
    )
    totals = compute_totals(lines)
    if totals.total < contract.received_amount:
        raise ValidationError(
            {
                "lines": _("合同金额 ¥%(total)s 不能低于已回款金额 ¥%(received)s。")
                % {"total": totals.total, "received": contract.received_amount}
            }
        )
    if totals.total < contract.invoiced_amount:
        raise ValidationError(
            {
                "lines": _("合同金额 ¥%(total)s 不能低于已开票金额 ¥%(invoiced)s。")
                % {"total": totals.total, "invoiced": contract.invoiced_amount}
            }
        )
    for key, value in totals.__dict__.items():
        setattr(contract, key, value)
    Contract.objects.filter(pk=contract.pk).update(**totals.__dict__)


def _line_dicts(lines) -> list[dict]:
    return [
        {
            "product": line.product_id,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
            "tax_percent": line.tax_percent,
        }
        for line in lines
    ]


def _lines_snapshot(lines) -> list[str]:
    return [
        f"{line.product.code} × {line.quantity} @ {line.unit_price}"
        f" -{line.discount_percent}% +{line.tax_percent}%"
        for line in lines
    ]


def _header_snapshot(contract: Contract) -> dict:
    return {key: getattr(contract, key) for key in HEADER_FIELDS} | {"total": contract.total}


# ---------------------------------------------------------------- create / update / delete


def contract_create(
    *, actor, values: dict, lines: list[dict], owner=None, quote=None, ip: str | None = None
) -> Contract:
    """A new draft contract with its lines (priced and checked like quote lines)."""
    _require(actor, "contracts.create")
    header = _clean_header(actor, values, None)
    cleaned_lines = _clean_lines(actor, lines or [], header)
    owner = owner or actor
    if owner.pk != actor.pk and not policy.visible_users(actor).filter(pk=owner.pk, is_active=True).exists():
        raise ValidationError({"owner": _("只能把合同分配给您的数据范围内的员工。")})
    with transaction.atomic():
        contract = Contract.objects.create(
            code=number_next(key="contract"),
            owner=owner,
            department_id=owner.department_id,
            created_by=actor,
            quote=quote,
            **header,
        )
        _write_lines(contract, cleaned_lines)
        log_action(
            actor=actor,
            action="contract.created",
            target=contract,
            changes={"lines": [None, _lines_snapshot(cleaned_lines)], "total": [None, str(contract.total)]},
            ip_address=ip,
        )
    return contract


def _editable_or_raise(contract: Contract) -> None:
    if contract.is_editable:
        return
    if contract.status in (Contract.Status.APPROVED, Contract.Status.DONE):
        raise ValidationError(
            _("合同“%(code)s”已审批，客户、明细和金额已锁定；如需修改请先“变更合同”，修改后重新审批。")
            % {"code": contract.code}
        )
    if contract.status in (Contract.Status.PENDING, Contract.Status.CREDIT_REVIEW):
        raise ValidationError(
            _("合同“%(code)s”正在审批中，不能修改；如需修改请先撤回审批。") % {"code": contract.code}
        )
    raise ValidationError(
        _("合同“%(code)s”当前状态为“%(status)s”，不能修改。")
        % {"code": contract.code, "status": contract.get_status_display()}
    )


def contract_update(
    *, actor, contract: Contract, values: dict, lines: list[dict] | None = None, ip: str | None = None
) -> Contract:
    """Change a draft or rejected contract's header and (when given) replace its lines."""
    _require(actor, "contracts.edit", contract)
    with transaction.atomic():
        contract = _lock(contract)
        _editable_or_raise(contract)
        header = _clean_header(actor, values, contract)
        existing = list(contract.lines.select_related("product").order_by("order", "pk"))
        if lines is None:
            lines = _line_dicts(existing)
        cleaned_lines = _clean_lines(actor, lines, header)
        before = _header_snapshot(contract)
        old_lines = _lines_snapshot(existing)
        for key, value in header.items():
            setattr(contract, key, value)
        contract.save(update_fields=[*header.keys(), "updated_at"])
        _write_lines(contract, cleaned_lines)
        changes = diff(before, _header_snapshot(contract))
        new_lines = _lines_snapshot(cleaned_lines)
        if new_lines != old_lines:
            changes["lines"] = [old_lines, new_lines]
        log_action(actor=actor, action="contract.updated", target=contract, changes=changes, ip_address=ip)
    return contract


def contract_delete(*, actor, contract: Contract, ip: str | None = None) -> None:
    """Delete a draft (anything that went into approval stays, to be voided)."""
    _require(actor, "contracts.delete", contract)
    with transaction.atomic():
        contract = _lock(contract)
        if contract.status != Contract.Status.DRAFT:
            raise ValidationError(_("只有草稿状态的合同可以删除；其他合同请作废。"))
        if contract.submitted_at is not None:
            raise ValidationError(_("提交过审批的合同不能删除，请作废。"))
        log_action(
            actor=actor,
            action="contract.deleted",
            target=contract,
            changes={"code": [contract.code, None], "total": [str(contract.total), None]},
            ip_address=ip,
        )
        for attachment in contract.attachments.all():
            name = attachment.file.name
            transaction.on_commit(lambda n=name, s=attachment.file.storage: s.delete(n))
        contract.delete()


def contract_from_quote(*, actor, quote: Quote, ip: str | None = None) -> Contract:
    """A draft contract with the quote's customer, contact, opportunity, lines, tax and payment term;
    the quote becomes 已接受 (a draft quote is marked sent first)."""
    from crm.quotes import services as quote_services
    from crm.quotes.selectors import quotes_visible

    _require(actor, "contracts.create")
    if not quotes_visible(actor).filter(pk=quote.pk).exists():
        raise ValidationError({"quote": _("报价单不存在或您无权查看。")})
    if quote.status in (Quote.Status.REJECTED, Quote.Status.EXPIRED):
        raise ValidationError(
            {
                "quote": _("报价单“%(code)s”状态为“%(status)s”，不能转为合同。")
                % {"code": quote.code, "status": quote.get_status_display()}
            }
        )
    if quote.status != Quote.Status.ACCEPTED and quote.valid_until < timezone.localdate():
        raise ValidationError(
            {
                "quote": _("报价单“%(code)s”已于 %(date)s 过期，不能转为合同；请复制报价单重新报价。")
                % {"code": quote.code, "date": quote.valid_until.isoformat()}
            }
        )
    lines = _line_dicts(quote.lines.order_by("order", "pk"))
    values = {
        "name": _("%(customer)s 合同（报价单 %(code)s）")
        % {"customer": quote.customer.name, "code": quote.code},
        "kind": Contract.Kind.CONTRACT,
        "customer": quote.customer,
        "contact": quote.contact,
        "opportunity": getattr(quote, "opportunity", None),
        "payment_term": quote.payment_term,
        "tax_percent": quote.tax_percent,
        "note": quote.note,
    }
    values["name"] = values["name"][:200]
    with transaction.atomic():
        contract = contract_create(actor=actor, values=values, lines=lines, quote=quote, ip=ip)
        if quote.status == Quote.Status.DRAFT:
            quote_services.quote_send(actor=actor, quote=quote, ip=ip)
        if quote.status == Quote.Status.SENT:
            quote_services.quote_accept(actor=actor, quote=quote, ip=ip)
        log_action(
            actor=actor,
            action="contract.from_quote",
            target=contract,
            changes={"quote": [None, quote.code]},
            ip_address=ip,
        )
    return contract


# ---------------------------------------------------------------- approval


def credit_check(contract: Contract) -> dict | None:
    """None when the amount fits the customer's credit (or no limit is set); otherwise the figures."""
    limit = contract.customer.credit_limit
    if limit is None:
        return None
    outstanding = customer_outstanding(contract.customer_id, exclude_pk=contract.pk)
    remaining = limit - outstanding
    if contract.total <= remaining:
        return None
    return {"limit": limit, "outstanding": outstanding, "remaining": remaining, "amount": contract.total}


def contract_submit(*, actor, contract: Contract, ip: str | None = None) -> Contract:
    """Send a draft or rejected contract into approval (through a credit approval when over limit)."""
    from crm.approvals import services as approvals

    _require(actor, "contracts.edit", contract)
    with transaction.atomic():
        contract = _lock(contract)
        if not contract.is_editable:
            raise ValidationError(
                _("合同“%(code)s”当前状态为“%(status)s”，不能提交审批。")
                % {"code": contract.code, "status": contract.get_status_display()}
            )
        if not contract.lines.exists():
            raise ValidationError(_("合同至少需要一行产品明细才能提交审批。"))
        old_status = contract.status
        over = None
        mode = ContractSettings.load().credit_mode
        if mode != ContractSettings.CreditMode.OFF:
            over = credit_check(contract)
        if over and mode == ContractSettings.CreditMode.REFUSE:
            raise ValidationError(
                _(
                    "超出客户信用额度，不能提交：信用额度 ¥%(limit)s，未回款 ¥%(outstanding)s，"
                    "本合同 ¥%(amount)s（可用额度 ¥%(remaining)s）。"
                )
                % over
            )
        contract.credit_exceeded = bool(over)
        if over:
            approvals.submit(actor=actor, document=contract, kind="credit", ip=ip)
            contract.status = Contract.Status.CREDIT_REVIEW
        else:
            approvals.submit(actor=actor, document=contract, kind="contract", ip=ip)
            contract.status = Contract.Status.PENDING
        contract.submitted_at = timezone.now()
        contract.save(update_fields=["status", "credit_exceeded", "submitted_at", "updated_at"])
        changes = {"status": [old_status, contract.status]}
        if over:
            changes["credit"] = [None, {k: str(v) for k, v in over.items()}]
        log_action(actor=actor, action="contract.submitted", target=contract, changes=changes, ip_address=ip)
    return contract


def pending_request(contract: Contract):
    from django.contrib.contenttypes.models import ContentType

    from crm.approvals.models import ApprovalRequest

    return (
        ApprovalRequest.objects.filter(
            content_type=ContentType.objects.get_for_model(Contract),
            object_id=str(contract.pk),
            status=ApprovalRequest.Status.PENDING,
        )
        .select_related("applicant")
        .first()
    )


def contract_withdraw(*, actor, contract: Contract, ip: str | None = None) -> Contract:
    """The applicant takes a contract back from approval: it becomes a draft again."""
    from django.core.exceptions import PermissionDenied

    from crm.approvals import services as approvals

    _require(actor, "contracts.edit", contract)
    with transaction.atomic():
        contract = _lock(contract)
        request = pending_request(contract)
        if contract.status not in (Contract.Status.PENDING, Contract.Status.CREDIT_REVIEW) or request is None:
            raise ValidationError(_("只有审批中的合同可以撤回。"))
        if request.applicant_id != actor.pk:
            raise PermissionDenied(_("只有提交人可以撤回审批。"))
        approvals.withdraw(actor=actor, request=request, ip=ip)  # the receiver puts it back to draft
        contract.refresh_from_db()
    return contract


def _set_status(contract: Contract, status: str, *, actor, action: str, extra_fields=(), **changes) -> None:
    old = contract.status
    contract.status = status
    contract.save(update_fields=["status", "updated_at", *extra_fields])
    log_action(actor=actor, action=action, target=contract, changes={"status": [old, status], **changes})


def _locked_from_request(request) -> Contract | None:
    try:
        pk = int(request.object_id)
    except (TypeError, ValueError):
        return None
    return Contract.objects.select_for_update().select_related("customer").filter(pk=pk).first()


def on_contract_approved(request) -> None:
    """The engine approved the "contract" request: the contract becomes effective."""
    contract = _locked_from_request(request)
    if contract is None or contract.status != Contract.Status.PENDING:
        return
    now = timezone.now()
    contract.approved_at = now
    fields = ["approved_at"]
    if contract.kind == Contract.Kind.ORDER:
        contract.order_status = Contract.OrderStatus.CONFIRMED
        fields.append("order_status")
    _set_status(
        contract, Contract.Status.APPROVED, actor=None, action="contract.approved", extra_fields=fields
    )
    _customer_after_deal(contract.customer, contract, now)
    signals.contract_approved.send(sender=Contract, contract=contract, actor=request.applicant)


def _customer_after_deal(customer: Customer, contract: Contract, now) -> None:
    """CUS-14: the customer's last deal time, and its status if the settings say so (logged)."""
    settings_row = ContractSettings.load()
    new_status = settings_row.status_on_approval
    updates = {"last_deal_at": now}
    changes = {}
    if new_status is not None and customer.status_id != new_status.pk:
        old_name = customer.status.name if customer.status_id else None
        updates["status"] = new_status
        changes["status"] = [old_name, new_status.name]
    Customer.objects.filter(pk=customer.pk).update(**updates)
    if changes:
        log_action(
            actor=None,
            action="customer.status_changed",
            target=customer,
            changes=changes,
            message=_("合同“%(code)s”审批通过") % {"code": contract.code},
        )


def on_contract_rejected(request) -> None:
    contract = _locked_from_request(request)
    if contract is None or contract.status != Contract.Status.PENDING:
        return
    _set_status(contract, Contract.Status.REJECTED, actor=None, action="contract.rejected")


def on_credit_approved(request) -> None:
    """The credit excess was approved: the contract's own approval starts, for the same applicant."""
    from crm.approvals import services as approvals

    contract = _locked_from_request(request)
    if contract is None or contract.status != Contract.Status.CREDIT_REVIEW:
        return
    approvals.submit(actor=request.applicant, document=contract, kind="contract")
    _set_status(contract, Contract.Status.PENDING, actor=None, action="contract.credit_approved")


def on_credit_rejected(request) -> None:
    contract = _locked_from_request(request)
    if contract is None or contract.status != Contract.Status.CREDIT_REVIEW:
        return
    _set_status(contract, Contract.Status.REJECTED, actor=None, action="contract.credit_rejected")


def on_withdrawn(request) -> None:
    contract = _locked_from_request(request)
    if contract is None or contract.status not in (Contract.Status.PENDING, Contract.Status.CREDIT_REVIEW):
        return
    _set_status(contract, Contract.Status.DRAFT, actor=request.applicant, action="contract.withdrawn")


# ---------------------------------------------------------------- after approval


def contract_revise(*, actor, contract: Contract, ip: str | None = None) -> Contract:
    """Reopen an approved contract as a draft for changes that then need a new approval."""
    from crm.receivables.models import Receivable

    _require(actor, "contracts.edit", contract)
    with transaction.atomic():
        contract = _lock(contract)
        if contract.status != Contract.Status.APPROVED:
            raise ValidationError(_("只有已审批的合同可以变更。"))
        if Receivable.objects.filter(contract=contract, status=Receivable.Status.PENDING).exists():
            raise ValidationError(_("该合同有审批中的回款，处理完成后才能变更合同。"))
        if contract.order_status in (Contract.OrderStatus.SHIPPED, Contract.OrderStatus.DONE):
            raise ValidationError(_("订单已发货，不能变更。"))
        old_order = contract.order_status
        contract.approved_at = None
        contract.order_status = Contract.OrderStatus.NONE
        _set_status(
            contract,
            Contract.Status.DRAFT,
            actor=actor,
            action="contract.revised",
            extra_fields=["approved_at", "order_status"],
            order_status=[old_order, contract.order_status],
        )
    return contract


def contract_void(*, actor, contract: Contract, reason: str, ip: str | None = None) -> Contract:
    """Void a draft, rejected or approved contract with nothing received or invoiced."""
    reason = (reason or "").strip()
    _require(actor, "contracts.edit", contract)
    if contract.status == Contract.Status.APPROVED:
        _require(actor, "contracts.approve", contract)
    if not reason:
        raise ValidationError({"reason": _("请填写作废原因。")})
    if len(reason) > 500:
        raise ValidationError({"reason": _("作废原因不能超过 500 个字符。")})
    with transaction.atomic():
        contract = _lock(contract)
        allowed = (Contract.Status.DRAFT, Contract.Status.REJECTED, Contract.Status.APPROVED)
        if contract.status not in allowed:
            raise ValidationError(
                _("合同“%(code)s”当前状态为“%(status)s”，不能作废。")
                % {"code": contract.code, "status": contract.get_status_display()}
            )
        if contract.received_amount > 0:
            raise ValidationError(
                _("合同已有回款 ¥%(amount)s，不能作废。") % {"amount": contract.received_amount}
            )
        if contract.invoiced_amount > 0:
            raise ValidationError(
                _("合同已开票 ¥%(amount)s，不能作废。") % {"amount": contract.invoiced_amount}
            )
        if contract.shipped_at is not None:  # the stock went out with the goods
            raise ValidationError(_("订单已发货，不能作废。"))
        was_approved = contract.status == Contract.Status.APPROVED
        old = contract.status
        contract.status = Contract.Status.VOID
        contract.voided_at = timezone.now()
        contract.save(update_fields=["status", "voided_at", "updated_at"])
        log_action(
            actor=actor,
            action="contract.voided",
            target=contract,
            changes={"status": [old, contract.status]},
            message=reason,
            ip_address=ip,
        )
        if was_approved:
            signals.contract_voided.send(sender=Contract, contract=contract, actor=actor)
    return contract


# ---------------------------------------------------------------- attachments


def attachment_add(*, actor, contract: Contract, upload: UploadedFile, ip: str | None = None):
    """Attach a file (≤10 MB, allow-listed type, content checked like follow-up attachments)."""
    from crm.activities.services import _check_upload as check_upload

    _require(actor, "contracts.edit", contract)
    if contract.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationError({"file": [_("每份合同最多 %(max)s 个附件。") % {"max": MAX_ATTACHMENTS}]})
    extension, content_type = check_upload(upload)
    with transaction.atomic():
        attachment = ContractAttachment(
            contract=contract,
            original_name=PurePath(upload.name).name[:255],
            size=upload.size,
            content_type=content_type,
            uploaded_by=actor,
        )
        attachment.file.save(f"{uuid.uuid4().hex}.{extension}", upload, save=False)
        stored = attachment.file.name
        try:
            attachment.save()
        except Exception:
            attachment.file.storage.delete(stored)
            raise
        log_action(
            actor=actor,
            action="contract.attachment_added",
            target=contract,
            changes={"file": [None, attachment.original_name]},
            ip_address=ip,
        )
    return attachment


# ---------------------------------------------------------------- settings


def settings_update(*, actor, values: dict, ip: str | None = None) -> ContractSettings:
    """Change the contract settings (contracts.settings)."""
    _require(actor, "contracts.settings")
    status = values.get("status_on_approval")
    if status is not None and (status.kind != DictionaryItem.Kind.STATUS or not status.is_active):
        raise ValidationError({"status_on_approval": _("请从“客户状态”字典中选择一个启用的选项。")})
    mode = values.get("credit_mode") or ContractSettings.CreditMode.APPROVAL
    if mode not in ContractSettings.CreditMode.values:
        raise ValidationError({"credit_mode": _("信用额度控制方式无效。")})
    with transaction.atomic():
        row = ContractSettings.objects.select_for_update().get(pk=ContractSettings.load().pk)
        before = {
            "status_on_approval": row.status_on_approval,
            "credit_mode": row.credit_mode,
            "earn_points": row.earn_points,
        }
        row.status_on_approval = status
        row.credit_mode = mode
        row.earn_points = bool(values.get("earn_points"))
        row.save()
        after = {
            "status_on_approval": row.status_on_approval,
            "credit_mode": row.credit_mode,
            "earn_points": row.earn_points,
        }
        log_action(
            actor=actor,
            action="contract_settings.updated",
            target=row,
            changes=diff(before, after),
            ip_address=ip,
        )
    return row


# ---------------------------------------------------------------- transfer and follow-ups


@transaction.atomic
def contracts_transfer(*, actor, contracts, to_user, ip: str | None = None) -> int:
    """Give contracts (any status) to `to_user`, a colleague in the actor's scope: one UPDATE and
    one log row per contract (old → new owner). Receivables and invoices keep their own owner."""
    _require(actor, "contracts.transfer")
    if not to_user.is_active:
        raise ValidationError(_("不能把合同转移给已停用的员工。"))
    if to_user.pk != actor.pk and not policy.visible_users(actor).filter(pk=to_user.pk).exists():
        raise ValidationError(_("只能把合同转移给您的数据范围内的员工。"))
    rows = [
        contract
        for contract in contracts_visible(actor)
        .filter(pk__in=contracts.values("pk"))
        .select_for_update(of=("self",))
        .select_related("owner")
        .order_by("pk")
        if contract.owner_id != to_user.pk
    ]
    if not rows:
        return 0
    Contract.objects.filter(pk__in=[c.pk for c in rows]).update(
        owner=to_user, department_id=to_user.department_id, updated_at=timezone.now()
    )
    log_actions_bulk(
        actor=actor,
        action="contract.transferred",
        targets=rows,
        changes_by_target={c.pk: {"owner": [str(c.owner), str(to_user)]} for c in rows},
        ip_address=ip,
    )
    return len(rows)


def contract_followup_create(*, actor, contract: Contract, ip: str | None = None, **values):
    """A follow-up on the contract's customer (the customer's rules), linked to the contract.
    `values`: type, content, contact, followed_at, next_contact_at, next_action."""
    contract = contract_get_for_user(user=actor, contract_id=contract.pk)
    return followup_create_linked(actor=actor, document=contract, link_field="contract", ip=ip, **values)
