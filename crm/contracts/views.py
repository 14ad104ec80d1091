"""Contract pages (CTR-1, CTR-2): list, form with dynamic product lines (htmx, priced like quotes),
detail with approval actions and attachments, print view, settings, and "转为合同" from a quote.
Thin: reads through crm.contracts.selectors, writes through crm.contracts.services."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.accounts.models import User
from crm.activities.forms import LinkedFollowUpForm
from crm.activities.selectors import followups_linked
from crm.approvals.selectors import is_read_via_approval
from crm.audit.services import client_ip
from crm.contracts import selectors, services
from crm.contracts.forms import AttachmentForm, ContractForm, ContractSettingsForm, VoidForm, lines_from_post
from crm.contracts.models import DEFAULT_TAX_PERCENT, Contract, ContractSettings
from crm.core.mixins import PermissionMixin
from crm.customers.models import Contact
from crm.opportunities.models import Opportunity
from crm.quotes.selectors import quote_get_for_user

# The line editor is the quote one: same pricing helpers, same row partial shape.
from crm.quotes.views import _add_errors, _products, _row, _visible_customer


def _status_tabs():
    return [("", _("全部"))] + list(Contract.Status.choices)


class ContractListView(PermissionMixin, View):
    permission = "contracts.view"

    def get(self, request):
        status = request.GET.get("status", "")
        kind = request.GET.get("kind", "")
        filters = selectors.ContractFilters(q=request.GET.get("q", "")[:100], status=status, kind=kind)
        page = selectors.contract_page(user=request.user, filters=filters, cursor=request.GET.get("cursor"))
        return render(
            request,
            "contracts/list.html",
            {
                "page": page,
                "q": filters.q,
                "status": status,
                "kind": kind,
                "tabs": _status_tabs(),
                "kinds": Contract.Kind.choices,
                "can_create": policy.can(request.user, "contracts.create"),
                "can_settings": policy.can(request.user, "contracts.settings"),
                "can_transfer": policy.can(request.user, "contracts.transfer"),
                "can_export": policy.can(request.user, "contracts.export"),
            },
        )


def _initial_rows(lines) -> list[dict]:
    return [
        {
            "product": line.product_id,
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price),
            "discount_percent": str(line.discount_percent),
            "tax_percent": str(line.tax_percent),
            "description": line.description,
        }
        for line in lines
    ]


class ContractFormView(PermissionMixin, View):
    """New contract (contracts.create) or edit a draft / rejected one (contracts.edit)."""

    def dispatch(self, request, *args, pk=None, **kwargs):
        self.pk = pk
        self.permission = "contracts.edit" if pk else "contracts.create"
        return super().dispatch(request, *args, **kwargs)

    def _load(self):
        if not self.pk:
            return None
        contract = selectors.contract_get_for_user(user=self.request.user, contract_id=self.pk)
        if not policy.can(self.request.user, "contracts.edit", contract):
            raise PermissionDenied
        if not contract.is_editable:
            messages.error(self.request, _("合同当前状态不能修改；已审批的合同请先“变更合同”。"))
            return redirect("contracts:detail", contract.pk)
        return contract

    def get(self, request):
        contract = self._load()
        if not isinstance(contract, Contract | None):
            return contract
        if contract is not None:
            initial = {key: getattr(contract, key) for key in services.HEADER_FIELDS}
            rows = _initial_rows(selectors.contract_lines(contract))
        else:
            customer = _visible_customer(request.user, request.GET.get("customer"))
            initial = {
                "customer": customer,
                "kind": Contract.Kind.CONTRACT,
                "signed_on": timezone.localdate(),
                "tax_percent": DEFAULT_TAX_PERCENT,
                "our_signatory": request.user,
            }
            rows = []
        if not rows:
            rows = [
                {
                    "tax_percent": str(initial.get("tax_percent") or DEFAULT_TAX_PERCENT),
                    "discount_percent": "0",
                }
            ]
        form = ContractForm(initial=initial, user=request.user, contract=contract)
        customer = initial.get("customer")
        term = initial.get("payment_term") or ""
        return self.render(form, contract, [_row(r, customer=customer, payment_term=term) for r in rows])

    def post(self, request):
        contract = self._load()
        if not isinstance(contract, Contract | None):
            return contract
        form = ContractForm(request.POST, user=request.user, contract=contract)
        lines = lines_from_post(request.POST)
        if form.is_valid():
            values = dict(form.cleaned_data)
            ip = client_ip(request)
            try:
                if contract is None:
                    saved = services.contract_create(actor=request.user, values=values, lines=lines, ip=ip)
                else:
                    saved = services.contract_update(
                        actor=request.user, contract=contract, values=values, lines=lines, ip=ip
                    )
            except PermissionRequiredError as exc:
                raise PermissionDenied from exc
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("合同“%(code)s”已保存。") % {"code": saved.code})
                return redirect("contracts:detail", saved.pk)
        customer = _visible_customer(request.user, request.POST.get("customer"))
        term = request.POST.get("payment_term", "")
        rows = [_row(r, customer=customer, payment_term=term) for r in lines] or [
            {"tax_percent": request.POST.get("tax_percent", ""), "discount_percent": "0"}
        ]
        return self.render(form, contract, rows, status=400)

    def render(self, form, contract, rows, status=200):
        context = {"form": form, "contract": contract, "rows": rows, "products": _products()}
        return render(self.request, "contracts/form.html", context, status=status)


class LineRowView(PermissionMixin, View):
    """htmx: one line row priced for the product, customer, quantity and payment term."""

    def get(self, request):
        if not (policy.can(request.user, "contracts.create") or policy.can(request.user, "contracts.edit")):
            raise PermissionDenied
        product = request.GET.get("line_product", "")
        values = {
            "product": int(product) if product.isdigit() else None,
            "quantity": request.GET.get("line_quantity", ""),
            "unit_price": request.GET.get("line_unit_price", ""),
            "discount_percent": request.GET.get("line_discount", "") or "0",
            "tax_percent": request.GET.get("line_tax", "") or request.GET.get("tax_percent", ""),
            "description": request.GET.get("line_description", ""),
        }
        customer = _visible_customer(request.user, request.GET.get("customer"))
        reprice = request.headers.get("HX-Trigger-Name") == "line_product"
        row = _row(
            values, customer=customer, payment_term=request.GET.get("payment_term", ""), reprice=reprice
        )
        context = {"row": row, "products": _products(), "line_kind": "contract"}
        return render(request, "quotes/_line_row.html", context)


class CustomerOptionsView(PermissionMixin, View):
    """htmx: the contact or opportunity options of the chosen customer."""

    permission = "contracts.view"

    def get(self, request, what):
        customer = _visible_customer(request.user, request.GET.get("customer"))
        if what == "contacts":
            rows = (
                Contact.objects.filter(customer=customer).order_by("-is_primary", "name") if customer else []
            )
            return render(request, "quotes/_contact_options.html", {"contacts": rows})
        if what == "opportunities":
            rows = (
                Opportunity.objects.filter(customer=customer).order_by("-created_at")[:100]
                if customer
                else []
            )
            return render(request, "contracts/_opportunity_options.html", {"opportunities": rows})
        raise Http404


def _detail_context(request, contract, **extra) -> dict:
    user = request.user
    # The contract came through contract_get_for_user: in scope, unless it was handed out read-only
    # to an approver of it (then no action at all). In scope, check the actions by name.
    in_scope = not is_read_via_approval(contract)
    perms = policy.permissions_of(user) if in_scope else frozenset()
    can_edit = "contracts.edit" in perms
    status = contract.status
    request_pending = (
        services.pending_request(contract)
        if status in (Contract.Status.PENDING, Contract.Status.CREDIT_REVIEW)
        else None
    )
    return {
        "contract": contract,
        "lines": selectors.contract_lines(contract),
        "attachments": selectors.contract_attachments(contract),
        "attachment_form": AttachmentForm(),
        "void_form": VoidForm(),
        "can_edit": can_edit and contract.is_editable,
        "can_submit": can_edit and contract.is_editable,
        "can_withdraw": can_edit and request_pending is not None and request_pending.applicant_id == user.pk,
        "can_revise": can_edit and status == Contract.Status.APPROVED,
        "can_void": can_edit
        and contract.received_amount == 0
        and contract.invoiced_amount == 0
        and (
            status in (Contract.Status.DRAFT, Contract.Status.REJECTED)
            or (status == Contract.Status.APPROVED and "contracts.approve" in perms)
        ),
        "can_delete": "contracts.delete" in perms
        and status == Contract.Status.DRAFT
        and contract.submitted_at is None,
        "can_print": "contracts.print" in policy.permissions_of(user),  # a read: approvers too
        "read_via_approval": not in_scope,
        "can_attach": can_edit,
        "can_transfer": "contracts.transfer" in perms and status != Contract.Status.VOID,
        "can_follow": "activities.create" in perms,
        # Follow-ups are the customer's records, not the document under approval.
        "followups": followups_linked(user, "contract", contract.pk) if in_scope else [],
        "followup_form": extra.pop("followup_form", None) or LinkedFollowUpForm(customer=contract.customer),
        **extra,
    }


class ContractDetailView(PermissionMixin, View):
    # contracts.view (403 without it), or an approval task on this contract: the selector decides.
    permission = None

    def get(self, request, pk):
        contract = selectors.contract_get_for_user(user=request.user, contract_id=pk, read_only=True)
        return render(request, "contracts/detail.html", _detail_context(request, contract))


class ContractActionView(PermissionMixin, View):
    """POST action = submit / withdraw / revise / void / delete from the detail page."""

    permission = "contracts.view"

    def post(self, request, pk):
        contract = selectors.contract_get_for_user(user=request.user, contract_id=pk)
        action = request.POST.get("action", "")
        ip = client_ip(request)
        user = request.user
        try:
            if action == "submit":
                contract = services.contract_submit(actor=user, contract=contract, ip=ip)
                if contract.status == Contract.Status.CREDIT_REVIEW:
                    messages.warning(request, _("合同金额超出客户可用信用额度，已提交信用额度审批。"))
                else:
                    messages.success(request, _("合同已提交审批。"))
            elif action == "withdraw":
                services.contract_withdraw(actor=user, contract=contract, ip=ip)
                messages.success(request, _("已撤回审批，合同回到草稿状态。"))
            elif action == "revise":
                services.contract_revise(actor=user, contract=contract, ip=ip)
                messages.success(request, _("合同已回到草稿状态，修改后请重新提交审批。"))
                return redirect("contracts:edit", contract.pk)
            elif action == "void":
                services.contract_void(
                    actor=user, contract=contract, reason=request.POST.get("reason", ""), ip=ip
                )
                messages.success(request, _("合同已作废。"))
            elif action == "delete":
                services.contract_delete(actor=user, contract=contract, ip=ip)
                messages.success(request, _("合同“%(code)s”已删除。") % {"code": contract.code})
                return redirect("contracts:list")
            else:
                raise Http404
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("contracts:detail", contract.pk)


class FromQuoteView(PermissionMixin, View):
    """POST from the quote page: a draft contract from the quote, then its form."""

    permission = "contracts.create"

    def post(self, request, quote_pk):
        quote = quote_get_for_user(user=request.user, quote_id=quote_pk)
        try:
            contract = services.contract_from_quote(actor=request.user, quote=quote, ip=client_ip(request))
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("quotes:detail", quote.pk)
        messages.success(
            request, _("已根据报价单生成合同“%(code)s”，请补充合同信息。") % {"code": contract.code}
        )
        return redirect("contracts:edit", contract.pk)


class PrintView(PermissionMixin, View):
    """A clean A4 page with the same stored, rounded figures as the detail page and the API."""

    permission = "contracts.print"

    def get(self, request, pk):
        contract = selectors.contract_get_for_user(user=request.user, contract_id=pk, read_only=True)
        company = getattr(settings, "CRM_COMPANY_NAME", None) or settings.CRM_SITE_NAME
        return render(
            request,
            "contracts/print.html",
            {"contract": contract, "lines": selectors.contract_lines(contract), "company": company},
        )


class AttachmentUploadView(PermissionMixin, View):
    permission = "contracts.edit"

    def post(self, request, pk):
        contract = selectors.contract_get_for_user(user=request.user, contract_id=pk)
        form = AttachmentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.attachment_add(
                    actor=request.user,
                    contract=contract,
                    upload=form.cleaned_data["file"],
                    ip=client_ip(request),
                )
            except PermissionRequiredError as exc:
                raise PermissionDenied from exc
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("附件已上传。"))
                return redirect("contracts:detail", pk)
        context = _detail_context(request, contract) | {"attachment_form": form}
        return render(request, "contracts/detail.html", context, status=400)


class AttachmentDownloadView(PermissionMixin, View):
    # contracts.view (403 without it), or an approval task on this contract: the selector decides.
    permission = None

    def get(self, request, pk, attachment_pk):
        attachment = selectors.attachment_get_for_user(
            user=request.user, contract_id=pk, attachment_id=attachment_pk, read_only=True
        )
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class SettingsView(PermissionMixin, View):
    """合同设置: customer status on approval (CUS-14), the credit rule (CUS-16), points."""

    permission = "contracts.settings"

    def get(self, request):
        row = ContractSettings.load()
        form = ContractSettingsForm(
            initial={
                "status_on_approval": row.status_on_approval,
                "credit_mode": row.credit_mode,
                "earn_points": row.earn_points,
            }
        )
        return render(request, "contracts/settings.html", {"form": form})

    def post(self, request):
        form = ContractSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.settings_update(actor=request.user, values=form.cleaned_data, ip=client_ip(request))
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("合同设置已保存。"))
                return redirect("contracts:settings")
        return render(request, "contracts/settings.html", {"form": form}, status=400)


MAX_BULK = 500


class ContractFollowUpCreateView(PermissionMixin, View):
    """POST a follow-up on the contract (it is the customer's follow-up too)."""

    permission = "activities.create"

    def post(self, request, pk):
        contract = selectors.contract_get_for_user(user=request.user, contract_id=pk)
        form = LinkedFollowUpForm(request.POST, customer=contract.customer)
        if form.is_valid():
            try:
                services.contract_followup_create(
                    actor=request.user, contract=contract, ip=client_ip(request), **form.cleaned_data
                )
            except PermissionRequiredError as exc:
                raise PermissionDenied from exc
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("跟进记录已保存。"))
                return redirect("contracts:detail", contract.pk)
        context = _detail_context(request, contract, followup_form=form)
        return render(request, "contracts/detail.html", context, status=400)


class ContractTransferView(PermissionMixin, View):
    """POST ids + to_user from the list's bulk bar or the detail page."""

    permission = "contracts.transfer"

    def post(self, request):
        ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()][:MAX_BULK]
        back = request.POST.get("next") or ""
        if not back.startswith("/") or back.startswith("//"):
            back = reverse("contracts:list")
        raw = request.POST.get("to_user") or ""
        to_user = User.objects.filter(pk=int(raw), is_active=True).first() if raw.isdigit() else None
        try:
            if not ids:
                raise ValidationError(_("请先选择合同。"))
            if to_user is None:
                raise ValidationError(_("请选择接手的在职员工。"))
            count = services.contracts_transfer(
                actor=request.user,
                contracts=Contract.objects.filter(pk__in=ids),
                to_user=to_user,
                ip=client_ip(request),
            )
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("已将 %(count)d 份合同转移给 %(name)s。") % {"count": count, "name": to_user.display_name},
            )
        return redirect(back)
