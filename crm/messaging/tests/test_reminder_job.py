"""The periodic job that delivers due reminders: in Huey's immediate mode, and through Redis."""

import os
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from crm.messaging import services, tasks
from crm.messaging.models import Notification, Reminder


def make_reminders(user):
    now = timezone.now()
    due = [
        Reminder.objects.create(owner=user, title=f"到期{i}", remind_at=now - timedelta(minutes=i))
        for i in range(3)
    ]
    later = Reminder.objects.create(owner=user, title="明天", remind_at=now + timedelta(days=1))
    return due, later


def test_periodic_job_is_scheduled_every_minute():
    periodic = tasks.deliver_due_reminders.task_class()
    start = timezone.now().replace(second=0, microsecond=0)
    assert all(periodic.validate_datetime(start + timedelta(minutes=m)) for m in range(0, 120, 7))


def test_job_in_immediate_mode_delivers_due_reminders_once(users):
    from huey.contrib.djhuey import HUEY

    due, later = make_reminders(users["sales1"])
    HUEY.immediate = True
    try:
        tasks.deliver_due_reminders()  # periodic tasks keep no result: check what they did
        tasks.deliver_due_reminders()
    finally:
        HUEY.immediate = False
    assert Notification.objects.filter(kind="reminder").count() == 3
    titles = set(
        Notification.objects.filter(recipient=users["sales1"], kind="reminder").values_list(
            "title", flat=True
        )
    )
    assert titles == {"到期0", "到期1", "到期2"}
    later.refresh_from_db()
    assert later.delivered_at is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_never_duplicate(users):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL; SQLite serialises writes")
    for i in range(200):
        Reminder.objects.create(owner=users["sales1"], title=f"r{i}", remind_at=timezone.now())
    results = []

    def worker():
        results.append(services.reminders_deliver_due())
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 200
    assert Notification.objects.filter(kind="reminder").count() == 200


@pytest.mark.redis
def test_job_runs_through_redis(users):
    """Enqueue the job on a real Redis-backed Huey and let a worker dequeue and execute it."""
    from huey import RedisHuey

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    huey = RedisHuey(f"crm-test-{os.getpid()}", url=url)
    huey.flush()
    job = huey.task()(lambda: services.reminders_deliver_due())
    due, _later = make_reminders(users["sales2"])
    result = job()
    assert huey.pending_count() == 1
    task = huey.dequeue()
    huey.execute(task)
    assert result.get() == 3
    assert Notification.objects.filter(recipient=users["sales2"], kind="reminder").count() == 3
    huey.flush()
