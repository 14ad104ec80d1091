"""Payment plans (回款计划) and receivables (回款), CTR-2.

A plan is an expected instalment of a contract (amount, due date, method, reminder days before).
A receivable is money actually received against an approved contract, optionally against one of its
plans; it counts only once approved through the approval engine (kind "receivable"). The sums kept
on the contract (`Contract.received_amount`) and on the plan (`received_amount`) change only in the
approving transaction, with the contract row locked, so they can never exceed the contract amount.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PaymentMethod(models.TextChoices):
    BANK = "bank", _("银行转账")
    CASH = "cash", _("现金")
    CHEQUE = "cheque", _("支票")
    ACCEPTANCE = "acceptance", _("承兑汇票")
    ALIPAY = "alipay", _("支付宝")
    WECHAT = "wechat", _("微信支付")
    OTHER = "other", _("其他")


class PaymentPlan(models.Model):
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="payment_plans", verbose_name=_("合同")
    )
    # Denormalised from the contract so the customer page and the reminder job need no join.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payment_plans", verbose_name=_("客户")
    )
    number = models.PositiveSmallIntegerField(_("期数"), default=1)
    amount = models.DecimalField(_("计划回款金额"), max_digits=16, decimal_places=2)
    due_on = models.DateField(_("计划回款日期"))
    method = models.CharField(_("回款方式"), max_length=12, choices=PaymentMethod, blank=True)
    remind_days_before = models.PositiveSmallIntegerField(_("提前提醒（天）"), default=3)
    reminded_on = models.DateField(_("已提醒日期"), null=True, blank=True)
    # Set when the owner was told the plan is overdue (once per due date; a new due date clears it).
    overdue_notified_on = models.DateField(_("逾期提醒日期"), null=True, blank=True)
    received_amount = models.DecimalField(_("已回款"), max_digits=16, decimal_places=2, default=0)
    note = models.CharField(_("备注"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("回款计划")
        verbose_name_plural = _("回款计划")
        ordering = ["contract", "number", "id"]
        indexes = [
            models.Index(fields=["due_on"], name="plan_due_idx"),
            models.Index(fields=["customer", "due_on"], name="plan_customer_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="plan_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(received_amount__gte=0), name="plan_received_not_negative"
            ),
            models.UniqueConstraint(fields=["contract", "number"], name="plan_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} #{self.number}"

    @property
    def outstanding_amount(self):
        return max(self.amount - self.received_amount, 0)

    @property
    def is_overdue(self) -> bool:
        """Past its due date (local today) and not fully received."""
        return self.due_on < timezone.localdate() and self.received_amount < self.amount


class Receivable(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PENDING = "pending", _("审批中")
        APPROVED = "approved", _("已确认")
        REJECTED = "rejected", _("已驳回")

    code = models.CharField(_("回款编号"), max_length=40, unique=True, editable=False)
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="receivables", verbose_name=_("合同")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="receivables", verbose_name=_("客户")
    )
    plan = models.ForeignKey(
        PaymentPlan,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="receivables",
        verbose_name=_("回款计划"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="receivables",
        verbose_name=_("负责人"),
    )
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("所属部门"),
    )
    amount = models.DecimalField(_("回款金额"), max_digits=16, decimal_places=2)
    received_on = models.DateField(_("回款日期"))
    method = models.CharField(_("回款方式"), max_length=12, choices=PaymentMethod, default=PaymentMethod.BANK)
    status = models.CharField(_("状态"), max_length=10, choices=Status, default=Status.DRAFT)
    note = models.CharField(_("备注"), max_length=500, blank=True)
    approved_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("回款")
        verbose_name_plural = _("回款")
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="receivable_owner_recent_idx"),
            models.Index(fields=["contract", "status"], name="receivable_contract_idx"),
            models.Index(fields=["customer", "-received_on"], name="receivable_customer_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="receivable_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.code
