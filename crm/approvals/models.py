"""The approval-flow engine (审批流): flows of ordered steps, requests on any document, tasks.

A request points at its document through contenttypes, so contracts, receivables, credit
overrides, expenses and general approvals share one engine (see crm/approvals/kinds.py).
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.approvals import kinds


class ApprovalFlow(models.Model):
    name = models.CharField(_("审批流名称"), max_length=100)
    kind = models.CharField(_("适用单据"), max_length=32, db_index=True)
    description = models.CharField(_("说明"), max_length=255, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    priority = models.IntegerField(
        _("优先级"), default=0, help_text=_("同一单据有多个审批流时，优先级高的先匹配。")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("审批流")
        verbose_name_plural = _("审批流")
        ordering = ["kind", "-priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="approvalflow_unique_name_in_kind"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self):
        return kinds.label_of(self.kind)


class ApprovalStep(models.Model):
    class ApproverType(models.TextChoices):
        USER = "user", _("指定员工")
        ROLE = "role", _("角色中的任一员工")
        MANAGER = "manager", _("申请人的直属上级")

    class Mode(models.TextChoices):
        ANY = "any", _("任一人同意")
        ALL = "all", _("会签（全部同意）")

    flow = models.ForeignKey(
        ApprovalFlow, on_delete=models.CASCADE, related_name="steps", verbose_name=_("审批流")
    )
    order = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("步骤名称"), max_length=64)
    approver_type = models.CharField(
        _("审批人类型"), max_length=16, choices=ApproverType, default=ApproverType.USER
    )
    approver_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("审批员工"),
    )
    approver_role = models.ForeignKey(
        "accounts.Role",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("审批角色"),
    )
    mode = models.CharField(_("审批方式"), max_length=8, choices=Mode, default=Mode.ANY)
    min_amount = models.DecimalField(_("金额不低于"), max_digits=14, decimal_places=2, null=True, blank=True)
    max_amount = models.DecimalField(_("金额低于"), max_digits=14, decimal_places=2, null=True, blank=True)
    doc_types = models.JSONField(_("单据类型为"), default=list, blank=True)

    class Meta:
        verbose_name = _("审批步骤")
        verbose_name_plural = _("审批步骤")
        ordering = ["flow", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "order"], name="approvalstep_unique_order_in_flow"),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True) | Q(min_amount__gte=0),
                name="approvalstep_min_amount_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(max_amount__isnull=True) | Q(max_amount__gt=0),
                name="approvalstep_max_amount_gt_0",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def applies(self, amount, doc_type: str) -> bool:
        """Does this step's condition hold for a document of this amount and type?"""
        if self.min_amount is not None and (amount is None or amount < self.min_amount):
            return False
        if self.max_amount is not None and (amount is None or amount >= self.max_amount):
            return False
        return not (self.doc_types and doc_type not in self.doc_types)

    @property
    def has_condition(self) -> bool:
        return self.min_amount is not None or self.max_amount is not None or bool(self.doc_types)


class ApprovalRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("审批中")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("已驳回")
        WITHDRAWN = "withdrawn", _("已撤回")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    document = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("单据类型"), max_length=32)
    title = models.CharField(_("标题"), max_length=200)
    flow = models.ForeignKey(
        ApprovalFlow, on_delete=models.PROTECT, related_name="requests", verbose_name=_("审批流")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="approval_requests",
        verbose_name=_("申请人"),
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status, default=Status.PENDING)
    round = models.PositiveSmallIntegerField(_("轮次"), default=1)
    current_step = models.ForeignKey(
        ApprovalStep,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("当前步骤"),
    )
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2, null=True, blank=True)
    doc_type = models.CharField(_("类型"), max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"))
    decided_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("审批申请")
        verbose_name_plural = _("审批申请")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(status="pending"),
                name="approvalrequest_one_pending_per_document",
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="approvalrequest_document_idx"),
            models.Index(fields=["applicant", "-submitted_at"], name="approvalrequest_applicant_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def kind_label(self):
        return kinds.label_of(self.kind)


class ApprovalTask(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("同意")
        REJECTED = "rejected", _("驳回")
        SKIPPED = "skipped", _("无需处理")

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="tasks")
    round = models.PositiveSmallIntegerField(_("轮次"), default=1)
    step = models.ForeignKey(
        ApprovalStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    step_order = models.PositiveSmallIntegerField(_("步骤顺序"))
    step_name = models.CharField(_("步骤名称"), max_length=64)
    mode = models.CharField(
        _("审批方式"), max_length=8, choices=ApprovalStep.Mode, default=ApprovalStep.Mode.ANY
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="approval_tasks",
        verbose_name=_("审批人"),
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status, default=Status.PENDING)
    comment = models.CharField(_("审批意见"), max_length=500, blank=True)
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("审批任务")
        verbose_name_plural = _("审批任务")
        ordering = ["round", "step_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "round", "step_order", "approver"], name="approvaltask_one_per_approver"
            ),
        ]
        indexes = [
            models.Index(fields=["approver", "status", "-created_at"], name="approvaltask_inbox_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.request} · {self.step_name}"
