"""Opportunities (商机, OPP-1): stage groups with win rates, opportunities moving through their stages."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StageGroup(models.Model):
    """A sales process (商机阶段组): ordered stages, each with a win rate, ending in 赢单 and 输单."""

    name = models.CharField(_("阶段组名称"), max_length=64, unique=True)
    is_default = models.BooleanField(_("默认"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("商机阶段组")
        verbose_name_plural = _("商机阶段组")
        ordering = ["-is_default", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", _("进行中")
        WON = "won", _("赢单")
        LOST = "lost", _("输单")

    group = models.ForeignKey(
        StageGroup, on_delete=models.CASCADE, related_name="stages", verbose_name=_("阶段组")
    )
    name = models.CharField(_("阶段名称"), max_length=64)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    win_rate = models.PositiveSmallIntegerField(_("赢率（%）"), default=0)
    kind = models.CharField(_("阶段类型"), max_length=8, choices=Kind, default=Kind.OPEN)

    class Meta:
        verbose_name = _("商机阶段")
        verbose_name_plural = _("商机阶段")
        ordering = ["group", "order", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(win_rate__lte=100), name="stage_win_rate_max_100"),
            models.UniqueConstraint(
                fields=["group", "kind"], condition=~models.Q(kind="open"), name="stage_one_won_one_lost"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_terminal(self) -> bool:
        return self.kind != self.Kind.OPEN


class Opportunity(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("进行中")
        WON = "won", _("赢单")
        LOST = "lost", _("输单")

    code = models.CharField(_("商机编号"), max_length=40, unique=True, editable=False)
    name = models.CharField(_("商机名称"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("客户")
    )
    contacts = models.ManyToManyField(
        "customers.Contact", blank=True, related_name="opportunities", verbose_name=_("联系人")
    )
    source = models.ForeignKey(
        "customers.DictionaryItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("商机来源"),
    )
    expected_amount = models.DecimalField(_("预计金额"), max_digits=14, decimal_places=2, default=0)
    expected_close_date = models.DateField(_("预计成交日期"), null=True, blank=True)
    stage_group = models.ForeignKey(
        StageGroup, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("阶段组")
    )
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("阶段")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="opportunities",
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
    status = models.CharField(_("状态"), max_length=8, choices=Status, default=Status.OPEN)
    won_at = models.DateTimeField(_("赢单时间"), null=True, blank=True)
    lost_at = models.DateTimeField(_("输单时间"), null=True, blank=True)
    lost_reason = models.ForeignKey(
        "customers.DictionaryItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("输单原因"),
    )
    lost_note = models.CharField(_("输单说明"), max_length=500, blank=True)
    remark = models.TextField(_("备注"), blank=True, max_length=5000)
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
        verbose_name = _("商机")
        verbose_name_plural = _("商机")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="opp_owner_recent_idx"),
            models.Index(fields=["stage", "-updated_at"], name="opp_stage_recent_idx"),
            models.Index(fields=["customer", "-created_at"], name="opp_customer_recent_idx"),
            models.Index(fields=["-created_at", "-id"], name="opp_recent_idx"),
            # Index-only scans over a manager's subtree (本部门及下级), one range per visible owner:
            # the kanban's per-stage count and sum (bench/pipeline.py, 1M rows: 377 ms → 60 ms) and
            # the narrow first step (ids only) of a filtered list or card ranking (PostgreSQL only).
            models.Index(
                fields=["owner", "stage_group", "stage"],
                include=["id", "expected_amount", "customer", "updated_at", "created_at", "status"],
                name="opp_owner_board_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OpportunityLine(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="lines", verbose_name=_("商机")
    )
    product = models.ForeignKey(
        "products.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("产品")
    )
    quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2, default=1)
    unit_price = models.DecimalField(_("单价"), max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(_("折扣（%）"), max_digits=5, decimal_places=2, default=0)
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("商机产品")
        verbose_name_plural = _("商机产品")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"
