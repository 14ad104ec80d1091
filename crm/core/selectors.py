"""The home page figures (ORG-7): what the user's data scope covers. Modules add their cards."""

from datetime import timedelta

from django.utils import timezone

from crm.access import policy
from crm.audit.models import OperationLog
from crm.messaging.models import Notification, Reminder


def home_figures(*, user) -> dict:
    now = timezone.now()
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    team = policy.visible_users(user).filter(is_active=True)
    return {
        "team_size": team.count(),
        "unread_count": Notification.objects.filter(recipient=user, is_read=False).count(),
        "reminders_today": Reminder.objects.filter(
            owner=user, remind_at__gte=start_of_day, remind_at__lt=start_of_day + timedelta(days=1)
        ).count(),
        "upcoming_reminders": list(
            Reminder.objects.filter(owner=user, delivered_at__isnull=True, remind_at__gte=now)[:5]
        ),
        "recent_messages": list(Notification.objects.filter(recipient=user)[:5]),
        "my_recent_actions": list(OperationLog.objects.filter(actor=user)[:8]),
    }
