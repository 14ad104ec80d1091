"""Forms of payment plans and receivables; the rules live in crm.receivables.services."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.receivables.models import PaymentMethod, PaymentPlan

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PlanForm(forms.Form):
    amount = forms.DecimalField(label=_("计划回款金额"), max_digits=16, decimal_places=2, min_value=0)
    due_on = forms.DateField(label=_("计划回款日期"), widget=DATE)
    method = forms.ChoiceField(
        label=_("回款方式"), choices=[("", _("不限"))] + list(PaymentMethod.choices), required=False
    )
    remind_days_before = forms.IntegerField(label=_("提前提醒（天）"), min_value=0, max_value=365, initial=3)
    note = forms.CharField(label=_("备注"), max_length=500, required=False)


class ReceivableForm(forms.Form):
    plan = forms.ModelChoiceField(
        label=_("回款计划"),
        queryset=PaymentPlan.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("请选择该合同的回款计划。")},
    )
    amount = forms.DecimalField(label=_("回款金额"), max_digits=16, decimal_places=2, min_value=0)
    received_on = forms.DateField(label=_("回款日期"), widget=DATE, initial=timezone.localdate)
    method = forms.ChoiceField(label=_("回款方式"), choices=PaymentMethod.choices, initial=PaymentMethod.BANK)
    note = forms.CharField(
        label=_("备注"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        plans = PaymentPlan.objects.filter(contract_id=contract.pk).order_by("number", "pk")
        self.fields["plan"].queryset = plans
        self.fields["plan"].label_from_instance = lambda plan: (
            _("第 %(n)s 期 · %(due)s · ¥%(amount)s（未回 ¥%(left)s）")
            % {
                "n": plan.number,
                "due": plan.due_on.isoformat(),
                "amount": plan.amount,
                "left": plan.outstanding_amount,
            }
        )
