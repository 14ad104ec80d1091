"""Concurrent writers on PostgreSQL with real threads, each on its own connection: the contract row
lock keeps the received amount within the contract total.

SQLite serialises writers, so these tests prove nothing there and are skipped; run them with
DATABASE_URL pointing at PostgreSQL.
"""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from crm.accounts.models import User
from crm.approvals import services as approvals
from crm.approvals.models import ApprovalTask
from crm.contracts.models import Contract
from crm.receivables import services
from crm.receivables.models import Receivable
from crm.receivables.tests.conftest import pending_task

# Skipped at collection on SQLite (SQLite serialises writers: nothing to race). No serialized
# rollback: conftest restores the data-migration rows after each flush.
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def run_at_once(jobs):
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


def test_concurrent_approvals_cannot_pass_the_contract_total(users, make_contract, flow):
    """Two receivables of 6000 on a 10000 contract, both in approval (the engine does not look at
    amounts), approved at the same moment: exactly one is booked, the other approval is refused."""
    contract = make_contract(total="10000")
    receivables = []
    for _ in range(2):
        receivable = Receivable.objects.create(
            code=f"HK-C{len(receivables)}",
            contract=contract,
            customer=contract.customer,
            owner=contract.owner,
            amount=Decimal("6000"),
            received_on=contract.signed_on,
        )
        approvals.submit(actor=users["sales1"], document=receivable, kind="receivable")
        receivables.append(receivable)
    assert set(Receivable.objects.values_list("status", flat=True)) == {"pending"}
    tasks = [pending_task(receivable).pk for receivable in receivables]

    def approve(task_id):
        def job():
            task = ApprovalTask.objects.get(pk=task_id)
            return approvals.approve(actor=User.objects.get(pk=users["finance"].pk), task=task).pk

        return job

    results = run_at_once([approve(task_id) for task_id in tasks])

    kinds = sorted(kind for kind, _detail in results)
    assert kinds == ["ok", "refused"], results
    assert any("未回款金额 ¥4000.00" in detail for kind, detail in results if kind == "refused")
    contract.refresh_from_db()
    assert contract.received_amount == Decimal("6000.00")
    assert sorted(Receivable.objects.values_list("status", flat=True)) == ["approved", "pending"]


def test_concurrent_registrations_cannot_pass_the_outstanding(users, make_contract):
    contract = make_contract(total="10000")

    def register():
        actor = User.objects.get(pk=users["sales1"].pk)
        fresh = Contract.objects.get(pk=contract.pk)
        return services.receivable_create(actor=actor, contract=fresh, values={"amount": "6000"}).pk

    results = run_at_once([register for _ in range(4)])

    kinds = sorted(kind for kind, _detail in results)
    assert kinds == ["ok", "refused", "refused", "refused"], results
    assert Receivable.objects.count() == 1
