"""Forms of the customer pages. Formats are checked here; business rules live in the services."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.access import field_policy
from crm.accounts.models import User
from crm.customers.models import Contact, Customer, DictionaryItem, NumberingRule, Pool
from crm.customers.services import DICTIONARY_FIELDS
from crm.customfields import forms as customfield_forms

PHONE_RE = r"^[0-9+\-() ]{5,32}$"
MOBILE_RE = r"^(\+?86[- ]?)?1[3-9]\d{9}$"
QQ_RE = r"^[1-9]\d{4,11}$"
POSTCODE_RE = r"^\d{6}$"

PHONE_ERROR = {"invalid": _("请输入有效的电话号码（数字、空格、+、- 和括号）。")}
MOBILE_ERROR = {"invalid": _("请输入有效的 11 位手机号码。")}
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def dictionary_choices(items: list[DictionaryItem]) -> list[tuple[str, str]]:
    """Items in tree order (a city right under its province, indented)."""
    roots = [i for i in items if i.parent_id is None]
    children: dict[int, list[DictionaryItem]] = {}
    for item in items:
        if item.parent_id is not None:
            children.setdefault(item.parent_id, []).append(item)
    ordered = []
    for root in sorted(roots, key=lambda i: (i.sort_order, i.pk)):
        ordered.append((str(root.pk), root.name))
        kids = sorted(children.get(root.pk, []), key=lambda i: (i.sort_order, i.pk))
        ordered.extend((str(child.pk), "\u3000" + child.name) for child in kids)
    known = {value for value, _label in ordered}
    ordered += [(str(i.pk), i.name) for i in items if str(i.pk) not in known]  # orphans of inactive parents
    return ordered


class DictionaryField(forms.ModelChoiceField):
    def __init__(self, *, kind: str, **kwargs):
        self.kind = kind
        kwargs.setdefault("required", False)
        kwargs.setdefault("empty_label", _("请选择"))
        super().__init__(queryset=DictionaryItem.objects.filter(kind=kind, is_active=True), **kwargs)


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("客户类型"),
        choices=Customer.Kind.choices,
        initial=Customer.Kind.ENTERPRISE,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=_("客户名称"), max_length=200)
    keyword = forms.CharField(
        label=_("关键字"), max_length=64, required=False, help_text=_("简称或搜索用词，例如“中兴”。")
    )
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=18, required=False)
    status = DictionaryField(kind=DictionaryItem.Kind.STATUS, label=_("客户状态"))
    category = DictionaryField(kind=DictionaryItem.Kind.CATEGORY, label=_("客户分类"))
    value_level = DictionaryField(kind=DictionaryItem.Kind.VALUE_LEVEL, label=_("价值等级"))
    stage = DictionaryField(kind=DictionaryItem.Kind.STAGE, label=_("跟进程度"))
    region = DictionaryField(kind=DictionaryItem.Kind.REGION, label=_("地区"))
    industry = DictionaryField(kind=DictionaryItem.Kind.INDUSTRY, label=_("行业"))
    source = DictionaryField(kind=DictionaryItem.Kind.SOURCE, label=_("客户来源"))
    address = forms.CharField(label=_("地址"), max_length=255, required=False)
    postcode = forms.RegexField(
        label=_("邮编"),
        regex=POSTCODE_RE,
        required=False,
        error_messages={"invalid": _("邮编应为 6 位数字。")},
    )
    phone = forms.RegexField(label=_("电话"), regex=PHONE_RE, required=False, error_messages=PHONE_ERROR)
    fax = forms.RegexField(label=_("传真"), regex=PHONE_RE, required=False, error_messages=PHONE_ERROR)
    mobile = forms.RegexField(label=_("手机"), regex=MOBILE_RE, required=False, error_messages=MOBILE_ERROR)
    qq = forms.RegexField(
        label="QQ", regex=QQ_RE, required=False, error_messages={"invalid": _("QQ 号应为 5 到 12 位数字。")}
    )
    wechat = forms.CharField(label=_("微信"), max_length=64, required=False)
    email = forms.EmailField(
        label=_("邮箱"),
        max_length=254,
        required=False,
        error_messages={"invalid": _("请输入有效的邮箱地址。")},
    )
    website = forms.URLField(
        label=_("网址"),
        max_length=255,
        required=False,
        assume_scheme="https",
        error_messages={"invalid": _("请输入有效的网址。")},
    )
    legal_representative = forms.CharField(label=_("法定代表人"), max_length=64, required=False)
    registered_capital = forms.DecimalField(
        label=_("注册资本（万元）"), max_digits=16, decimal_places=2, min_value=0, required=False
    )
    credit_limit = forms.DecimalField(
        label=_("信用额度（元）"), max_digits=16, decimal_places=2, min_value=0, required=False
    )
    tags = forms.CharField(label=_("标签"), max_length=255, required=False, help_text=_("多个标签用逗号分隔"))
    next_contact_at = forms.DateTimeField(
        label=_("下次联系时间"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    remark = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    # The first contact, on create only.
    contact_name = forms.CharField(label=_("联系人姓名"), max_length=64, required=False)
    contact_mobile = forms.RegexField(
        label=_("联系人手机"), regex=MOBILE_RE, required=False, error_messages=MOBILE_ERROR
    )
    contact_title = forms.CharField(label=_("联系人职务"), max_length=64, required=False)

    allow_duplicates = forms.BooleanField(label=_("仍要保存（已确认不是重复客户）"), required=False)

    CONTACT_FIELDS = ("contact_name", "contact_mobile", "contact_title")
    NOT_VALUES = (*CONTACT_FIELDS, "allow_duplicates")

    def __init__(self, *args, instance: Customer | None = None, user=None, **kwargs):
        self.instance = instance
        self.user = user
        if instance is not None:
            initial = {
                field: getattr(instance, field) for field in self.base_fields if hasattr(instance, field)
            }
            for field in DICTIONARY_FIELDS:
                initial[field] = getattr(instance, f"{field}_id")
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        if instance is not None:
            for field in self.CONTACT_FIELDS:
                del self.fields[field]
        # One query for every dictionary select; a value the customer already has stays selectable
        # even when it was deactivated since (the service then asks for an active one).
        current = {getattr(instance, f"{f}_id") for f in DICTIONARY_FIELDS} - {None} if instance else set()
        items = list(
            DictionaryItem.objects.filter(kind__in=list(DICTIONARY_FIELDS.values()))
            .filter(Q(is_active=True) | Q(pk__in=current))
            .order_by("sort_order", "pk")
        )
        for field, kind in DICTIONARY_FIELDS.items():
            mine = [i for i in items if i.kind == kind]
            self.fields[field].queryset = DictionaryItem.objects.filter(pk__in=[i.pk for i in mine])
            self.fields[field].choices = [("", self.fields[field].empty_label), *dictionary_choices(mine)]
        # Custom fields (CUS-11): one `custom.<key>` field per active definition (crm/customfields).
        customfield_forms.add_custom_fields(self, "customers", instance.custom_data if instance else None)
        # Field permissions (ORG-8): hidden fields go, read-only ones are locked, masked ones masked.
        field_policy.apply_to_form(self, user, "customers", instance)

    def clean(self):
        data = super().clean()
        if self.instance is None and not data.get("contact_name"):
            if data.get("contact_mobile") or data.get("contact_title"):
                self.add_error("contact_name", _("填写了联系人手机或职务时，请同时填写联系人姓名。"))
        if data.get("kind") == Customer.Kind.INDIVIDUAL and data.get("credit_code"):
            self.add_error("credit_code", _("只有企业客户才有统一社会信用代码。"))
        return data

    def customer_values(self) -> dict:
        data = self.cleaned_data
        return field_policy.form_values(
            self,
            {
                k: v
                for k, v in data.items()
                if k not in self.NOT_VALUES and not customfield_forms.is_custom_name(k)
            },
        )

    def custom_values(self) -> dict:
        """The custom fields (CUS-11) as {key: value}, for the service's `custom_values`."""
        values = field_policy.form_values(
            self, {f"custom.{k}": v for k, v in customfield_forms.custom_values(self).items()}
        )
        return {k.removeprefix("custom."): v for k, v in values.items()}

    def custom_fields(self) -> list:
        """Bound custom fields, for the template's 自定义字段 card."""
        return customfield_forms.custom_bound_fields(self)

    def first_contacts(self) -> list[dict]:
        data = self.cleaned_data
        if self.instance is not None or not data.get("contact_name"):
            return []
        return [
            {
                "name": data["contact_name"],
                "mobile": data.get("contact_mobile") or "",
                "title": data.get("contact_title") or "",
            }
        ]


class ContactForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=64)
    title = forms.CharField(label=_("职务"), max_length=64, required=False)
    department = forms.CharField(label=_("部门"), max_length=64, required=False)
    mobile = forms.RegexField(label=_("手机"), regex=MOBILE_RE, required=False, error_messages=MOBILE_ERROR)
    phone = forms.RegexField(label=_("电话"), regex=PHONE_RE, required=False, error_messages=PHONE_ERROR)
    email = forms.EmailField(
        label=_("邮箱"),
        max_length=254,
        required=False,
        error_messages={"invalid": _("请输入有效的邮箱地址。")},
    )
    qq = forms.RegexField(
        label="QQ", regex=QQ_RE, required=False, error_messages={"invalid": _("QQ 号应为 5 到 12 位数字。")}
    )
    wechat = forms.CharField(label=_("微信"), max_length=64, required=False)
    birthday = forms.DateField(
        label=_("生日"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("请输入有效的日期。")},
    )
    hometown = forms.CharField(label=_("籍贯"), max_length=64, required=False)
    is_primary = forms.BooleanField(label=_("设为首要联系人"), required=False)
    remark = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, instance: Contact | None = None, user=None, **kwargs):
        if instance is not None:
            kwargs.setdefault("initial", {field: getattr(instance, field) for field in self.base_fields})
        super().__init__(*args, **kwargs)
        field_policy.apply_to_form(self, user, "contacts", instance)

    def contact_values(self) -> dict:
        """What the service saves: without read-only fields and masked inputs left blank."""
        return field_policy.form_values(self, dict(self.cleaned_data))


