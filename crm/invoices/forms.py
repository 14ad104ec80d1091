"""Forms of the invoice pages: they parse the input; the rules live in crm.invoices.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.invoices.models import Invoice

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InvoiceRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("发票类型"), choices=Invoice.Kind.choices)
    amount = forms.DecimalField(label=_("开票金额（含税）"), max_digits=16, decimal_places=2)
    tax_percent = forms.DecimalField(label=_("税率(%)"), min_value=0, max_value=100, decimal_places=2)
    title = forms.CharField(label=_("发票抬头"), max_length=200, required=False)
    tax_number = forms.CharField(label=_("纳税人识别号"), max_length=20, required=False)
    bank_account = forms.CharField(label=_("开户行及账号"), max_length=200, required=False)
    address_phone = forms.CharField(label=_("地址及电话"), max_length=200, required=False)
    note = forms.CharField(
        label=_("备注"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class InvoiceIssueForm(forms.Form):
    invoice_number = forms.CharField(label=_("发票号码"), max_length=32)
    issued_on = forms.DateField(label=_("开票日期"), widget=DATE)


class InvoiceMailForm(forms.Form):
    tracking_number = forms.CharField(label=_("快递单号"), max_length=40)
    mailed_on = forms.DateField(label=_("邮寄日期"), widget=DATE)


class InvoiceVoidForm(forms.Form):
    void_reason = forms.CharField(label=_("作废原因"), max_length=200)
