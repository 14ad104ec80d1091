"""Background jobs of customers. Jobs are thin: they call services."""

from datetime import UTC, datetime

from django.utils import timezone
from huey.contrib.djhuey import HUEY, db_periodic_task

from crm.customers import protection, recycle

REMINDER_HOUR = 8  # local time (settings.TIME_ZONE, Asia/Shanghai by default)
RECYCLE_HOUR = 2  # local time: the nightly recycle run, before people start work


def daily_at_local_hour(hour: int):
    """A huey schedule: every day at hour:00 in Django's time zone.

    huey's own crontab compares against UTC (huey's default `utc=True`), which would send an
    "08:00" reminder at 16:00 in China; this converts the consumer's clock first."""

    def validate(timestamp: datetime) -> bool:
        moment = timestamp.replace(tzinfo=UTC) if HUEY.utc else timestamp.astimezone()
        local = timezone.localtime(moment)
        return local.hour == hour and local.minute == 0

    return validate


@db_periodic_task(daily_at_local_hour(REMINDER_HOUR))
def remind_protection_lapses() -> int:
    """Daily at 08:00: tell owners whose customer protection lapses soon (CUS-9); once per lapse."""
    return protection.protection_reminders_send()


@db_periodic_task(daily_at_local_hour(RECYCLE_HOUR))
def run_recycle_rules() -> int:
    """Daily at 02:00: apply every active recycle rule (POOL-4); returns how many were recycled."""
    return sum(recycle.recycle_run().values())


@db_periodic_task(daily_at_local_hour(REMINDER_HOUR))
def warn_recycle_due() -> int:
    """Daily at 08:00: warn owners whose customers a rule will recycle soon (CUS-13); once."""
    return recycle.recycle_warnings_send()
