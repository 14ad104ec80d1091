"""Claims under real concurrency (POOL-3): threads on PostgreSQL, each with its own connection.

SQLite serialises writers (one write transaction at a time), so these tests prove nothing there
and are skipped; run them with DATABASE_URL pointing at PostgreSQL.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from crm.accounts.models import User
from crm.accounts.tests.factories import UserFactory
from crm.audit.models import OperationLog
from crm.customers import pool_services
from crm.customers.models import Customer
from crm.customers.tests.pool_factories import public_customer, public_customers, set_limits

THREADS = 20

# Skipped at collection on SQLite (SQLite serialises writers: nothing to race). No serialized
# rollback: conftest restores the data-migration rows after each flush.
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def run_at_once(jobs):
    """Run the callables in threads released together; return ("ok"|"refused"|"error", detail)."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait(timeout=30)
            results[index] = ("ok", job())
        except ValidationError as exc:
            results[index] = ("refused", " ".join(exc.messages))
        except Exception as exc:  # noqa: BLE001 - reported and asserted on below
            results[index] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def claim_job(user_id, customer_id):
    def job():
        actor = User.objects.get(pk=user_id)  # each thread its own user object and connection
        customer = Customer.objects.get(pk=customer_id)
        return pool_services.pool_claim(actor=actor, customer=customer).owner_id

    return job


def test_twenty_people_claiming_the_same_customer_exactly_one_wins(users, org):
    customer = public_customer(users["admin"])
    claimants = [
        UserFactory(username=f"rush{i}", department=org["south"], roles=["sales"]) for i in range(THREADS)
    ]

    results = run_at_once([claim_job(user.pk, customer.pk) for user in claimants])

    kinds = [kind for kind, _detail in results]
    assert kinds.count("ok") == 1, results
    assert kinds.count("refused") == THREADS - 1, results
    assert all("该客户已被其他人领取" in detail for kind, detail in results if kind == "refused")
    winner = next(detail for kind, detail in results if kind == "ok")
    customer.refresh_from_db()
    assert customer.owner_id == winner
    assert OperationLog.objects.filter(action="pool.claimed", target_id=str(customer.pk)).count() == 1


@pytest.mark.parametrize(
    "limit, message",
    [
        ({"max_claims_per_day": 5}, "已达到每天最多 5 个的上限"),
        ({"max_owned": 5}, "已达到每人最多 5 个的上限"),
    ],
)
def test_a_user_claiming_in_parallel_never_exceeds_the_limit(users, limit, message):
    set_limits(**limit)
    customers = public_customers(users["admin"], THREADS)
    claimant = users["sales1"]

    results = run_at_once([claim_job(claimant.pk, customer.pk) for customer in customers])

    kinds = [kind for kind, _detail in results]
    assert kinds.count("ok") == 5, results
    assert kinds.count("refused") == THREADS - 5, results
    assert all(message in detail for kind, detail in results if kind == "refused")
    assert Customer.objects.filter(owner=claimant).count() == 5
    assert OperationLog.objects.filter(action="pool.claimed", actor=claimant).count() == 5
