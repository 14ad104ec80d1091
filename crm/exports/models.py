"""One export of a list (SYS-3): what was asked, how far it got, and where the file is."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (.xlsx)"
        CSV = "csv", "CSV (.csv)"

    class Scope(models.TextChoices):
        ALL = "all", _("当前结果的全部记录")
        SELECTED = "selected", _("选中的记录")

    class ColumnsMode(models.TextChoices):
        VISIBLE = "visible", _("列表显示的列")
        ALL = "all", _("全部可导出字段")

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("导出中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="export_jobs",
        verbose_name=_("导出人"),
    )
    list_key = models.CharField(_("列表"), max_length=32)
    format = models.CharField(_("格式"), max_length=8, choices=Format, default=Format.XLSX)
    scope = models.CharField(_("范围"), max_length=10, choices=Scope, default=Scope.ALL)
    params = models.JSONField(_("列表条件"), default=dict, blank=True)
    ids = models.JSONField(_("选中的记录"), default=list, blank=True)
    columns = models.CharField(_("导出列"), max_length=10, choices=ColumnsMode, default=ColumnsMode.VISIBLE)
    status = models.CharField(_("状态"), max_length=10, choices=Status, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    done_rows = models.PositiveIntegerField(_("已导出行数"), default=0)
    file_path = models.CharField(_("文件路径"), max_length=255, blank=True)
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=["user", "-created_at"], name="exportjob_user_created")]

    def __str__(self) -> str:
        return f"{self.list_key} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(self.done_rows * 100 / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
