"""Forms of the duplicate-control, policy and merge pages (formats only; rules live in services)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.customers.duplicates import DUPLICATE_FIELDS, FORMATS, REQUIRED_FIELD_CHOICES
from crm.customers.models import CustomerPolicy

FORMAT_LABELS = {
    "phone": _("电话"),
    "fax": _("传真"),
    "mobile": _("手机"),
    "qq": "QQ",
    "email": _("邮箱"),
    "postcode": _("邮编"),
}


class DuplicateCheckForm(forms.Form):
    name = forms.CharField(label=_("客户名称"), max_length=200, required=False)


class CustomerPolicyForm(forms.Form):
    duplicate_mode = forms.ChoiceField(
        label=_("查重策略"), choices=CustomerPolicy.DuplicateMode.choices, widget=forms.RadioSelect
    )
    duplicate_fields = forms.MultipleChoiceField(
        label=_("参与查重的字段"),
        choices=list(DUPLICATE_FIELDS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    required_fields = forms.MultipleChoiceField(
        label=_("录入必填项"),
        choices=list(REQUIRED_FIELD_CHOICES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("客户名称始终必填。"),
    )
    format_checks = forms.MultipleChoiceField(
        label=_("录入格式要求"),
        choices=[(code, FORMAT_LABELS[code]) for code in FORMATS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    protect_max_count = forms.IntegerField(
        label=_("每人最多保护客户数"), min_value=0, max_value=100000, help_text=_("0 表示不限")
    )
    protect_max_days = forms.IntegerField(label=_("保护期限（天）"), min_value=1, max_value=3650)
    protect_remind_days = forms.IntegerField(
        label=_("到期前提醒（天）"), min_value=0, max_value=3650, help_text=_("0 表示不提醒")
    )


class ProtectForm(forms.Form):
    days = forms.IntegerField(label=_("保护天数"), min_value=1, max_value=3650, required=False)
