"""Webhook jobs. Thin: they take ids and call services."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from crm.webhooks import services


@db_task()
def deliver_webhook(delivery_id: int) -> str | None:
    delivery = services.delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery else None


@db_periodic_task(crontab(minute="*"))
def retry_due_webhooks() -> int:
    """Every minute: send the deliveries whose back-off has passed (and any pending one a worker lost)."""
    return services.deliveries_retry_due()
