"""Background jobs of receivables. Jobs are thin: they call services."""

from huey.contrib.djhuey import db_periodic_task

from crm.customers.tasks import daily_at_local_hour
from crm.receivables import services

REMINDER_HOUR = 8  # local time: owners read their payment reminders in the morning


@db_periodic_task(daily_at_local_hour(REMINDER_HOUR))
def remind_payment_plans() -> tuple[int, int]:
    """Daily at 08:00: plans coming due and overdue plans are notified to the contract owner once."""
    return services.plans_remind()
