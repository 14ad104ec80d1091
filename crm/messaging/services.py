"""Message centre writes: notify someone, mark read, deliver due reminders."""

from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.messaging.models import Notification, Reminder

DELIVERY_BATCH = 1000


def notification_send(
    *,
    recipient,
    title: str,
    body: str = "",
    url: str = "",
    kind: str = Notification.Kind.SYSTEM,
    email: bool = False,
) -> Notification:
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, title=title, body=body, url=url
    )
    if email and recipient.email:
        from crm.messaging.tasks import email_notification

        transaction.on_commit(lambda: email_notification(notification.pk))
    return notification


def notification_email(*, notification_id: int) -> bool:
    notification = Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    if notification is None or not notification.recipient.email:
        return False
    send_mail(
        subject=f"[{settings.CRM_SITE_NAME}] {notification.title}",
        message=notification.body or notification.title,
        from_email=None,
        recipient_list=[notification.recipient.email],
    )
    return True


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's messages read: the given ids, or all of them. One UPDATE."""
    qs = Notification.objects.filter(recipient=user, is_read=False)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(is_read=True, read_at=timezone.now())


@transaction.atomic
def reminder_create(
    *, owner, title: str, remind_at: datetime, note: str = "", url: str = "", send_email: bool = False
) -> Reminder:
    return Reminder.objects.create(
        owner=owner, title=title, remind_at=remind_at, note=note, url=url, send_email=send_email
    )


def reminders_deliver_due(*, now: datetime | None = None) -> int:
    """Turn every due, undelivered reminder into a message; return how many were delivered.

    Rows are claimed with a conditional UPDATE (delivered_at IS NULL), so two workers running at
    once never deliver the same reminder twice. Work goes in batches to keep transactions short.
    """
    now = now or timezone.now()
    delivered = 0
    while True:
        with transaction.atomic():
            batch_ids = list(
                Reminder.objects.filter(delivered_at__isnull=True, remind_at__lte=now)
                .order_by("remind_at", "pk")
                .values_list("pk", flat=True)[:DELIVERY_BATCH]
            )
            if not batch_ids:
                return delivered
            # Claim with a conditional UPDATE stamped with this run's own time, then read back
            # exactly the rows this run claimed (a concurrent worker's rows carry its stamp).
            stamp = timezone.now()
            Reminder.objects.filter(pk__in=batch_ids, delivered_at__isnull=True).update(delivered_at=stamp)
            reminders = list(
                Reminder.objects.filter(pk__in=batch_ids, delivered_at=stamp).select_related("owner")
            )
            notifications = Notification.objects.bulk_create(
                Notification(
                    recipient=r.owner,
                    kind=Notification.Kind.REMINDER,
                    title=r.title,
                    body=r.note
                    or _("提醒时间：%(time)s")
                    % {"time": timezone.localtime(r.remind_at).strftime("%Y-%m-%d %H:%M")},
                    url=r.url,
                )
                for r in reminders
            )
            delivered += len(reminders)
            to_email = [
                n.pk
                for n, r in zip(notifications, reminders, strict=True)
                if r.send_email and r.owner.email and n.pk
            ]
            if to_email:
                from crm.messaging.tasks import email_notification

                transaction.on_commit(lambda ids=to_email: [email_notification(i) for i in ids])
