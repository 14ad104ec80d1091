"""Background jobs of quotes. Jobs are thin: they call services."""

from huey.contrib.djhuey import db_periodic_task

from crm.customers.tasks import daily_at_local_hour
from crm.quotes import services

EXPIRY_HOUR = 1  # local time: quotes past their validity expire overnight


@db_periodic_task(daily_at_local_hour(EXPIRY_HOUR))
def expire_quotes() -> int:
    """Daily at 01:00: drafts and sent quotes past their validity become 已过期; returns how many."""
    return services.quotes_expire()
