"""Custom fields on record forms, and the settings form of a definition.

A record form calls `add_custom_fields(form, target, instance_data)` in its __init__: one form
field per active definition, named `custom.<key>`, with the right widget and the record's current
value. `custom_values(form)` turns the cleaned data back into {key: value} for the service, which
validates it again with `clean_custom_values` (the one rule shared with the API).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.customfields import selectors
from crm.customfields.models import CHOICE_TYPES, CustomField
from crm.customfields.values import LONG_TEXT_MAX, TEXT_MAX, URL_MAX, python_value

T = CustomField.FieldType
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
PHONE_RE = r"^[0-9+\-() ]{5,32}$"


def _choices_with_current(options: list[str], current) -> list[tuple[str, str]]:
    values = list(options or [])
    extra = current if isinstance(current, list) else [current] if current else []
    values += [v for v in extra if isinstance(v, str) and v not in values]
    return [(v, v) for v in values]


def _user_choices(current) -> list[tuple[str, str]]:
    from django.db.models import Q

    from crm.accounts.models import User

    users = User.objects.filter(Q(is_active=True) | Q(pk=current if isinstance(current, int) else None))
    return [
        (str(u.pk), f"{u.display_name}（{u.department}）" if u.department_id else u.display_name)
        for u in users.select_related("department").order_by("department__path", "pk")[:2000]
    ]


def form_field(field: CustomField, current=None) -> forms.Field:
    """A Django form field for a definition (not required at the HTML level for booleans)."""
    common = {"label": field.label, "required": field.required, "help_text": field.help_text}
    kind = field.field_type
    if kind == T.TEXT:
        return forms.CharField(max_length=TEXT_MAX, **common)
    if kind == T.LONG_TEXT:
        return forms.CharField(max_length=LONG_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == T.NUMBER:
        return forms.DecimalField(
            max_digits=18, decimal_places=6, error_messages={"invalid": _("请输入数字。")}, **common
        )
    if kind == T.MONEY:
        return forms.DecimalField(
            max_digits=16,
            decimal_places=2,
            error_messages={"invalid": _("请输入金额（最多两位小数）。")},
            **common,
        )
    if kind == T.DATE:
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={"invalid": _("请输入有效的日期。")},
            **common,
        )
    if kind == T.DATETIME:
        return forms.DateTimeField(
            input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
            error_messages={"invalid": _("请输入有效的日期时间。")},
            **common,
        )
    if kind == T.CHOICE:
        choices = [("", _("请选择")), *_choices_with_current(field.options, current)]
        return forms.ChoiceField(choices=choices, **common)
    if kind == T.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=_choices_with_current(field.options, current),
            widget=forms.SelectMultiple(attrs={"data-custom-multi": "1"}),
            **common,
        )
    if kind == T.BOOLEAN:
        choices = [("", "-"), ("true", _("是")), ("false", _("否"))]
        return forms.ChoiceField(choices=choices, **common)
    if kind == T.PHONE:
        return forms.RegexField(
            regex=PHONE_RE,
            max_length=32,
            error_messages={"invalid": _("请输入有效的电话号码（数字、空格、+、- 和括号）。")},
            **common,
        )
    if kind == T.EMAIL:
        return forms.EmailField(
            max_length=254, error_messages={"invalid": _("请输入有效的邮箱地址。")}, **common
        )
    if kind == T.URL:
        return forms.URLField(
            max_length=URL_MAX,
            assume_scheme="https",
            error_messages={"invalid": _("请输入有效的网址。")},
            **common,
        )
    # user
    return forms.ChoiceField(choices=[("", _("请选择")), *_user_choices(current)], **common)


def add_custom_fields(form: forms.BaseForm, target: str, instance_data: dict | None) -> None:
    """Add a `custom.<key>` field per active definition, with its initial value."""
    data = instance_data or {}
    form.custom_field_names = []
    for field in selectors.active_fields(target):
        name = field.path
        current = data.get(field.key)
        form.fields[name] = form_field(field, current)
        form.fields[name].custom_field = field
        if current is not None and name not in form.initial:
            value = python_value(field, current)
            form.initial[name] = str(value) if field.field_type == T.USER else value
        form.custom_field_names.append(name)


def custom_bound_fields(form: forms.BaseForm) -> list:
    return [form[name] for name in getattr(form, "custom_field_names", []) if name in form.fields]


def custom_values(form: forms.BaseForm) -> dict:
    """{key: value} of the custom fields the form has (for clean_custom_values)."""
    values = {}
    for name in getattr(form, "custom_field_names", []):
        if name in form.fields and name in form.cleaned_data:
            values[name.removeprefix("custom.")] = form.cleaned_data[name]
    return values


def is_custom_name(name: str) -> bool:
    return name.startswith("custom.")


# ---------------------------------------------------------------- settings form of a definition


class CustomFieldForm(forms.Form):
    label = forms.CharField(label=_("字段名称"), max_length=64)
    key = forms.CharField(
        label=_("字段标识"),
        max_length=40,
        required=False,
        help_text=_("用于接口、导入导出和筛选；不填则按字段名称的拼音生成；创建后不能修改。"),
    )
    field_type = forms.ChoiceField(label=_("字段类型"), choices=CustomField.FieldType.choices)
    options = forms.CharField(
        label=_("选项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("单选、多选字段的选项，每行一个。"),
    )
    help_text = forms.CharField(label=_("填写说明"), max_length=200, required=False)
    required = forms.BooleanField(label=_("必填"), required=False)
    searchable = forms.BooleanField(
        label=_("可搜索（快速搜索与高级筛选）"),
        required=False,
        help_text=_(
            "所有类型都可用于高级筛选；文本、电话、邮箱、网址类字段还参与快速搜索（客户很多时会让快速搜索变慢）。"
        ),
    )
    show_in_list = forms.BooleanField(label=_("默认显示在列表中"), required=False)
    importable = forms.BooleanField(label=_("可导入"), required=False, initial=True)
    exportable = forms.BooleanField(label=_("可导出"), required=False, initial=True)
    for_statistics = forms.BooleanField(label=_("用于统计"), required=False)
    sort_order = forms.IntegerField(label=_("排序"), min_value=0, max_value=100000, required=False)

    def __init__(self, *args, field: CustomField | None = None, **kwargs):
        if field is not None:
            initial = {name: getattr(field, name) for name in self.base_fields if hasattr(field, name)}
            initial["options"] = "\n".join(field.options or [])
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        if field is not None:
            self.fields["key"].disabled = True
            self.fields["key"].help_text = _("创建后不能修改。")
        else:
            del self.fields["sort_order"]

    def definition_values(self) -> dict:
        data = dict(self.cleaned_data)
        data["options"] = (
            (data.get("options") or "").splitlines() if data.get("field_type") in CHOICE_TYPES else []
        )
        return data
