"""The recycle rule form (回收规则, POOL-4): one number field per value level for its own days."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.accounts.forms import DepartmentMultipleChoiceField
from crm.accounts.models import Department
from crm.customers.models import DictionaryItem, Pool, RecycleRule
from crm.customers.recycle import MAX_DAYS, MAX_WARN_DAYS

LEVEL_PREFIX = "level_"
DAYS_MESSAGE = _("天数应为 1 到 3650 之间的整数。")
WARN_MESSAGE = _("提前提醒天数应为 0 到 365 之间的整数。")


def _items(kind: str):
    return DictionaryItem.objects.filter(kind=kind).order_by("sort_order", "pk")


class RecycleRuleForm(forms.Form):
    name = forms.CharField(label=_("规则名称"), max_length=64)
    kind = forms.ChoiceField(
        label=_("回收条件"),
        choices=RecycleRule.Kind.choices,
        help_text=_(
            "领取后从未跟进：领取（或指派、创建）后 N 天内没有跟进；长期未跟进：距最近一次跟进"
            "（尚未跟进时从领取算起）超过 N 天；长期未成交：距最近一次成交（赢单或合同审批通过，"
            "尚未成交时从领取算起）超过 N 天。"
        ),
    )
    days = forms.IntegerField(
        label=_("天数"),
        min_value=1,
        max_value=MAX_DAYS,
        error_messages={"min_value": DAYS_MESSAGE, "max_value": DAYS_MESSAGE, "invalid": DAYS_MESSAGE},
    )
    statuses = forms.ModelMultipleChoiceField(
        label=_("适用客户状态"),
        queryset=DictionaryItem.objects.none(),
        required=False,
        help_text=_("不选表示全部。"),
    )
    value_levels = forms.ModelMultipleChoiceField(
        label=_("适用价值等级"),
        queryset=DictionaryItem.objects.none(),
        required=False,
        help_text=_("不选表示全部。"),
    )
    departments = DepartmentMultipleChoiceField(
        label=_("适用部门"),
        queryset=Department.objects.order_by("path"),
        required=False,
        help_text=_("按客户的所属部门，包括其下级部门；不选表示全部。"),
    )
    exempt_statuses = forms.ModelMultipleChoiceField(
        label=_("不回收的客户状态"),
        queryset=DictionaryItem.objects.none(),
        required=False,
        help_text=_("例如选择“正式客户”，已成交的客户不会被回收。受保护的客户总是不回收。"),
    )
    exempt_scheduled = forms.BooleanField(label=_("不回收已约定下次联系的客户"), required=False)
    exempt_open_opportunities = forms.BooleanField(label=_("不回收有进行中商机的客户"), required=False)
    warn_days_before = forms.IntegerField(
        label=_("提前提醒（天）"),
        min_value=0,
        max_value=MAX_WARN_DAYS,
        initial=3,
        help_text=_("回收前 N 天提醒负责人；0 表示不提醒。"),
        error_messages={"min_value": WARN_MESSAGE, "max_value": WARN_MESSAGE, "invalid": WARN_MESSAGE},
    )
    pool = forms.ModelChoiceField(
        label=_("回收到公海"), queryset=Pool.objects.all(), required=False, empty_label=_("默认公海")
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, rule: RecycleRule | None = None, **kwargs):
        self.levels = list(_items(DictionaryItem.Kind.VALUE_LEVEL))
        if rule is not None:
            initial = {
                "name": rule.name,
                "kind": rule.kind,
                "days": rule.days,
                "statuses": list(rule.statuses.all()),
                "value_levels": list(rule.value_levels.all()),
                "departments": list(rule.departments.all()),
                "exempt_statuses": list(rule.exempt_statuses.all()),
                "exempt_scheduled": rule.exempt_scheduled,
                "exempt_open_opportunities": rule.exempt_open_opportunities,
                "warn_days_before": rule.warn_days_before,
                "pool": rule.pool,
                "is_active": rule.is_active,
            }
            for key, days in (rule.days_by_level or {}).items():
                initial[f"{LEVEL_PREFIX}{key}"] = days
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        statuses = _items(DictionaryItem.Kind.STATUS)
        self.fields["statuses"].queryset = statuses
        self.fields["exempt_statuses"].queryset = statuses
        self.fields["value_levels"].queryset = _items(DictionaryItem.Kind.VALUE_LEVEL)
        for level in self.levels:
            self.fields[f"{LEVEL_PREFIX}{level.pk}"] = forms.IntegerField(
                label=_("“%(level)s”客户的天数") % {"level": level.name},
                required=False,
                min_value=1,
                max_value=MAX_DAYS,
                help_text=_("留空表示按默认天数。"),
                error_messages={
                    "min_value": DAYS_MESSAGE,
                    "max_value": DAYS_MESSAGE,
                    "invalid": DAYS_MESSAGE,
                },
            )
        # Per-level days right after the default days.
        order = ["name", "kind", "days", *[f"{LEVEL_PREFIX}{lv.pk}" for lv in self.levels]]
        self.order_fields(order)

    def service_values(self) -> dict:
        data = dict(self.cleaned_data)
        levels = {}
        for level in self.levels:
            days = data.pop(f"{LEVEL_PREFIX}{level.pk}", None)
            if days is not None:
                levels[str(level.pk)] = days
        data["days_by_level"] = levels
        return data
