"""Every write to follow-ups, comments, attachments and templates. Atomic, validated, logged.

Who may change a follow-up (FUP-1): its author, within 24 hours of writing it (a record of what
happened should not be rewritten weeks later), or an administrator (super admin, or a role with
the system-settings permission) at any time. Either way the follow-up must still be visible to them
and they need activities.edit (update) or activities.delete (delete).
"""

import uuid
from datetime import datetime, timedelta
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Case, DateTimeField, F, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.activities.models import (
    CONTENT_MAX_LENGTH,
    FollowUp,
    FollowUpAttachment,
    FollowUpComment,
    FollowUpTemplate,
)
from crm.audit.services import diff, log_action
from crm.customers.models import Contact, Customer, DictionaryItem
from crm.customers.selectors import customer_get_for_user
from crm.messaging.models import Reminder
from crm.messaging.services import notification_send, reminder_create

AUTHOR_EDIT_WINDOW = timedelta(hours=24)
COMMENT_MAX_LENGTH = 2000
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS_PER_FOLLOWUP = 10

# Allowed extensions and the first bytes each must start with (None: a text file, checked for NULs).
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
_ZIP = (b"PK\x03\x04",)
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    "bmp": ("image/bmp", (b"BM",)),
    "doc": ("application/msword", _OLE),
    "xls": ("application/vnd.ms-excel", _OLE),
    "ppt": ("application/vnd.ms-powerpoint", _OLE),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP),
    "wps": ("application/vnd.ms-works", _OLE),
    "txt": ("text/plain", None),
    "csv": ("text/csv", None),
}


# ---------------------------------------------------------------- rules


def is_admin(user) -> bool:
    return policy.is_super_admin(user) or policy.can(user, "settings.settings")


def can_change_followup(user, followup: FollowUp, *, now: datetime | None = None) -> bool:
    """The author within AUTHOR_EDIT_WINDOW of creating it, or an administrator."""
    if is_admin(user):
        return True
    now = now or timezone.now()
    return followup.author_id == user.pk and now - followup.created_at <= AUTHOR_EDIT_WINDOW


def can_comment(user, followup: FollowUp) -> bool:
    """Who sees the follow-up and holds activities.edit, or a manager above its author."""
    if policy.can(user, "activities.edit"):
        return True
    return followup.author_id in policy.subordinate_ids(user)


def _clean(
    *,
    customer: Customer,
    contact: Contact | None,
    type: DictionaryItem | None,
    content: str,
    followed_at: datetime,
    next_contact_at: datetime | None,
    next_action: str,
    now: datetime,
    next_contact_is_new: bool = True,
) -> str:
    errors: dict[str, list[str]] = {}
    content = (content or "").strip()
    if not content:
        errors.setdefault("content", []).append(_("请填写跟进内容。"))
    elif len(content) > CONTENT_MAX_LENGTH:
        errors.setdefault("content", []).append(
            _("跟进内容不能超过 %(max)s 个字（当前 %(count)s 个）。")
            % {"max": CONTENT_MAX_LENGTH, "count": len(content)}
        )
    if type is None:
        errors.setdefault("type", []).append(_("请选择跟进方式。"))
    elif type.kind != DictionaryItem.Kind.FOLLOWUP_TYPE or not type.is_active:
        errors.setdefault("type", []).append(_("跟进方式无效：请从“跟进方式”字典中选择一个启用的选项。"))
    if contact is not None and contact.customer_id != customer.pk:
        errors.setdefault("contact", []).append(_("所选联系人不属于该客户。"))
    if followed_at is None:
        errors.setdefault("followed_at", []).append(_("请填写跟进时间。"))
    elif followed_at > now + timedelta(minutes=1):  # a minute of clock skew between browser and server
        errors.setdefault("followed_at", []).append(_("跟进时间不能晚于当前时间。"))
    if next_contact_is_new and next_contact_at is not None and next_contact_at <= now:
        errors.setdefault("next_contact_at", []).append(_("下次联系时间必须是将来的时间。"))
    if next_action and next_action not in FollowUp.NextAction.values:
        errors.setdefault("next_action", []).append(_("下次行动无效。"))
    if next_action and next_contact_at is None:
        errors.setdefault("next_contact_at", []).append(_("设置了下次行动时，请填写下次联系时间。"))
    if errors:
        raise ValidationError(errors)
    return content


