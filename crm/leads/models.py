"""Leads (线索, LEAD-1): a prospective customer not yet qualified, owned like a customer."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Lead(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("新线索")
        FOLLOWING = "following", _("跟进中")
        CONVERTED = "converted", _("已转化")
        INVALID = "invalid", _("无效")

    code = models.CharField(_("线索编号"), max_length=32, unique=True, editable=False)
    company = models.CharField(_("公司名称"), max_length=200)
    contact_name = models.CharField(_("联系人姓名"), max_length=64, blank=True)
    title = models.CharField(_("职务"), max_length=64, blank=True)
    mobile = models.CharField(_("手机"), max_length=20, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    email = models.EmailField(_("邮箱"), max_length=254, blank=True)
    wechat = models.CharField(_("微信"), max_length=64, blank=True)
    source = models.ForeignKey(
        "customers.DictionaryItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("线索来源"),
    )
    industry = models.ForeignKey(
        "customers.DictionaryItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("行业"),
    )
    region = models.ForeignKey(
        "customers.DictionaryItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("地区"),
    )
    address = models.CharField(_("地址"), max_length=255, blank=True)
    remark = models.TextField(_("需求/备注"), blank=True, max_length=5000)
    status = models.CharField(_("状态"), max_length=16, choices=Status, default=Status.NEW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="leads", verbose_name=_("负责人")
    )
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("所属部门"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    converted_at = models.DateTimeField(_("转化时间"), null=True, blank=True)
    converted_customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("转化的客户"),
    )
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("转化人"),
    )
    next_contact_at = models.DateTimeField(_("下次联系时间"), null=True, blank=True)
    last_followup_at = models.DateTimeField(_("最后跟进时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="lead_owner_recent_idx"),
            models.Index(fields=["status", "-created_at"], name="lead_status_recent_idx"),
            models.Index(fields=["-created_at", "-id"], name="lead_recent_idx"),
            models.Index(fields=["mobile"], name="lead_mobile_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.company}（{self.contact_name}）" if self.contact_name else self.company

    @property
    def is_closed(self) -> bool:
        return self.status in (self.Status.CONVERTED, self.Status.INVALID)