def active_users():
    return User.objects.filter(is_active=True).select_related("department").order_by("department__path", "pk")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.display_name}（{obj.department}）" if obj.department_id else obj.display_name


class UsersChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.display_name}（{obj.department}）" if obj.department_id else obj.display_name


class AccessForm(forms.Form):
    """Share a customer with colleagues, or add them to its team."""

    KIND_CHOICES = [("shared", _("共享")), ("team", _("团队成员"))]
    kind = forms.ChoiceField(label=_("方式"), choices=KIND_CHOICES, initial="shared")
    users = UsersChoiceField(label=_("员工"), queryset=User.objects.none())
    can_edit = forms.BooleanField(label=_("可编辑"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = active_users()


class DictionaryItemForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=64)
    parent = forms.ModelChoiceField(
        label=_("上级地区"),
        queryset=DictionaryItem.objects.none(),
        required=False,
        empty_label=_("无（一级）"),
    )
    sort_order = forms.IntegerField(label=_("排序"), min_value=0, max_value=100000, required=False)

    def __init__(self, *args, kind: str, item: DictionaryItem | None = None, **kwargs):
        if item is not None:
            kwargs.setdefault("initial", {"name": item.name, "sort_order": item.sort_order})
        super().__init__(*args, **kwargs)
        if kind == DictionaryItem.Kind.REGION and item is None:
            self.fields["parent"].queryset = DictionaryItem.objects.filter(
                kind=kind, parent__isnull=True
            ).order_by("sort_order", "pk")
        else:
            del self.fields["parent"]
        if item is None:
            del self.fields["sort_order"]


class NumberingRuleForm(forms.Form):
    prefix = forms.CharField(
        label=_("前缀"), max_length=16, required=False, help_text=_("字母、数字、- 或 _，例如 KH。")
    )
    date_part = forms.ChoiceField(label=_("日期部分"), choices=NumberingRule.DatePart.choices, required=False)
    padding = forms.IntegerField(label=_("序号位数"), min_value=1, max_value=10)


class RestoreForm(forms.Form):
    pool = forms.ModelChoiceField(label=_("恢复到公海"), queryset=Pool.objects.all(), empty_label=None)
