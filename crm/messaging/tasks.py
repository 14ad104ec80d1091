"""Background jobs of the message centre. Jobs are thin: they take ids and call services."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from crm.messaging import services


@db_task(retries=3, retry_delay=60)
def email_notification(notification_id: int) -> bool:
    return services.notification_email(notification_id=notification_id)


@db_periodic_task(crontab(minute="*"))
def deliver_due_reminders() -> int:
    return services.reminders_deliver_due()
