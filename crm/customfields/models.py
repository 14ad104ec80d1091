"""Admin-defined custom fields (CUS-11).

A definition belongs to a *target* (the kind of record it extends: customers now; leads,
opportunities and contracts later). The values live on the records themselves, in their
`custom_data` JSON column, keyed by the definition's `key`; see `crm/customfields/values.py` for
how each type is stored.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomField(models.Model):
    class Target(models.TextChoices):
        CUSTOMERS = "customers", _("客户")

    class FieldType(models.TextChoices):
        TEXT = "text", _("单行文本")
        LONG_TEXT = "long_text", _("多行文本")
        NUMBER = "number", _("数字")
        MONEY = "money", _("金额")
        DATE = "date", _("日期")
        DATETIME = "datetime", _("日期时间")
        CHOICE = "choice", _("单选")
        MULTI_CHOICE = "multi_choice", _("多选")
        BOOLEAN = "boolean", _("是/否")
        PHONE = "phone", _("电话")
        EMAIL = "email", _("邮箱")
        URL = "url", _("网址")
        USER = "user", _("员工")

    target = models.CharField(_("所属对象"), max_length=32, choices=Target, default=Target.CUSTOMERS)
    key = models.SlugField(
        _("字段标识"),
        max_length=40,
        help_text=_("小写字母、数字和下划线，以字母开头；创建后不能修改。"),
    )
    label = models.CharField(_("字段名称"), max_length=64)
    field_type = models.CharField(_("字段类型"), max_length=16, choices=FieldType)
    options = models.JSONField(_("选项"), default=list, blank=True)
    required = models.BooleanField(_("必填"), default=False)
    searchable = models.BooleanField(_("可搜索"), default=False)
    importable = models.BooleanField(_("可导入"), default=True)
    exportable = models.BooleanField(_("可导出"), default=True)
    for_statistics = models.BooleanField(_("用于统计"), default=False)
    show_in_list = models.BooleanField(_("默认显示在列表中"), default=False)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    help_text = models.CharField(_("填写说明"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("自定义字段")
        verbose_name_plural = _("自定义字段")
        ordering = ["target", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["target", "key"], name="customfield_unique_key"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def has_options(self) -> bool:
        return self.field_type in CHOICE_TYPES

    @property
    def path(self) -> str:
        """How lists, filters, errors and field permissions name this field: `custom.<key>`."""
        return f"custom.{self.key}"


CHOICE_TYPES = frozenset({CustomField.FieldType.CHOICE, CustomField.FieldType.MULTI_CHOICE})
TEXT_TYPES = frozenset(
    {
        CustomField.FieldType.TEXT,
        CustomField.FieldType.LONG_TEXT,
        CustomField.FieldType.PHONE,
        CustomField.FieldType.EMAIL,
        CustomField.FieldType.URL,
    }
)
# Types the quick search looks into when the field is searchable (free text). Each such field adds a
# substring match on its JSON value, which no index answers: choices, numbers, dates and the rest
# are searched through the advanced filter only.
QUICK_SEARCH_TYPES = TEXT_TYPES
NUMBER_TYPES = frozenset({CustomField.FieldType.NUMBER, CustomField.FieldType.MONEY})
