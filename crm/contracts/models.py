"""Contracts and orders (合同 / 订单, CTR-1 to CTR-4, CUS-14, CUS-16).

A contract is written as a draft, sent through the approval engine (crm/approvals, kind
"contract"), and locked once approved: its customer, lines and amounts change only through a new
approval (reopening puts it back to draft and withdraws nothing already received). Totals are
stored for lists but always recomputed by crm/contracts/services.py with crm/core/money.py.

Product orders (kind ORDER) also run the order flow of CTR-3 once approved:
confirmed → paid → shipped → done; shipping takes the quantities out of product stock.

`received_amount` and `invoiced_amount` are kept by the receivables and invoices services inside
the transaction that changes them (the contract row is locked there), so lists and the customer
page read them without summing.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_TAX_PERCENT = Decimal("13.00")


class ContractSettings(models.Model):
    """What approval of a contract does to its customer, and the credit rule (one row, pk=1)."""

    class CreditMode(models.TextChoices):
        OFF = "off", _("不检查信用额度")
        APPROVAL = "approval", _("超出额度需额外审批")
        REFUSE = "refuse", _("超出额度禁止提交")

    status_on_approval = models.ForeignKey(
        "customers.DictionaryItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("合同审批通过后客户状态变为"),
        help_text=_("留空表示不改变客户状态。"),
    )
    credit_mode = models.CharField(
        _("信用额度控制"), max_length=10, choices=CreditMode, default=CreditMode.APPROVAL
    )
    earn_points = models.BooleanField(_("合同审批通过后按产品积分累计客户积分"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("合同设置")
        verbose_name_plural = _("合同设置")

    def __str__(self) -> str:
        return str(_("合同设置"))

    @classmethod
    def load(cls) -> "ContractSettings":
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class Contract(models.Model):
    class Kind(models.TextChoices):
        CONTRACT = "contract", _("销售合同")
        ORDER = "order", _("产品订单")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        CREDIT_REVIEW = "credit_review", _("信用审批中")
        PENDING = "pending", _("审批中")
        REJECTED = "rejected", _("已驳回")
        APPROVED = "approved", _("已审批")
        DONE = "done", _("已完成")
        VOID = "void", _("已作废")

    class OrderStatus(models.TextChoices):
        NONE = "", _("无")
        CONFIRMED = "confirmed", _("已确认")
        PAID = "paid", _("已付款")
        SHIPPED = "shipped", _("已发货")
        DONE = "done", _("已完成")

    code = models.CharField(_("合同编号"), max_length=40, unique=True, editable=False)
    name = models.CharField(_("合同名称"), max_length=200)
    kind = models.CharField(_("合同类型"), max_length=10, choices=Kind, default=Kind.CONTRACT)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="contracts", verbose_name=_("客户")
    )
    contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
        verbose_name=_("客户联系人"),
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
        verbose_name=_("商机"),
    )
    quote = models.ForeignKey(
        "quotes.Quote",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
        verbose_name=_("报价单"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("负责人")
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
    order_status = models.CharField(
        _("订单状态"), max_length=10, choices=OrderStatus, blank=True, default=OrderStatus.NONE
    )
    signed_on = models.DateField(_("签约日期"))
    start_on = models.DateField(_("开始日期"), null=True, blank=True)
    end_on = models.DateField(_("结束日期"), null=True, blank=True)
    customer_signatory = models.CharField(_("客户签约人"), max_length=64, blank=True)
    our_signatory = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("我方签约人"),
    )
    payment_term = models.CharField(_("付款条件"), max_length=16, blank=True)
    tax_percent = models.DecimalField(
        _("税率(%)"), max_digits=5, decimal_places=2, default=DEFAULT_TAX_PERCENT
    )
    terms = models.TextField(_("合同条款"), blank=True, max_length=20000)
    note = models.TextField(_("备注"), blank=True, max_length=2000)
    subtotal = models.DecimalField(_("金额合计"), max_digits=16, decimal_places=2, default=0)
    discount_total = models.DecimalField(_("折扣合计"), max_digits=16, decimal_places=2, default=0)
    tax_total = models.DecimalField(_("税额合计"), max_digits=16, decimal_places=2, default=0)
    total = models.DecimalField(_("合同金额"), max_digits=16, decimal_places=2, default=0)
    received_amount = models.DecimalField(_("已回款"), max_digits=16, decimal_places=2, default=0)
    invoiced_amount = models.DecimalField(_("已开票"), max_digits=16, decimal_places=2, default=0)
    # Set when saving found the amount above the customer's remaining credit (CUS-16).
    credit_exceeded = models.BooleanField(_("超出信用额度"), default=False)
    submitted_at = models.DateTimeField(_("提交审批时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("审批通过时间"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True)
    voided_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
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

    class Meta:
        verbose_name = _("合同")
        verbose_name_plural = _("合同")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="contract_owner_recent_idx"),
            models.Index(fields=["customer", "-signed_on"], name="contract_customer_signed_idx"),
            models.Index(fields=["status", "-created_at"], name="contract_status_recent_idx"),
            models.Index(fields=["-created_at", "-id"], name="contract_recent_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(total__gte=0), name="contract_total_not_negative"),
            models.CheckConstraint(
                condition=models.Q(received_amount__lte=models.F("total")),
                name="contract_received_within_total",
            ),
            models.CheckConstraint(
                condition=models.Q(invoiced_amount__lte=models.F("total")),
                name="contract_invoiced_within_total",
            ),
            models.CheckConstraint(
                condition=models.Q(end_on__isnull=True)
                | models.Q(start_on__isnull=True)
                | models.Q(end_on__gte=models.F("start_on")),
                name="contract_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_editable(self) -> bool:
        """Draft and rejected contracts may be changed; anything in or past approval may not."""
        return self.status in (self.Status.DRAFT, self.Status.REJECTED)

    @property
    def is_effective(self) -> bool:
        """Approved (or done): receivables, invoices, purchases and points count only then."""
        return self.status in (self.Status.APPROVED, self.Status.DONE)

    @property
    def outstanding_amount(self) -> Decimal:
        return self.total - self.received_amount


class ContractLine(models.Model):
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="lines", verbose_name=_("合同")
    )
    order = models.PositiveIntegerField(_("序号"), default=0)
    product = models.ForeignKey(
        "products.Product", on_delete=models.PROTECT, related_name="contract_lines", verbose_name=_("产品")
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
    points = models.PositiveIntegerField(_("积分"), default=0)

    class Meta:
        verbose_name = _("合同明细")
        verbose_name_plural = _("合同明细")
        ordering = ["contract", "order", "pk"]
        indexes = [models.Index(fields=["product", "contract"], name="contract_line_product")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="contract_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100),
                name="contract_line_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}#{self.order} {self.product_id}"


def _attachment_path(instance, filename: str) -> str:
    # The stored name is random (the service picks it); the user's name is kept in original_name.
    return f"contracts/{timezone.now():%Y/%m}/{filename}"


class ContractAttachment(models.Model):
    """A scanned contract or annex; served only through a view that checks visibility."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("合同")
    )
    file = models.FileField(_("文件"), upload_to=_attachment_path, max_length=255)
    original_name = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("文件类型"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("合同附件")
        verbose_name_plural = _("合同附件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name
