"""Invoice pages (CTR-5): list, request form from a contract, detail with the finance actions (issue,
mail, void) and a print view. Thin: reads through crm.invoices.selectors, writes through
crm.invoices.services."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import client_ip
from crm.contracts.selectors import contract_get_for_user
from crm.core.mixins import PermissionMixin
from crm.invoices import selectors, services
from crm.invoices.forms import InvoiceIssueForm, InvoiceMailForm, InvoiceRequestForm, InvoiceVoidForm
from crm.invoices.models import Invoice


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class InvoiceListView(PermissionMixin, View):
    permission = "invoices.view"

    def get(self, request):
        status = request.GET.get("status", "")
        if status not in Invoice.Status.values:
            status = ""
        customer = request.GET.get("customer", "")
        filters = selectors.InvoiceFilters(
            q=request.GET.get("q", "")[:100],
            status=status,
            customer_id=int(customer) if customer.isdigit() and len(customer) < 10 else None,
        )
        page = selectors.invoice_page(user=request.user, filters=filters, cursor=request.GET.get("cursor"))
        return render(
            request,
            "invoices/list.html",
            {"page": page, "q": filters.q, "status": status, "statuses": Invoice.Status.choices},
        )


class InvoiceRequestView(PermissionMixin, View):
    """申请开票 on a contract the user may see (invoices.create)."""

    permission = "invoices.create"

    def _contract(self, contract_id):
        return contract_get_for_user(user=self.request.user, contract_id=contract_id)

    def get(self, request, contract_id):
        contract = self._contract(contract_id)
        customer = contract.customer
        form = InvoiceRequestForm(
            initial={
                "kind": Invoice.Kind.SPECIAL,
                "amount": services.contract_invoiceable(contract),
                "tax_percent": contract.tax_percent,
                "title": customer.name,
                "tax_number": customer.credit_code or "",
            }
        )
        return self.render(form, contract)

    def post(self, request, contract_id):
        contract = self._contract(contract_id)
        form = InvoiceRequestForm(request.POST)
        if form.is_valid():
            try:
                invoice = services.invoice_request(
                    actor=request.user,
                    contract=contract,
                    values=dict(form.cleaned_data),
                    ip=client_ip(request),
                )
            except PermissionRequiredError as exc:
                raise PermissionDenied from exc
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("发票申请“%(code)s”已提交。") % {"code": invoice.code})
                return redirect("invoices:detail", invoice.pk)
        return self.render(form, contract, status=400)

    def render(self, form, contract, status=200):
        context = {"form": form, "contract": contract, "invoiceable": services.contract_invoiceable(contract)}
        if not contract.is_effective:
            context["blocked"] = _("合同“%(code)s”尚未审批通过（当前状态：%(status)s），不能申请开票。") % {
                "code": contract.code,
                "status": contract.get_status_display(),
            }
        return render(self.request, "invoices/form.html", context, status=status)


ACTION_FORMS = {"issue": InvoiceIssueForm, "mail": InvoiceMailForm, "void": InvoiceVoidForm}
ACTION_SOURCES = {
    "issue": {Invoice.Status.REQUESTED},
    "mail": {Invoice.Status.ISSUED},
    "void": {Invoice.Status.REQUESTED, Invoice.Status.ISSUED, Invoice.Status.MAILED},
}


def _detail_context(request, invoice, bound: dict | None = None) -> dict:
    can_approve = policy.can(request.user, "invoices.approve")
    today = timezone.localdate()
    forms = {
        "issue": InvoiceIssueForm(initial={"issued_on": today}),
        "mail": InvoiceMailForm(initial={"mailed_on": today}),
        "void": InvoiceVoidForm(),
    }
    forms.update(bound or {})
    allowed = {name: can_approve and invoice.status in sources for name, sources in ACTION_SOURCES.items()}
    return {
        "invoice": invoice,
        "contract": invoice.contract,
        "can": allowed,
        "issue_form": forms["issue"],
        "mail_form": forms["mail"],
        "void_form": forms["void"],
        "can_print": policy.can(request.user, "invoices.print"),
    }


class InvoiceDetailView(PermissionMixin, View):
    permission = "invoices.view"

    def get(self, request, pk):
        invoice = selectors.invoice_get_for_user(user=request.user, invoice_id=pk)
        return render(request, "invoices/detail.html", _detail_context(request, invoice))


class InvoiceActionView(PermissionMixin, View):
    """POST action = issue / mail / void from the detail page (invoices.approve)."""

    permission = "invoices.view"

    def post(self, request, pk):
        invoice = selectors.invoice_get_for_user(user=request.user, invoice_id=pk)
        action = request.POST.get("action", "")
        if action not in ACTION_FORMS:
            raise Http404
        if not policy.can(request.user, "invoices.approve"):
            raise PermissionDenied
        form = ACTION_FORMS[action](request.POST)
        if form.is_valid():
            data = form.cleaned_data
            ip = client_ip(request)
            try:
                if action == "issue":
                    services.invoice_issue(
                        actor=request.user,
                        invoice=invoice,
                        invoice_number=data["invoice_number"],
                        issued_on=data["issued_on"],
                        ip=ip,
                    )
                    messages.success(request, _("发票已开具。"))
                elif action == "mail":
                    services.invoice_mail(
                        actor=request.user,
                        invoice=invoice,
                        tracking_number=data["tracking_number"],
                        mailed_on=data["mailed_on"],
                        ip=ip,
                    )
                    messages.success(request, _("发票已登记邮寄。"))
                else:
                    services.invoice_void(
                        actor=request.user, invoice=invoice, reason=data["void_reason"], ip=ip
                    )
                    messages.success(request, _("发票已作废。"))
            except PermissionRequiredError as exc:
                raise PermissionDenied from exc
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return redirect("invoices:detail", invoice.pk)
        context = _detail_context(request, invoice, {action: form})
        context["open_action"] = action
        return render(request, "invoices/detail.html", context, status=400)


class InvoicePrintView(PermissionMixin, View):
    """开票申请单: a clean A4 page with the stored figures."""

    permission = "invoices.print"

    def get(self, request, pk):
        invoice = selectors.invoice_get_for_user(user=request.user, invoice_id=pk)
        company = getattr(settings, "CRM_COMPANY_NAME", None) or settings.CRM_SITE_NAME
        return render(request, "invoices/print.html", {"invoice": invoice, "company": company})
