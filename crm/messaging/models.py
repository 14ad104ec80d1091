from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message in a user's message centre (ORG-5)."""

    class Kind(models.TextChoices):
        SYSTEM = "system", _("系统消息")
        APPROVAL = "approval", _("审批待办")
        REMINDER = "reminder", _("提醒")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind, default=Kind.SYSTEM)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    is_read = models.BooleanField(_("已读"), default=False)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "is_read", "-created_at"], name="notification_inbox_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Reminder(models.Model):
    """Something to be reminded of at a time; a periodic job turns due ones into messages."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("提醒谁")
    )
    title = models.CharField(_("提醒事项"), max_length=200)
    note = models.TextField(_("备注"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    remind_at = models.DateTimeField(_("提醒时间"))
    send_email = models.BooleanField(_("同时发送邮件"), default=False)
    delivered_at = models.DateTimeField(_("已提醒时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        ordering = ["remind_at", "id"]
        indexes = [
            models.Index(
                fields=["remind_at"], condition=models.Q(delivered_at__isnull=True), name="reminder_due_idx"
            ),
            models.Index(fields=["owner", "remind_at"], name="reminder_owner_idx"),
        ]

    def __str__(self) -> str:
        return self.title
