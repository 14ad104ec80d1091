"""Quotes (报价, QUO-1): a quote per customer with product lines, prices, discounts and validity.

Totals are stored for lists and reports but always recomputed by crm/quotes/services.py with
crm/core/money.py (never taken from input), so the page, the API and the print view show the same
rounded figures. A quote will become a contract (CTR-1) once contracts exist.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.products.models import PricePolicy

DEFAULT_TAX_PERCENT = Decimal("13.00")
DEFAULT_MAX_DISCOUNT_PERCENT = Decimal("10.00")


class Quote(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SENT = "sent", _("已发送")
        ACCEPTED = "accepted", _("已接受")
        REJECTED = "rejected", _("已拒绝")
        EXPIRED = "expired", _("已过期")

    PaymentTerm = PricePolicy.PaymentTerm

    code = models.CharField(_("报价单号"), max_length=32, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="quotes", verbose_name=_("客户")
    )
    contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
        verbose_name=_("联系人"),
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
        verbose_name=_("商机"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("负责人")
    )
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("所属部门"),
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status, default=Status.DRAFT)
    quoted_on = models.DateField(_("报价日期"))
    valid_until = models.DateField(_("有效期至"))
    payment_term = models.CharField(_("付款条件"), max_length=16, choices=PaymentTerm, blank=True)
    tax_percent = models.DecimalField(
        _("税率(%)"), max_digits=5, decimal_places=2, default=DEFAULT_TAX_PERCENT
    )
    note = models.TextField(_("备注"), blank=True, max_length=2000)
    subtotal = models.DecimalField(_("金额合计"), max_digits=16, decimal_places=2, default=0)
    discount_total = models.DecimalField(_("折扣合计"), max_digits=16, decimal_places=2, default=0)
    tax_total = models.DecimalField(_("税额合计"), max_digits=16, decimal_places=2, default=0)
    total = models.DecimalField(_("报价总额"), max_digits=16, decimal_places=2, default=0)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("客户答复时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("报价单")
        verbose_name_plural = _("报价单")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="quote_owner_created"),
            models.Index(fields=["customer", "-created_at"], name="quote_customer_created"),
            models.Index(fields=["status", "valid_until"], name="quote_status_valid"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines", verbose_name=_("报价单"))
    order = models.PositiveIntegerField(_("序号"), default=0)
    product = models.ForeignKey(
        "products.Product", on_delete=models.PROTECT, related_name="quote_lines", verbose_name=_("产品")
    )
    description = models.CharField(_("说明"), max_length=255, blank=True)
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=2)
    unit = models.CharField(_("单位"), max_length=16, blank=True)
    list_price = models.DecimalField(_("标准价格"), max_digits=14, decimal_places=2)
    policy_price = models.DecimalField(_("策略价格"), max_digits=14, decimal_places=2)
    unit_price = models.DecimalField(_("单价"), max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(_("折扣(%)"), max_digits=5, decimal_places=2, default=0)
    tax_percent = models.DecimalField(_("税率(%)"), max_digits=5, decimal_places=2, default=0)
    amount = models.DecimalField(_("金额"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("报价明细")
        verbose_name_plural = _("报价明细")
        ordering = ["quote", "order", "pk"]
        indexes = [models.Index(fields=["product", "quote"], name="quote_line_product")]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="quote_line_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100),
                name="quote_line_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quote_id}#{self.order} {self.product_id}"


class QuoteRoleLimit(models.Model):
    """How far below the policy price a role may quote (percent); roles without a row get 10 %."""

    role = models.OneToOneField(
        "accounts.Role", on_delete=models.CASCADE, related_name="quote_limit", verbose_name=_("角色")
    )
    max_discount_percent = models.DecimalField(
        _("最大折扣(%)"), max_digits=5, decimal_places=2, default=DEFAULT_MAX_DISCOUNT_PERCENT
    )

    class Meta:
        verbose_name = _("报价折扣权限")
        verbose_name_plural = _("报价折扣权限")

    def __str__(self) -> str:
        return f"{self.role}: {self.max_discount_percent}%"
