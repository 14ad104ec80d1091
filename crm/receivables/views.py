"""Receivable and payment-plan pages (CTR-2): lists, the receivable form and detail (with its
approval status), and the plan actions used by the contract page's section (htmx). Thin: reads
through crm.receivables.selectors, writes through crm.receivables.services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.approvals.selectors import is_read_via_approval
from crm.audit.services import client_ip
from crm.contracts.selectors import contract_get_for_user
from crm.core.mixins import PermissionMixin
from crm.receivables import selectors, services
from crm.receivables.forms import PlanForm, ReceivableForm
from crm.receivables.models import Receivable


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _int(value) -> int | None:
    value = str(value or "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


class ReceivableListView(PermissionMixin, View):
    permission = "receivables.view"

    def get(self, request):
        status = request.GET.get("status", "")
        filters = selectors.ReceivableFilters(
            q=request.GET.get("q", "")[:100], status=status, contract_id=_int(request.GET.get("contract"))
        )
        page = selectors.receivable_page(user=request.user, filters=filters, cursor=request.GET.get("cursor"))
        return render(
            request,
            "receivables/list.html",
            {"page": page, "q": filters.q, "status": status, "statuses": Receivable.Status.choices},
        )


class PlanListView(PermissionMixin, View):
    permission = "receivables.view"

    def get(self, request):
        due = request.GET.get("due", "")
        filters = selectors.PlanFilters(
            q=request.GET.get("q", "")[:100],
            due=due if due in ("upcoming", "overdue") else "",
            contract_id=_int(request.GET.get("contract")),
        )
        page = selectors.plan_page(user=request.user, filters=filters, cursor=request.GET.get("cursor"))
        return render(
            request,
            "receivables/plans.html",
            {"page": page, "q": filters.q, "due": filters.due, "upcoming_days": selectors.UPCOMING_DAYS},
        )


class ReceivableFormView(PermissionMixin, View):
    """登记回款 on a contract (?contract=<id>, receivables.create) or edit a draft (receivables.edit)."""

    def dispatch(self, request, *args, pk=None, **kwargs):
        self.pk = pk
        self.permission = "receivables.edit" if pk else "receivables.create"
        return super().dispatch(request, *args, **kwargs)

    def _load(self):
        user = self.request.user
        if self.pk:
            receivable = selectors.receivable_get_for_user(user=user, receivable_id=self.pk)
            if receivable.status not in services.EDITABLE_STATUSES:
                raise PermissionDenied
            return receivable, receivable.contract
        contract_id = _int(self.request.GET.get("contract") or self.request.POST.get("contract"))
        if contract_id is None:
            raise Http404
        if not policy.can(user, "receivables.view"):
            raise PermissionDenied
        return None, contract_get_for_user(user=user, contract_id=contract_id)

    def get(self, request):
        receivable, contract = self._load()
        if receivable is not None:
            initial = {key: getattr(receivable, key) for key in services.RECEIVABLE_FIELDS}
        else:
            initial = {"plan": _int(request.GET.get("plan"))}
        form = ReceivableForm(initial=initial, contract=contract)
        return self.render(form, receivable, contract)

    def post(self, request):
        receivable, contract = self._load()
        form = ReceivableForm(request.POST, contract=contract)
        if form.is_valid():
            ip = client_ip(request)
            try:
                if receivable is None:
                    saved = services.receivable_create(
                        actor=request.user, contract=contract, values=form.cleaned_data, ip=ip
                    )
                else:
                    saved = services.receivable_update(
                        actor=request.user, receivable=receivable, values=form.cleaned_data, ip=ip
                    )
            except PermissionRequiredError as exc:
                raise PermissionDenied from exc
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("回款“%(code)s”已保存，请提交审批。") % {"code": saved.code})
                return redirect("receivables:detail", saved.pk)
        return self.render(form, receivable, contract, status=400)

    def render(self, form, receivable, contract, status=200):
        context = {
            "form": form,
            "receivable": receivable,
            "contract": contract,
            "money": selectors.contract_money(contract),
        }
        return render(self.request, "receivables/form.html", context, status=status)


class ReceivableDetailView(PermissionMixin, View):
    # receivables.view (403 without it), or an approval task on this receivable: the selector decides.
    permission = None

    def get(self, request, pk):
        receivable = selectors.receivable_get_for_user(user=request.user, receivable_id=pk, read_only=True)
        user = request.user
        # In scope, the actions need their permissions; handed out read-only to an approver, none.
        read_via_approval = is_read_via_approval(receivable)
        editable = receivable.status in services.EDITABLE_STATUSES and not read_via_approval
        context = {
            "receivable": receivable,
            "read_via_approval": read_via_approval,
            "can_edit": editable and policy.can(user, "receivables.edit"),
            "can_submit": editable and policy.can(user, "receivables.create"),
            "can_confirm": not read_via_approval and services.can_confirm(user, receivable),
            "can_delete": editable and policy.can(user, "receivables.delete"),
        }
        return render(request, "receivables/detail.html", context)


class ReceivableActionView(PermissionMixin, View):
    """POST action = submit / confirm / delete from the detail page."""

    permission = "receivables.view"

    def post(self, request, pk):
        receivable = selectors.receivable_get_for_user(user=request.user, receivable_id=pk)
        action = request.POST.get("action", "")
        ip = client_ip(request)
        try:
            if action == "submit":
                services.receivable_submit(actor=request.user, receivable=receivable, ip=ip)
                messages.success(request, _("回款已提交审批。"))
            elif action == "confirm":
                services.receivable_confirm(actor=request.user, receivable=receivable, ip=ip)
                messages.success(request, _("回款已确认，已计入合同已回款金额。"))
            elif action == "delete":
                services.receivable_delete(actor=request.user, receivable=receivable, ip=ip)
                messages.success(request, _("回款“%(code)s”已删除。") % {"code": receivable.code})
                return redirect("receivables:list")
            else:
                raise Http404
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("receivables:detail", receivable.pk)


# ---------------------------------------------------------------- the contract page's section


def _section(request, contract, *, plan_form=None, status=200):
    return render(
        request,
        "receivables/_contract_section.html",
        {"contract": contract, "plan_form": plan_form},
        status=status,
    )


def _back_to_contract(contract_id):
    return redirect(services.contract_url(contract_id))


class ContractSectionView(PermissionMixin, View):
    """htmx: the receivables section of a contract page, re-rendered."""

    permission = "receivables.view"

    def get(self, request, contract_id):
        contract = contract_get_for_user(user=request.user, contract_id=contract_id)
        return _section(request, contract)


class PlanCreateView(PermissionMixin, View):
    """POST the add-plan form of the contract section; htmx gets the section back (with errors)."""

    permission = "receivables.create"

    def post(self, request, contract_id):
        contract = contract_get_for_user(user=request.user, contract_id=contract_id)
        form = PlanForm(request.POST)
        if form.is_valid():
            try:
                plan = services.plan_create(
                    actor=request.user, contract=contract, values=form.cleaned_data, ip=client_ip(request)
                )
            except PermissionRequiredError as exc:
                raise PermissionDenied from exc
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                if _is_htmx(request):
                    contract.refresh_from_db()
                    return _section(request, contract)
                messages.success(request, _("第 %(n)s 期回款计划已添加。") % {"n": plan.number})
                return _back_to_contract(contract.pk)
        # htmx swaps only 2xx answers: the section with the form's errors comes back as 200.
        return _section(request, contract, plan_form=form, status=200 if _is_htmx(request) else 400)


class PlanEditView(PermissionMixin, View):
    permission = "receivables.edit"

    def get(self, request, pk):
        plan = selectors.plan_get_for_user(user=request.user, plan_id=pk)
        form = PlanForm(initial={key: getattr(plan, key) for key in services.PLAN_FIELDS})
        return render(request, "receivables/plan_form.html", {"form": form, "plan": plan})

    def post(self, request, pk):
        plan = selectors.plan_get_for_user(user=request.user, plan_id=pk)
        form = PlanForm(request.POST)
        if form.is_valid():
            try:
                services.plan_update(
                    actor=request.user, plan=plan, values=form.cleaned_data, ip=client_ip(request)
                )
            except PermissionRequiredError as exc:
                raise PermissionDenied from exc
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("第 %(n)s 期回款计划已保存。") % {"n": plan.number})
                return _back_to_contract(plan.contract_id)
        return render(request, "receivables/plan_form.html", {"form": form, "plan": plan}, status=400)


class PlanDeleteView(PermissionMixin, View):
    permission = "receivables.delete"

    def post(self, request, pk):
        plan = selectors.plan_get_for_user(user=request.user, plan_id=pk)
        try:
            services.plan_delete(actor=request.user, plan=plan, ip=client_ip(request))
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("第 %(n)s 期回款计划已删除。") % {"n": plan.number})
        return _back_to_contract(plan.contract_id)
