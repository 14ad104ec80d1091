"""Import jobs (SYS-3) and the column mappings each user last used per target."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportMapping(models.Model):
    """What a user mapped each header to, last time, for one target: {normalised header: field key}."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(_("导入对象"), max_length=32)
    mapping = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("导入列对应")
        verbose_name_plural = _("导入列对应")
        constraints = [models.UniqueConstraint(fields=["user", "target"], name="import_mapping_user_target")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.target}"


class ImportJob(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("已上传")
        CHECKING = "checking", _("检查中")
        CHECKED = "checked", _("已检查")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    class Dedupe(models.TextChoices):
        SKIP = "skip", _("跳过重复的行")
        UPDATE = "update", _("更新已有记录")
        CREATE = "create", _("仍然新建")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("导入人")
    )
    target = models.CharField(_("导入对象"), max_length=32)
    filename = models.CharField(_("文件名"), max_length=255)
    stored_path = models.CharField(max_length=500)
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)  # {column index (str): field key}
    dedupe = models.CharField(_("重复处理"), max_length=10, choices=Dedupe, default=Dedupe.SKIP)
    only_valid = models.BooleanField(_("只导入正确的行"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=Status, default=Status.UPLOADED)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    processed = models.PositiveIntegerField(default=0)
    to_create = models.PositiveIntegerField(default=0)
    to_update = models.PositiveIntegerField(default=0)
    to_skip = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("新建"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    skipped_count = models.PositiveIntegerField(_("跳过"), default=0)
    failed_count = models.PositiveIntegerField(_("错误"), default=0)
    errors = models.JSONField(default=list, blank=True)  # [[row, header, message], …], capped
    errors_truncated = models.BooleanField(default=False)
    error_message = models.TextField(_("失败原因"), blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="import_job_user_recent_idx")]

    def __str__(self) -> str:
        return self.filename

    @property
    def target_label(self) -> str:
        from crm.imports.targets import get_target

        target = get_target(self.target)
        return str(target.label) if target else self.target
