"""Time the foundation's pages and API lists at scale, and count their SQL queries.

Usage (a database of its own; it is filled with generated rows):
    createdb -h 127.0.0.1 -U postgres crm_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench .venv/bin/python bench/org_pages.py \
        [--users 20000] [--logs 1000000] [--messages 100000]

Prints, per page: median and p95 wall time over 15 requests, and the number of SQL queries.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from crm.accounts.models import Department, Role, User  # noqa: E402
from crm.audit.models import OperationLog  # noqa: E402
from crm.messaging.models import Notification  # noqa: E402


def fill(users: int, logs: int, messages: int) -> None:
    if User.objects.filter(username="bench0").exists():
        print("data already generated")
        return
    call_command("seed_demo")
    root = Department.objects.get(parent__isnull=True)
    departments = []
    for region in range(10):
        region_dept = Department.objects.create(name=f"大区{region}", parent=root)
        region_dept.path = f"{root.path}{region_dept.pk}/"
        region_dept.save(update_fields=["path"])
        for team in range(20):
            dept = Department.objects.create(name=f"大区{region}-组{team}", parent=region_dept)
            dept.path = f"{region_dept.path}{dept.pk}/"
            dept.save(update_fields=["path"])
            departments.append(dept)
    password = User.objects.get(username="admin").password
    batch = [
        User(
            username=f"bench{i}",
            name=f"员工{i}",
            email=f"bench{i}@example.com",
            password=password,
            department=departments[i % len(departments)],
        )
        for i in range(users)
    ]
    User.objects.bulk_create(batch, batch_size=5000)
    sales = Role.objects.get(code="sales")
    ids = list(User.objects.filter(username__startswith="bench").values_list("pk", flat=True))
    User.roles.through.objects.bulk_create(
        [User.roles.through(user_id=i, role_id=sales.pk) for i in ids], batch_size=5000
    )
    admin = User.objects.get(username="admin")
    for start in range(0, logs, 50000):
        OperationLog.objects.bulk_create(
            [
                OperationLog(
                    actor_id=ids[i % len(ids)],
                    action="user.updated",
                    target_repr=f"员工{i}",
                    changes={"name": ["a", "b"]},
                )
                for i in range(start, min(logs, start + 50000))
            ],
            batch_size=10000,
        )
    Notification.objects.bulk_create(
        [Notification(recipient=admin, title=f"消息{i}") for i in range(messages)], batch_size=10000
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")


def measure(client: Client, url: str, runs: int = 15) -> tuple[float, float, int]:
    client.get(url)  # warm
    times = []
    queries = []
    # Count with an execute wrapper: Django resets connection.queries at every request start.
    with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)):
        client.get(url)
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--logs", type=int, default=1000000)
    parser.add_argument("--messages", type=int, default=100000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    fill(args.users, args.logs, args.messages)
    print(
        f"data ready in {time.perf_counter() - started:.0f}s: {User.objects.count()} users, "
        f"{OperationLog.objects.count()} log rows, {Notification.objects.count()} messages "
        f"on {connection.vendor}"
    )
    pages = [
        "/",
        "/org/users/",
        "/org/users/?page=300",
        "/org/users/?q=员工1999",
        "/org/departments/",
        "/org/roles/",
        "/audit/",
        "/audit/?actor=bench7",
        "/messages/",
        "/messages/bell/",
        "/search/?q=bench19",
        "/api/v1/users/",
        "/api/v1/departments/",
    ]
    for username in ("admin", "manager"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        print(f"\nas {username}:")
        print(f"{'page':32} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        for url in pages:
            if username == "manager" and url.startswith(("/audit", "/org/roles")):
                continue
            median, p95, queries = measure(client, url)
            print(f"{url:32} {median:10.1f} {p95:8.1f} {queries:8d}")


if __name__ == "__main__":
    main()
