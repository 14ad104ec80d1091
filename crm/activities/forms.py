from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.activities.models import FollowUp
from crm.activities.selectors import followup_types
from crm.customers.models import Contact, Customer

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _datetime_field(label, required):
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=DATETIME_FORMATS,
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class FollowUpForm(forms.Form):
    """Fields of a follow-up. Length, time and dictionary rules are the service's; it answers in
    Chinese and the view puts its message on the field."""

    type = forms.ModelChoiceField(label=_("跟进方式"), queryset=followup_types(), empty_label=_("请选择"))
    contact = forms.ModelChoiceField(
        label=_("联系人"), queryset=Contact.objects.none(), required=False, empty_label=_("（不指定）")
    )
    content = forms.CharField(
        label=_("跟进内容"),
        required=False,  # the service gives the message
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": 5000}),
        help_text=_("最多 5000 字。"),
    )
    followed_at = _datetime_field(_("跟进时间"), required=True)
    next_contact_at = _datetime_field(_("下次联系时间"), required=False)
    next_action = forms.ChoiceField(
        label=_("下次行动"), choices=[("", _("（无）")), *FollowUp.NextAction.choices], required=False
    )
    file = MultipleFileField(
        label=_("附件"),
        required=False,
        help_text=_("单个文件不超过 10 MB；支持 PDF、图片、Office 文档和文本文件。"),
    )

    def __init__(self, *args, customer: Customer, with_files: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(customer=customer)
        if not with_files:
            del self.fields["file"]


class CommentForm(forms.Form):
    content = forms.CharField(
        label=_("点评内容"), required=False, widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000})
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("附件"), help_text=_("单个文件不超过 10 MB。"))


class TemplateForm(forms.Form):
    title = forms.CharField(label=_("模板名称"), max_length=100)
    type = forms.ModelChoiceField(
        label=_("跟进方式"), queryset=followup_types(), required=False, empty_label=_("（不指定）")
    )
    content = forms.CharField(
        label=_("模板内容"), widget=forms.Textarea(attrs={"rows": 6, "maxlength": 5000})
    )
    is_shared = forms.BooleanField(label=_("共享给所有人"), required=False)


class FollowUpFilterForm(forms.Form):
    q = forms.CharField(label=_("客户"), required=False, max_length=100)
    type = forms.ModelChoiceField(
        label=_("跟进方式"), queryset=followup_types(), required=False, empty_label=_("全部跟进方式")
    )
    author = forms.ModelChoiceField(
        label=_("跟进人"), queryset=None, required=False, empty_label=_("全部跟进人")
    )
    date_from = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from crm.access.policy import visible_users

        self.fields["author"].queryset = visible_users(user).filter(is_active=True).order_by("username")


class LinkedFollowUpForm(FollowUpForm):
    """The customer follow-up form on a record of that customer (an opportunity, a contract),
    without files; the follow-up is the customer's and also links to the record."""

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, customer=customer, with_files=False, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("followed_at", timezone.localtime().replace(second=0, microsecond=0))
