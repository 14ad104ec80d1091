"""Follow-ups (跟进记录, FUP-1), their comments (点评, FUP-2), attachments and templates (FUP-3)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CONTENT_MAX_LENGTH = 5000


class FollowUp(models.Model):
    """One contact with a customer: how, what was said, and when to get in touch next."""

    class NextAction(models.TextChoices):
        CALL = "call", _("打电话")
        EMAIL = "email", _("发邮件")
        VISIT = "visit", _("拜访")
        MESSAGE = "message", _("发微信/短信")
        OTHER = "other", _("其他")

    # A follow-up belongs to a customer or to a lead (LEAD-1); converting the lead moves its
    # follow-ups to the new customer (the lead stays linked, as history).
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="followups",
        verbose_name=_("客户"),
    )
    lead = models.ForeignKey(
        "leads.Lead",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # a converted lead's follow-ups stay with the customer
        related_name="followups",
        verbose_name=_("线索"),
    )
    # An opportunity's follow-up (OPP-1) also carries the opportunity's customer.
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
        verbose_name=_("商机"),
    )
    # A contract's follow-up (CTR-1) also carries the contract's customer.
    contract = models.ForeignKey(
        "contracts.Contract",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
        verbose_name=_("合同"),
    )
    contact = models.ForeignKey(
        "customers.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
        verbose_name=_("联系人"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followups", verbose_name=_("跟进人")
    )
    type = models.ForeignKey(
        "customers.DictionaryItem",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("跟进方式"),
        limit_choices_to={"kind": "followup_type", "is_active": True},
    )
    content = models.TextField(_("跟进内容"), max_length=CONTENT_MAX_LENGTH)
    followed_at = models.DateTimeField(_("跟进时间"), default=timezone.now)
    next_contact_at = models.DateTimeField(_("下次联系时间"), null=True, blank=True)
    next_action = models.CharField(_("下次行动"), max_length=16, choices=NextAction, blank=True)
    reminder = models.ForeignKey(
        "messaging.Reminder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("跟进记录")
        verbose_name_plural = _("跟进记录")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="followup_customer_recent_idx"),
            models.Index(fields=["author", "-created_at"], name="followup_author_recent_idx"),
            models.Index(
                fields=["next_action", "next_contact_at"],
                name="followup_next_action_idx",
                condition=models.Q(next_contact_at__isnull=False),
            ),
            models.Index(fields=["lead", "-created_at"], name="followup_lead_recent_idx"),
            models.Index(fields=["opportunity", "-created_at"], name="followup_opp_recent_idx"),
            models.Index(fields=["contract", "-created_at"], name="followup_contract_recent_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | models.Q(lead__isnull=False),
                name="followup_customer_or_lead",
            )
        ]

    def __str__(self) -> str:
        about = self.customer if self.customer_id else self.lead
        return f"{about} · {timezone.localtime(self.followed_at):%Y-%m-%d %H:%M}"


class FollowUpComment(models.Model):
    """A manager's remark (点评) on a follow-up."""

    followup = models.ForeignKey(
        FollowUp, on_delete=models.CASCADE, related_name="comments", verbose_name=_("跟进记录")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("点评人")
    )
    content = models.TextField(_("点评内容"), max_length=2000)
    created_at = models.DateTimeField(_("点评时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("跟进点评")
        verbose_name_plural = _("跟进点评")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.content[:50]


def _attachment_path(instance, filename: str) -> str:
    # The stored name is random (the service picks it); the user's name is kept in original_name.
    return f"followups/{timezone.now():%Y/%m}/{filename}"


class FollowUpAttachment(models.Model):
    """A file attached to a follow-up; served only through a view that checks visibility."""

    followup = models.ForeignKey(
        FollowUp, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("跟进记录")
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
        verbose_name = _("跟进附件")
        verbose_name_plural = _("跟进附件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class FollowUpTemplate(models.Model):
    """Frequent follow-up content (跟进模板): private to its owner, or shared with everyone."""

    title = models.CharField(_("模板名称"), max_length=100)
    content = models.TextField(_("模板内容"), max_length=CONTENT_MAX_LENGTH)
    type = models.ForeignKey(
        "customers.DictionaryItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("跟进方式"),
        limit_choices_to={"kind": "followup_type", "is_active": True},
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="followup_templates",
        verbose_name=_("创建人"),
    )
    is_shared = models.BooleanField(_("共享给所有人"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("跟进模板")
        verbose_name_plural = _("跟进模板")
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["owner", "title"], name="followup_template_owner_idx")]

    def __str__(self) -> str:
        return self.title
