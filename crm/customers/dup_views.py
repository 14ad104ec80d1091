"""Thin views for duplicate control (查重), the entry/protection policy, merging and protection."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from crm.core.mixins import PermissionMixin, client_ip
from crm.customers import duplicates, merge, protection
from crm.customers.dup_forms import CustomerPolicyForm, DuplicateCheckForm, ProtectForm
from crm.customers.models import Customer, CustomerPolicy
from crm.customers.selectors import customer_get_for_user


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


class DuplicateCheckView(PermissionMixin, View):
    """查重: a user checks a name before creating a customer. Shows only names and owners."""

    permission = "customers.create"

    def get(self, request):
        form = DuplicateCheckForm(request.GET or None)
        name = form.cleaned_data["name"].strip() if form.is_valid() else ""
        matches: list[duplicates.DuplicateMatch] = []
        if name:
            found, protected = duplicates.duplicates_find(values={"name": name}, fields=["name", "keyword"])
            matches = protected + found
        context = {
            "form": form,
            "name": name,
            "name_key": duplicates.normalise_company_name(name) if name else "",
            "matches": matches,
        }
        return render(request, "customers/duplicates/check.html", context)


class CustomerPolicyView(PermissionMixin, View):
    """客户录入与保护策略 (CUS-7, CUS-8, CUS-9)."""

    permission = "customers.settings"
    template_name = "customers/duplicates/settings.html"

    def get(self, request):
        policy = CustomerPolicy.load()
        initial = {field: getattr(policy, field) for field in duplicates.POLICY_FIELDS}
        return render(request, self.template_name, {"form": CustomerPolicyForm(initial=initial)})

    def post(self, request):
        form = CustomerPolicyForm(request.POST)
        if form.is_valid():
            try:
                duplicates.customer_policy_update(
                    actor=request.user, values=form.cleaned_data, ip=client_ip(request)
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("客户录入与保护策略已保存。"))
                return redirect("customer_duplicates:settings")
        return render(request, self.template_name, {"form": form}, status=400)


def _display(customer: Customer, field: str) -> str:
    if field == "kind":
        return customer.get_kind_display()
    value = getattr(customer, field)
    if value is None or value == "":
        return "—"
    return str(value)


class CustomerMergeView(PermissionMixin, View):
    """Side by side, one radio per field; the user picks the record that stays and each value."""

    permission = "customers.settings"
    template_name = "customers/duplicates/merge.html"

    def _load(self, request):
        params = request.POST if request.method == "POST" else request.GET
        a = customer_get_for_user(user=request.user, customer_id=params.get("a"))
        b = customer_get_for_user(user=request.user, customer_id=params.get("b"))
        return a, b

    def _render(self, request, a, b, *, error: str = "", status: int = 200):
        rows = [
            {
                "field": field,
                "label": Customer._meta.get_field(field).verbose_name,
                "a": _display(a, field),
                "b": _display(b, field),
                "differs": _display(a, field) != _display(b, field),
                "chosen": request.POST.get(f"f_{field}", request.POST.get("keep", "a")),
            }
            for field in merge.MERGE_FIELDS
        ]
        context = {
            "a": a,
            "b": b,
            "rows": rows,
            "keep": request.POST.get("keep", "a"),
            "error": error,
            "counts": {
                "a": a.contacts.count(),
                "b": b.contacts.count(),
            },
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        a, b = self._load(request)
        return self._render(request, a, b)

    def post(self, request):
        a, b = self._load(request)
        keep = request.POST.get("keep")
        if keep not in ("a", "b"):
            return self._render(request, a, b, error=_("请选择要保留的客户。"), status=400)
        target, source = (a, b) if keep == "a" else (b, a)
        other = "b" if keep == "a" else "a"
        take = [field for field in merge.MERGE_FIELDS if request.POST.get(f"f_{field}") == other]
        try:
            merged = merge.customer_merge(
                actor=request.user, target=target, source=source, take_from_source=take, ip=client_ip(request)
            )
        except ValidationError as exc:
            return self._render(request, a, b, error=_error_text(exc), status=400)
        messages.success(
            request,
            _("已将客户 %(source)s 合并到 %(target)s。") % {"source": source.code, "target": merged.code},
        )
        return redirect("customers:detail", pk=merged.pk)


class _ProtectionView(PermissionMixin, View):
    permission = "customers.view"
    http_method_names = ["post"]

    def _back(self, request, customer: Customer):
        target = request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(target)
        if customer.owner_id is None:
            return redirect("customers:list")
        return redirect(reverse("customers:detail", args=[customer.pk]))


class CustomerProtectView(_ProtectionView):
    def post(self, request, pk):
        customer = customer_get_for_user(user=request.user, customer_id=pk)
        form = ProtectForm(request.POST)
        if not form.is_valid():
            messages.error(request, _error_text(ValidationError(list(form.errors.get("days", [])))))
            return self._back(request, customer)
        days = form.cleaned_data["days"] or CustomerPolicy.load().protect_max_days
        try:
            customer = protection.customer_protect(
                actor=request.user, customer=customer, days=days, ip=client_ip(request)
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("客户已保护 %(days)d 天。") % {"days": days})
        return self._back(request, customer)


class CustomerUnprotectView(_ProtectionView):
    def post(self, request, pk):
        customer = customer_get_for_user(user=request.user, customer_id=pk)
        try:
            protection.customer_unprotect(actor=request.user, customer=customer, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            return self._back(request, customer)
        messages.success(request, _("已取消保护，客户已退回公海。"))
        # The customer now lies in the pool, which the user may not see: back to the list.
        return redirect("customers:list")
