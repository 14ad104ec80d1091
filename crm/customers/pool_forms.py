"""Forms of the pool pages (公海): pool settings, claim limits, release."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.accounts.forms import DepartmentMultipleChoiceField
from crm.accounts.models import Department, User
from crm.customers.models import Pool, PoolSettings


class PoolForm(forms.Form):
    name = forms.CharField(label=_("公海名称"), max_length=64)
    description = forms.CharField(label=_("说明"), max_length=255, required=False)
    is_default = forms.BooleanField(label=_("默认公海"), required=False)
    claim_needs_approval = forms.BooleanField(
        label=_("领取需审批"),
        required=False,
        help_text=_("勾选后，员工领取该公海的客户需要先申请，经批准后才归其所有。"),
    )
    departments = DepartmentMultipleChoiceField(
        label=_("可见部门"),
        queryset=Department.objects.order_by("path"),
        required=False,
        help_text=_("可见部门和可见员工都不选时，所有员工都能看到并领取。"),
    )
    users = forms.ModelMultipleChoiceField(
        label=_("可见员工"), queryset=User.objects.filter(is_active=True).order_by("pk"), required=False
    )

    def __init__(self, *args, pool: Pool | None = None, **kwargs):
        if pool is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": pool.name,
                    "description": pool.description,
                    "is_default": pool.is_default,
                    "claim_needs_approval": pool.claim_needs_approval,
                    "departments": list(pool.departments.all()),
                    "users": list(pool.users.all()),
                },
            )
        super().__init__(*args, **kwargs)


class LimitsForm(forms.Form):
    max_owned = forms.IntegerField(
        label=PoolSettings._meta.get_field("max_owned").verbose_name,
        help_text=PoolSettings._meta.get_field("max_owned").help_text,
        min_value=0,
        max_value=1_000_000,
    )
    max_claims_per_day = forms.IntegerField(
        label=PoolSettings._meta.get_field("max_claims_per_day").verbose_name,
        help_text=PoolSettings._meta.get_field("max_claims_per_day").help_text,
        min_value=0,
        max_value=1_000_000,
    )
    reclaim_after_days = forms.IntegerField(
        label=PoolSettings._meta.get_field("reclaim_after_days").verbose_name,
        help_text=PoolSettings._meta.get_field("reclaim_after_days").help_text,
        min_value=0,
        max_value=1_000_000,
    )


class ReleaseForm(forms.Form):
    pool = forms.ModelChoiceField(
        label=_("退回到公海"),
        queryset=Pool.objects.none(),
        required=False,
        empty_label=_("原公海（或默认公海）"),
    )
    reason = forms.CharField(label=_("退回原因"), max_length=200)

    def __init__(self, *args, pools=None, **kwargs):
        super().__init__(*args, **kwargs)
        if pools is not None:
            self.fields["pool"].queryset = pools
