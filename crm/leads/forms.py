"""Forms of the lead pages: the same formats as the customer form (its regular expressions)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.access import policy
from crm.activities.forms import FollowUpForm
from crm.customers.forms import MOBILE_ERROR, MOBILE_RE, PHONE_ERROR, PHONE_RE, DictionaryField
from crm.customers.models import DictionaryItem
from crm.leads.models import Lead

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class LeadForm(forms.Form):
    company = forms.CharField(label=_("公司名称"), max_length=200)
    contact_name = forms.CharField(label=_("联系人姓名"), max_length=64, required=False)
    title = forms.CharField(label=_("职务"), max_length=64, required=False)
    mobile = forms.RegexField(label=_("手机"), regex=MOBILE_RE, required=False, error_messages=MOBILE_ERROR)
    phone = forms.RegexField(label=_("电话"), regex=PHONE_RE, required=False, error_messages=PHONE_ERROR)
    email = forms.EmailField(
        label=_("邮箱"),
        max_length=254,
        required=False,
        error_messages={"invalid": _("请输入有效的邮箱地址。")},
    )
    wechat = forms.CharField(label=_("微信"), max_length=64, required=False)
    source = DictionaryField(kind=DictionaryItem.Kind.SOURCE, label=_("线索来源"))
    industry = DictionaryField(kind=DictionaryItem.Kind.INDUSTRY, label=_("行业"))
    region = DictionaryField(kind=DictionaryItem.Kind.REGION, label=_("地区"))
    address = forms.CharField(label=_("地址"), max_length=255, required=False)
    next_contact_at = forms.DateTimeField(
        label=_("下次联系时间"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    remark = forms.CharField(
        label=_("需求/备注"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, lead: Lead | None = None, **kwargs):
        if lead is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(lead, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)
        if lead is not None:  # a value an admin deactivated since stays selectable on its lead
            for name in ("source", "industry", "region"):
                current = getattr(lead, f"{name}_id")
                if current:
                    field = self.fields[name]
                    field.queryset = DictionaryItem.objects.filter(kind=field.kind).filter(
                        pk__in=list(field.queryset.values_list("pk", flat=True)) + [current]
                    )


class LeadFilterForm(forms.Form):
    q = forms.CharField(required=False)
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部状态")), *Lead.Status.choices], required=False
    )
    source = forms.ModelChoiceField(
        label=_("线索来源"),
        queryset=DictionaryItem.objects.filter(kind=DictionaryItem.Kind.SOURCE),
        required=False,
        empty_label=_("全部来源"),
    )
    owner = forms.ModelChoiceField(
        label=_("负责人"), queryset=None, required=False, empty_label=_("全部负责人")
    )
    sort = forms.ChoiceField(
        label=_("排序"),
        choices=[("created", _("最新创建")), ("updated", _("最近更新"))],
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = policy.visible_users(user).filter(is_active=True).order_by("username")


class LeadFollowUpForm(FollowUpForm):
    """The follow-up form of the activities pages, without contact and files (a lead has neither)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, customer=None, with_files=False, **kwargs)
        del self.fields["contact"]
        if not self.is_bound:
            self.initial.setdefault("followed_at", timezone.localtime().replace(second=0, microsecond=0))