def _reminder_title(customer: Customer, next_action: str) -> str:
    if next_action:
        return _("%(action)s：%(customer)s") % {
            "action": FollowUp.NextAction(next_action).label,
            "customer": customer.name,
        }
    return _("联系客户：%(customer)s") % {"customer": customer.name}


def _reminder_url(customer: Customer) -> str:
    return f"{reverse('activities:list')}?customer={customer.pk}"


def _schedule_reminder(*, followup: FollowUp) -> Reminder | None:
    if followup.next_contact_at is None:
        return None
    return reminder_create(
        owner=followup.author,
        title=_reminder_title(followup.customer, followup.next_action)[:200],
        remind_at=followup.next_contact_at,
        note=followup.content[:200],
        url=_reminder_url(followup.customer),
    )


def _touch_customer(
    *,
    customer: Customer,
    followed_at: datetime,
    next_contact_at: datetime | None,
    now,
    clear_due: bool = True,
) -> None:
    """One UPDATE: the latest follow-up time never moves backwards (a back-filled record is older);
    the next contact time becomes this follow-up's, or (clear_due) is cleared when already due."""
    values = {
        "last_followup_at": Greatest(Coalesce(F("last_followup_at"), Value(followed_at)), Value(followed_at))
    }
    if next_contact_at is not None:
        values["next_contact_at"] = Value(next_contact_at)
    elif clear_due:
        values["next_contact_at"] = Case(
            When(next_contact_at__lte=now, then=Value(None)),
            default=F("next_contact_at"),
            output_field=DateTimeField(),
        )
    Customer.objects.filter(pk=customer.pk).update(**values)


# ---------------------------------------------------------------- follow-ups


@transaction.atomic
def followup_create(
    *,
    actor,
    customer_id: int,
    type: DictionaryItem | None,
    content: str,
    contact: Contact | None = None,
    followed_at: datetime | None = None,
    next_contact_at: datetime | None = None,
    next_action: str = "",
    files: list[UploadedFile] | tuple = (),
    ip: str | None = None,
) -> FollowUp:
    """Record a follow-up on a customer the actor may see and change (404 otherwise), with its
    attachments; every input (files included) is checked before anything is saved."""
    if not policy.can(actor, "activities.create"):
        raise PermissionRequiredError("activities.create")
    customer = customer_get_for_user(user=actor, customer_id=customer_id, write=True)
    now = timezone.now()
    followed_at = followed_at or now
    content = _clean(
        customer=customer,
        contact=contact,
        type=type,
        content=content,
        followed_at=followed_at,
        next_contact_at=next_contact_at,
        next_action=next_action or "",
        now=now,
    )
    checked = _check_uploads(list(files))
    followup = FollowUp(
        customer=customer,
        contact=contact,
        author=actor,
        type=type,
        content=content,
        followed_at=followed_at,
        next_contact_at=next_contact_at,
        next_action=next_action or "",
        created_at=now,
    )
    followup.save()
    reminder = _schedule_reminder(followup=followup)
    if reminder is not None:
        followup.reminder = reminder
        followup.save(update_fields=["reminder"])
    _touch_customer(customer=customer, followed_at=followed_at, next_contact_at=next_contact_at, now=now)
    stored = [
        _store_attachment(actor=actor, followup=followup, upload=upload, extension=ext, content_type=ctype)
        for upload, ext, ctype in checked
    ]
    log_action(
        actor=actor,
        action="followup.created",
        target=followup,
        changes={
            "customer": customer.name,
            "type": type,
            "content": content[:200],
            "next_contact_at": next_contact_at,
            "attachments": [a.original_name for a in stored],
        },
        ip_address=ip,
    )
    return followup


