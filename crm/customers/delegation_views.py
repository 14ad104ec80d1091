from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from crm.accounts.models import User
from crm.core.mixins import PermissionMixin, client_ip
from crm.customers.delegation import delegation_create, delegation_revoke, delegations_for
from crm.customers.models import Customer, Delegation

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class DelegationForm(forms.Form):
    to_user = forms.ModelChoiceField(
        label=_("授权给"), queryset=User.objects.none(), empty_label=_("请选择同事")
    )
    customers = forms.ModelMultipleChoiceField(label=_("授权的客户"), queryset=Customer.objects.none())
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("结束时间"), widget=DATETIME)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = User.objects.filter(is_active=True).exclude(pk=user.pk)
        self.fields["customers"].queryset = Customer.objects.filter(owner=user, deleted_at__isnull=True)
        if not self.is_bound:
            now = timezone.localtime().replace(second=0, microsecond=0)
            self.initial.setdefault("starts_at", now)
            self.initial.setdefault("ends_at", now + timedelta(days=7))


class DelegationListView(PermissionMixin, View):
    """My delegations: those I gave (revocable) and those I received; and a form to give one."""

    permission = "customers.view"

    def get(self, request):
        return self.render(DelegationForm(user=request.user))

    def post(self, request):
        form = DelegationForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                delegation_create(
                    actor=request.user,
                    from_user=request.user,
                    to_user=form.cleaned_data["to_user"],
                    customers=Customer.objects.filter(pk__in=[c.pk for c in form.cleaned_data["customers"]]),
                    starts_at=form.cleaned_data["starts_at"],
                    ends_at=form.cleaned_data["ends_at"],
                    note=form.cleaned_data["note"],
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("临时授权已生效。"))
                return redirect("customers_delegations:list")
        return self.render(form, status=400)

    def render(self, form, status=200):
        context = delegations_for(self.request.user) | {"form": form, "now": timezone.now()}
        return render(self.request, "customers/delegations.html", context, status=status)


class DelegationRevokeView(PermissionMixin, View):
    permission = "customers.view"

    def post(self, request, pk):
        delegation = get_object_or_404(Delegation, pk=pk, from_user=request.user)
        delegation_revoke(actor=request.user, delegation=delegation, ip=client_ip(request))
        messages.success(request, _("授权已撤销。"))
        return redirect("customers_delegations:list")
