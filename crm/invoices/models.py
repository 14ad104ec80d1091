"""Invoices (发票, CTR-5): requested against a contract, issued with the tax invoice's number,
mailed with a tracking number, or voided. The non-void invoices of a contract never add up to more
than its amount (checked with the contract row locked; `Contract.invoiced_amount` is kept here)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Invoice(models.Model):
    class Kind(models.TextChoices):
        SPECIAL = "special", _("增值税专用发票")
        NORMAL = "normal", _("增值税普通发票")
        ELECTRONIC = "electronic", _("电子发票")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("已申请")
        ISSUED = "issued", _("已开票")
        MAILED = "mailed", _("已邮寄")
        VOID = "void", _("已作废")

    code = models.CharField(_("申请编号"), max_length=40, unique=True, editable=False)
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="invoices", verbose_name=_("合同")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="invoices", verbose_name=_("客户")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("负责人")
    )
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("所属部门"),
    )
    kind = models.CharField(_("发票类型"), max_length=12, choices=Kind, default=Kind.SPECIAL)
    title = models.CharField(_("发票抬头"), max_length=200)
    tax_number = models.CharField(_("纳税人识别号"), max_length=20, blank=True)
    bank_account = models.CharField(_("开户行及账号"), max_length=200, blank=True)
    address_phone = models.CharField(_("地址及电话"), max_length=200, blank=True)
    amount = models.DecimalField(_("开票金额（含税）"), max_digits=16, decimal_places=2)
    tax_percent = models.DecimalField(_("税率(%)"), max_digits=5, decimal_places=2, default=Decimal("13.00"))
    tax_amount = models.DecimalField(_("税额"), max_digits=16, decimal_places=2, default=0)
    status = models.CharField(_("状态"), max_length=10, choices=Status, default=Status.REQUESTED)
    invoice_number = models.CharField(_("发票号码"), max_length=32, blank=True)
    issued_on = models.DateField(_("开票日期"), null=True, blank=True)
    mailed_on = models.DateField(_("邮寄日期"), null=True, blank=True)
    tracking_number = models.CharField(_("快递单号"), max_length=40, blank=True)
    void_reason = models.CharField(_("作废原因"), max_length=200, blank=True)
    note = models.CharField(_("备注"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("发票")
        verbose_name_plural = _("发票")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="invoice_owner_recent_idx"),
            models.Index(fields=["contract", "status"], name="invoice_contract_idx"),
            models.Index(fields=["customer", "-created_at"], name="invoice_customer_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="invoice_amount_positive"),
            # An invoice number belongs to one live invoice (a voided one frees it).
            models.UniqueConstraint(
                fields=["invoice_number"],
                condition=~models.Q(invoice_number="") & ~models.Q(status="void"),
                name="invoice_number_unique_live",
            ),
        ]

    def __str__(self) -> str:
        return self.code