def _followup_for_change(*, actor, followup: FollowUp, permission: str) -> FollowUp:
    from crm.activities.selectors import followup_get_for_user

    if not policy.can(actor, permission):
        raise PermissionRequiredError(permission)
    # Locked and re-read through the policy: a follow-up the actor cannot see does not exist.
    followup = followup_get_for_user(user=actor, followup_id=followup.pk, lock=True)
    if not can_change_followup(actor, followup):
        raise ValidationError(_("只有跟进人可以在记录后 24 小时内修改或删除跟进记录；超过时限请联系管理员。"))
    return followup


@transaction.atomic
def followup_update(
    *,
    actor,
    followup: FollowUp,
    type: DictionaryItem | None,
    content: str,
    contact: Contact | None,
    followed_at: datetime,
    next_contact_at: datetime | None,
    next_action: str = "",
    ip: str | None = None,
) -> FollowUp:
    followup = _followup_for_change(actor=actor, followup=followup, permission="activities.edit")
    now = timezone.now()
    # An unchanged next contact time may lie in the past by now; only a new one must be ahead.
    next_is_new = next_contact_at != followup.next_contact_at
    content = _clean(
        customer=followup.customer,
        contact=contact,
        type=type,
        content=content,
        followed_at=followed_at,
        next_contact_at=next_contact_at,
        next_action=next_action or "",
        now=now,
        next_contact_is_new=next_is_new,
    )
    before = {
        "type": followup.type,
        "contact": followup.contact,
        "content": followup.content,
        "followed_at": followup.followed_at,
        "next_contact_at": followup.next_contact_at,
        "next_action": followup.next_action,
    }
    after = {
        "type": type,
        "contact": contact,
        "content": content,
        "followed_at": followed_at,
        "next_contact_at": next_contact_at,
        "next_action": next_action or "",
    }
    changes = diff(before, after)
    if not changes:
        return followup
    for field, value in after.items():
        setattr(followup, field, value)
    fields = [*after, "updated_at"]
    if "next_contact_at" in changes or "next_action" in changes:
        if followup.reminder_id:
            Reminder.objects.filter(pk=followup.reminder_id, delivered_at__isnull=True).delete()
        followup.reminder = _schedule_reminder(followup=followup)
        fields.append("reminder")
    followup.save(update_fields=fields)
    _touch_customer(
        customer=followup.customer,
        followed_at=followed_at,
        next_contact_at=next_contact_at if next_is_new else None,
        now=now,
        clear_due=False,
    )
    log_action(actor=actor, action="followup.updated", target=followup, changes=changes, ip_address=ip)
    return followup


@transaction.atomic
def followup_delete(*, actor, followup: FollowUp, ip: str | None = None) -> None:
    followup = _followup_for_change(actor=actor, followup=followup, permission="activities.delete")
    if followup.reminder_id:
        Reminder.objects.filter(pk=followup.reminder_id, delivered_at__isnull=True).delete()
    files = [a.file.name for a in followup.attachments.all()]
    log_action(
        actor=actor,
        action="followup.deleted",
        target=followup,
        changes={"customer": followup.customer.name, "content": followup.content[:200]},
        ip_address=ip,
    )
    followup.delete()
    if files:
        from django.core.files.storage import default_storage

        transaction.on_commit(lambda: [default_storage.delete(name) for name in files])


# ---------------------------------------------------------------- comments


