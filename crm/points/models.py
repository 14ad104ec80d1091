"""Customer points (积分, CUS-10): a ledger. Approved contracts earn each product's points times the
quantity; points are redeemed or adjusted by hand (settings permission only). The balance is the sum
of a customer's entries; an earning is recorded at most once per contract."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PointsEntry(models.Model):
    class Kind(models.TextChoices):
        EARN = "earn", _("合同累计")
        REDEEM = "redeem", _("兑换")
        ADJUST = "adjust", _("手工调整")
        REVERSE = "reverse", _("合同作废冲销")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="points_entries", verbose_name=_("客户")
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind)
    points = models.IntegerField(_("积分变动"))
    contract = models.ForeignKey(
        "contracts.Contract",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="points_entries",
        verbose_name=_("合同"),
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("积分记录")
        verbose_name_plural = _("积分记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="points_customer_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "kind"],
                condition=models.Q(kind__in=["earn", "reverse"]),
                name="points_once_per_contract",
            ),
            models.CheckConstraint(condition=~models.Q(points=0), name="points_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.points:+d}"
