"""Forms of the opportunity pages; the business rules are the services'."""

from django import forms
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from crm.access import policy
from crm.customers.forms import DictionaryField
from crm.customers.models import Contact, DictionaryItem
from crm.customers.selectors import customers_visible
from crm.opportunities.models import Opportunity, Stage
from crm.opportunities.selectors import stage_groups_active
from crm.products.models import Product


class OpportunityForm(forms.Form):
    name = forms.CharField(label=_("商机名称"), max_length=200)
    customer = forms.ModelChoiceField(label=_("客户"), queryset=None, empty_label=_("请选择"))
    contacts = forms.ModelMultipleChoiceField(label=_("联系人"), queryset=None, required=False)
    source = DictionaryField(kind=DictionaryItem.Kind.SOURCE, label=_("商机来源"))
    expected_amount = forms.DecimalField(
        label=_("预计金额"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("填写了产品明细时，预计金额为明细合计。"),
    )
    expected_close_date = forms.DateField(
        label=_("预计成交日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    stage = forms.ModelChoiceField(
        label=_("阶段"), queryset=None, required=False, empty_label=_("（默认阶段组的第一个阶段）")
    )
    remark = forms.CharField(
        label=_("备注"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, user, opportunity: Opportunity | None = None, customer_id=None, **kwargs):
        if opportunity is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(opportunity, name)
                for name in ("name", "customer", "source", "expected_amount", "expected_close_date", "remark")
            } | {"contacts": list(opportunity.contacts.all())}
        elif customer_id:
            kwargs.setdefault("initial", {})["customer"] = customer_id
        super().__init__(*args, **kwargs)
        visible = customers_visible(user)
        if opportunity is not None:
            visible = visible | customers_visible(user).model.objects.filter(pk=opportunity.customer_id)
        self.fields["customer"].queryset = visible.order_by("name")
        self.fields["contacts"].queryset = Contact.objects.filter(
            customer__in=visible.values("pk")
        ).select_related("customer")
        self.fields["contacts"].label_from_instance = lambda c: f"{c.name}（{c.customer.name}）"
        if opportunity is None:
            self.fields["stage"].queryset = Stage.objects.filter(
                group__in=stage_groups_active(), kind=Stage.Kind.OPEN
            ).select_related("group")
            self.fields["stage"].label_from_instance = lambda s: f"{s.group.name} · {s.name}（{s.win_rate}%）"
        else:
            del self.fields["stage"]


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("产品"),
        queryset=Product.objects.filter(is_active=True),
        required=False,
        empty_label=_("（无）"),
    )
    quantity = forms.DecimalField(
        label=_("数量"), max_digits=12, decimal_places=2, min_value=0, required=False
    )
    unit_price = forms.DecimalField(
        label=_("单价"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("留空按价格策略计算。"),
    )
    discount_percent = forms.DecimalField(
        label=_("折扣（%）"), max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )


LineFormSet = forms.formset_factory(LineForm, extra=3, max_num=50)


def _attrs(attrs: dict) -> str:
    """Like django/forms/widgets/attrs.html: True → the bare name, False → left out."""
    return "".join(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
        for name, value in attrs.items()
        if value is not False
    )


class PlainSelect(forms.Select):
    """A <select> written in Python, the same markup as Django's template: Django renders every
    option through a template include, and the owner filter has one option per person in scope
    (~100 for a regional manager: over 10 ms of the list page)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"', widget["name"]), _attrs(widget["attrs"]), ">"]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts += [format_html('\n  <option value="{}"', option["value"]), _attrs(option["attrs"])]
                parts.append(format_html(">{}</option>\n", option["label"]))  # the template's newline
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308  (every part went through format_html)


class OpportunityFilterForm(forms.Form):
    q = forms.CharField(required=False)
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部状态")), *Opportunity.Status.choices], required=False
    )
    stage = forms.ModelChoiceField(
        label=_("阶段"), queryset=None, required=False, empty_label=_("全部阶段"), widget=PlainSelect
    )
    owner = forms.ModelChoiceField(
        label=_("负责人"), queryset=None, required=False, empty_label=_("全部负责人"), widget=PlainSelect
    )
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        label=_("排序"), choices=[("created", _("最新创建")), ("updated", _("最近更新"))], required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            policy.visible_users(user)
            .filter(is_active=True)
            .only("username", "name", "first_name", "last_name")  # what the label (display_name) reads
            .order_by("username")
        )
        self.fields["stage"].queryset = Stage.objects.filter(group__in=stage_groups_active()).select_related(
            "group"
        )
        self.fields["stage"].label_from_instance = lambda s: f"{s.group.name} · {s.name}"


class LoseForm(forms.Form):
    lost_reason = forms.ModelChoiceField(
        label=_("输单原因"),
        queryset=DictionaryItem.objects.filter(kind=DictionaryItem.Kind.LOST_REASON, is_active=True),
        required=False,
        empty_label=_("请选择"),
    )
    lost_note = forms.CharField(
        label=_("输单说明"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class StatsFilterForm(forms.Form):
    group = forms.ModelChoiceField(label=_("阶段组"), queryset=None, required=False, empty_label=None)
    created_from = forms.DateField(
        label=_("创建日期从"), required=False, widget=forms.DateInput({"type": "date"})
    )
    created_to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = stage_groups_active()

    def clean(self):
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            raise forms.ValidationError(_("开始日期不能晚于结束日期。"))
        return data