@transaction.atomic
def comment_create(*, actor, followup: FollowUp, content: str, ip: str | None = None) -> FollowUpComment:
    """A remark (点评) on a visible follow-up; the follow-up's author gets a message."""
    from crm.activities.selectors import followup_get_for_user

    followup = followup_get_for_user(user=actor, followup_id=followup.pk)
    if not can_comment(actor, followup):
        raise PermissionRequiredError("activities.edit")
    content = (content or "").strip()
    if not content:
        raise ValidationError({"content": [_("请填写点评内容。")]})
    if len(content) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {"content": [_("点评内容不能超过 %(max)s 个字。") % {"max": COMMENT_MAX_LENGTH}]}
        )
    comment = FollowUpComment.objects.create(followup=followup, author=actor, content=content)
    log_action(
        actor=actor,
        action="followup.commented",
        target=followup,
        changes={"comment": content[:200]},
        ip_address=ip,
    )
    if followup.author_id != actor.pk:
        notification_send(
            recipient=followup.author,
            title=_("%(name)s 点评了您对“%(customer)s”的跟进")
            % {
                "name": getattr(actor, "display_name", None) or str(actor),
                "customer": followup.customer.name,
            },
            body=content[:500],
            url=reverse("activities:detail", args=[followup.pk]),
        )
    return comment


# ---------------------------------------------------------------- attachments


def _check_upload(upload: UploadedFile) -> tuple[str, str]:
    name = PurePath(upload.name or "").name
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = ", ".join(sorted(ATTACHMENT_TYPES))
    if extension not in ATTACHMENT_TYPES:
        raise ValidationError(
            {
                "file": [
                    _("不支持的文件类型“%(name)s”。允许的类型：%(allowed)s。")
                    % {"name": name, "allowed": allowed}
                ]
            }
        )
    if upload.size is None or upload.size > ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": [_("文件“%(name)s”超过 10 MB，无法上传。") % {"name": name}]})
    if upload.size == 0:
        raise ValidationError({"file": [_("文件“%(name)s”是空文件。") % {"name": name}]})
    content_type, signatures = ATTACHMENT_TYPES[extension]
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    ok = b"\x00" not in head if signatures is None else any(head.startswith(sig) for sig in signatures)
    if ok and extension == "webp":
        ok = head[8:12] == b"WEBP"
    if not ok:
        raise ValidationError(
            {"file": [_("文件“%(name)s”的内容与扩展名不符，已拒绝上传。") % {"name": name}]}
        )
    return extension, content_type


def _store_attachment(
    *, actor, followup: FollowUp, upload: UploadedFile, extension: str, content_type: str
) -> FollowUpAttachment:
    original = PurePath(upload.name).name[:255]
    attachment = FollowUpAttachment(
        followup=followup,
        original_name=original,
        size=upload.size,
        content_type=content_type,
        uploaded_by=actor,
    )
    # Stored under a random name: the user's file name never reaches the file system.
    attachment.file.save(f"{uuid.uuid4().hex}.{extension}", upload, save=False)
    stored = attachment.file.name
    try:
        attachment.save()
    except Exception:
        attachment.file.storage.delete(stored)
        raise
    return attachment


def _check_uploads(uploads, *, already: int = 0) -> list[tuple[UploadedFile, str, str]]:
    if already + len(uploads) > MAX_ATTACHMENTS_PER_FOLLOWUP:
        raise ValidationError(
            {"file": [_("每条跟进最多 %(max)s 个附件。") % {"max": MAX_ATTACHMENTS_PER_FOLLOWUP}]}
        )
    return [(upload, *_check_upload(upload)) for upload in uploads]


@transaction.atomic
def attachment_add(
    *, actor, followup: FollowUp, upload: UploadedFile, ip: str | None = None
) -> FollowUpAttachment:
    """Attach a file (≤10 MB, allow-listed type, content checked) to a follow-up the actor may change."""
    followup = _followup_for_change(actor=actor, followup=followup, permission="activities.edit")
    [(upload, extension, content_type)] = _check_uploads([upload], already=followup.attachments.count())
    attachment = _store_attachment(
        actor=actor, followup=followup, upload=upload, extension=extension, content_type=content_type
    )
    log_action(
        actor=actor,
        action="followup.attachment_added",
        target=followup,
        changes={"file": attachment.original_name, "size": attachment.size},
        ip_address=ip,
    )
    return attachment


