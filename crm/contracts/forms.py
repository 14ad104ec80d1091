"""The contract header form and the settings form. Lines come as parallel lists (line_product,
line_quantity, …) from the dynamic rows of the form page, like quotes (crm.quotes.forms)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.contracts.models import Contract, ContractSettings
from crm.customers.models import Contact, Customer, DictionaryItem
from crm.customers.selectors import customers_visible
from crm.opportunities.models import Opportunity
from crm.quotes.forms import lines_from_post  # noqa: F401  (same posted line rows)
from crm.quotes.models import Quote

MAX_CUSTOMER_OPTIONS = 300


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ContractForm(forms.Form):
    name = forms.CharField(label=_("合同名称"), max_length=200)
    kind = forms.ChoiceField(label=_("合同类型"), choices=Contract.Kind.choices)
    customer = forms.ModelChoiceField(
        label=_("客户"),
        queryset=Customer.objects.none(),
        error_messages={"invalid_choice": _("请选择有效的客户。")},
    )
    contact = forms.ModelChoiceField(label=_("客户联系人"), queryset=Contact.objects.all(), required=False)
    opportunity = forms.ModelChoiceField(label=_("商机"), queryset=Opportunity.objects.all(), required=False)
    signed_on = forms.DateField(label=_("签约日期"), widget=_date_widget())
    start_on = forms.DateField(label=_("开始日期"), widget=_date_widget(), required=False)
    end_on = forms.DateField(label=_("结束日期"), widget=_date_widget(), required=False)
    customer_signatory = forms.CharField(label=_("客户签约人"), max_length=64, required=False)
    our_signatory = forms.ModelChoiceField(
        label=_("我方签约人"), queryset=User.objects.filter(is_active=True), required=False
    )
    payment_term = forms.ChoiceField(
        label=_("付款条件"), choices=[("", _("不限"))] + list(Quote.PaymentTerm.choices), required=False
    )
    tax_percent = forms.DecimalField(label=_("税率(%)"), min_value=0, max_value=100, decimal_places=2)
    terms = forms.CharField(
        label=_("合同条款"), max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    note = forms.CharField(
        label=_("备注"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, contract=None, **kwargs):
        super().__init__(*args, **kwargs)
        visible = customers_visible(user, include_pool=True)
        self.fields["customer"].queryset = visible
        options = list(visible.order_by("name", "pk").values_list("pk", "name")[:MAX_CUSTOMER_OPTIONS])
        current = self._current("customer", contract.customer_id if contract else None)
        if current and current not in {pk for pk, _name in options}:
            options += list(visible.filter(pk=current).values_list("pk", "name"))
        self.fields["customer"].widget.choices = [("", "---------")] + options
        self.fields["customer"].widget.attrs.update({"data-testid": "contract-customer"})
        contacts = (
            Contact.objects.filter(customer_id=current).order_by("-is_primary", "name") if current else []
        )
        self.fields["contact"].widget.choices = [("", "---------")] + [(c.pk, c.name) for c in contacts]
        opportunities = (
            Opportunity.objects.filter(customer_id=current).order_by("-created_at")[:100] if current else []
        )
        self.fields["opportunity"].widget.choices = [("", "---------")] + [
            (o.pk, o.name) for o in opportunities
        ]
        signatories = User.objects.filter(is_active=True).order_by("name", "username", "pk")[:500]
        self.fields["our_signatory"].widget.choices = [("", "---------")] + [
            (u.pk, u.display_name) for u in signatories
        ]

    def _current(self, name, default):
        value = self.data.get(name) if self.is_bound else self.initial.get(name, default)
        value = getattr(value, "pk", value)
        return int(value) if str(value or "").isdigit() else default


class ContractSettingsForm(forms.Form):
    status_on_approval = forms.ModelChoiceField(
        label=_("合同审批通过后客户状态变为"),
        queryset=DictionaryItem.objects.filter(kind=DictionaryItem.Kind.STATUS, is_active=True),
        required=False,
        empty_label=_("（不改变客户状态）"),
    )
    credit_mode = forms.ChoiceField(label=_("信用额度控制"), choices=ContractSettings.CreditMode.choices)
    earn_points = forms.BooleanField(label=_("合同审批通过后按产品积分累计客户积分"), required=False)


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("作废原因"), max_length=500)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("附件"), help_text=_("单个文件不超过 10 MB。"))
