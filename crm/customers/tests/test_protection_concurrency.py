"""The protection limit under real concurrency (CUS-9): threads on PostgreSQL, one connection each.

SQLite serialises writers, so these tests are skipped there; run them with DATABASE_URL pointing
at PostgreSQL.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from crm.accounts.models import User
from crm.customers.models import Customer
from crm.customers.protection import customer_protect
from crm.customers.tests.test_duplicates import make, set_policy

# Skipped at collection on SQLite (SQLite serialises writers: nothing to race). No serialized
# rollback: conftest restores the data-migration rows after each flush.
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_concurrent_protections_never_exceed_the_owners_limit(users):
    set_policy(protect_max_count=3)
    ids = [make(users["sales1"], f"并发客户{i}号公司").pk for i in range(10)]
    barrier = threading.Barrier(len(ids))
    results: list[str] = []

    def worker(customer_id):
        try:
            actor = User.objects.get(pk=users["sales1"].pk)
            customer = Customer.objects.get(pk=customer_id)
            barrier.wait(timeout=30)
            customer_protect(actor=actor, customer=customer, days=5)
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(pk,)) for pk in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(results) == ["ok"] * 3 + ["refused"] * 7
    assert Customer.objects.filter(protected_until__gt=timezone.now()).count() == 3