# ---------------------------------------------------------------- templates


def _clean_template(*, title: str, content: str, type: DictionaryItem | None) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    content = (content or "").strip()
    if not title:
        errors["title"] = [_("请填写模板名称。")]
    elif len(title) > 100:
        errors["title"] = [_("模板名称不能超过 100 个字。")]
    if not content:
        errors["content"] = [_("请填写模板内容。")]
    elif len(content) > CONTENT_MAX_LENGTH:
        errors["content"] = [_("模板内容不能超过 %(max)s 个字。") % {"max": CONTENT_MAX_LENGTH}]
    if type is not None and (type.kind != DictionaryItem.Kind.FOLLOWUP_TYPE or not type.is_active):
        errors["type"] = [_("跟进方式无效：请从“跟进方式”字典中选择一个启用的选项。")]
    if errors:
        raise ValidationError(errors)
    return title, content


@transaction.atomic
def template_create(
    *,
    actor,
    title: str,
    content: str,
    type: DictionaryItem | None = None,
    is_shared: bool = False,
    ip: str | None = None,
) -> FollowUpTemplate:
    if not policy.can(actor, "activities.create"):
        raise PermissionRequiredError("activities.create")
    title, content = _clean_template(title=title, content=content, type=type)
    template = FollowUpTemplate.objects.create(
        title=title, content=content, type=type, owner=actor, is_shared=is_shared
    )
    log_action(
        actor=actor,
        action="followup_template.created",
        target=template,
        changes={"title": title, "is_shared": is_shared},
        ip_address=ip,
    )
    return template


def _template_for_change(*, actor, template: FollowUpTemplate) -> FollowUpTemplate:
    from crm.activities.selectors import template_get_for_user

    template = template_get_for_user(user=actor, template_id=template.pk)
    if template.owner_id != actor.pk and not is_admin(actor):
        raise ValidationError(_("只有模板的创建人或管理员可以修改或删除该模板。"))
    return template


@transaction.atomic
def template_update(
    *,
    actor,
    template: FollowUpTemplate,
    title: str,
    content: str,
    type: DictionaryItem | None,
    is_shared: bool,
    ip: str | None = None,
) -> FollowUpTemplate:
    template = _template_for_change(actor=actor, template=template)
    title, content = _clean_template(title=title, content=content, type=type)
    before = {
        "title": template.title,
        "content": template.content,
        "type": template.type,
        "is_shared": template.is_shared,
    }
    after = {"title": title, "content": content, "type": type, "is_shared": is_shared}
    changes = diff(before, after)
    if changes:
        for field, value in after.items():
            setattr(template, field, value)
        template.save(update_fields=[*after, "updated_at"])
        log_action(
            actor=actor, action="followup_template.updated", target=template, changes=changes, ip_address=ip
        )
    return template


@transaction.atomic
def template_delete(*, actor, template: FollowUpTemplate, ip: str | None = None) -> None:
    template = _template_for_change(actor=actor, template=template)
    log_action(
        actor=actor,
        action="followup_template.deleted",
        target=template,
        changes={"title": template.title},
        ip_address=ip,
    )
    template.delete()


LINK_FIELDS = ("opportunity", "contract")  # FollowUp foreign keys to records of a customer


@transaction.atomic
def followup_create_linked(*, actor, document, link_field: str, **values) -> FollowUp:
    """A follow-up on `document`'s customer (the same rules as on the customer page) that also
    links to `document` (an opportunity or a contract the caller already fetched through its
    visibility selector)."""
    if link_field not in LINK_FIELDS:
        raise ValueError(link_field)
    followup = followup_create(actor=actor, customer_id=document.customer_id, **values)
    FollowUp.objects.filter(pk=followup.pk).update(**{link_field: document})
    setattr(followup, link_field, document)
    return followup
