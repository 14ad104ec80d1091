"""The cached set of subscribed events is dropped whenever an endpoint changes, however it changes."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from crm.webhooks.dispatch import invalidate_subscriptions
from crm.webhooks.models import WebhookEndpoint


@receiver(post_save, sender=WebhookEndpoint, dispatch_uid="webhooks_endpoint_saved")
@receiver(post_delete, sender=WebhookEndpoint, dispatch_uid="webhooks_endpoint_deleted")
def _endpoint_changed(**kwargs) -> None:
    invalidate_subscriptions()
    # Again after commit: a request that refilled the cache meanwhile saw the old rows.
    transaction.on_commit(invalidate_subscriptions)
