from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class OperationLog(models.Model):
    """One row per thing that happened (FUP-5): who, when, what, old → new."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    action = models.CharField(_("动作"), max_length=64, db_index=True)
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(_("对象"), max_length=200, blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("操作日志")
        verbose_name_plural = _("操作日志")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Keyset paging of the log walks (created_at, id) backwards.
            models.Index(fields=["-created_at", "-id"], name="oplog_recent_idx"),
            models.Index(fields=["target_type", "target_id", "-created_at"], name="oplog_target_idx"),
            models.Index(fields=["actor", "-created_at", "-id"], name="oplog_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr}"
