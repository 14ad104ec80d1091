"""Concurrent decisions on PostgreSQL with real threads, each on its own connection.

SQLite serialises writers, so these tests prove nothing there and are skipped; run them with
DATABASE_URL pointing at PostgreSQL.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from crm.accounts.models import User
from crm.accounts.tests.factories import UserFactory
from crm.approvals import services
from crm.approvals.models import ApprovalRequest, ApprovalTask
from crm.approvals.tests.conftest import KIND, role_step, user_step
from crm.audit.models import OperationLog
from crm.messaging.models import Notification

THREADS = 12

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


def approve_job(user_id, task_id):
    def job():
        actor = User.objects.get(pk=user_id)
        task = ApprovalTask.objects.get(pk=task_id)
        return services.approve(actor=actor, task=task).pk

    return job


def test_the_same_one_vote_task_approved_by_many_threads_counts_once(users, docs, make_flow):
    make_flow([user_step(users["finance"], "财务审批")])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    task = request.tasks.get()

    results = run_at_once([approve_job(users["finance"].pk, task.pk) for _ in range(THREADS)])

    kinds = [kind for kind, _detail in results]
    assert kinds.count("ok") == 1, results
    assert kinds.count("refused") == THREADS - 1, results
    assert all("该审批任务已处理" in detail for kind, detail in results if kind == "refused")
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.APPROVED
    assert OperationLog.objects.filter(action="approval.approved", target_id=str(request.pk)).count() == 1
    assert OperationLog.objects.filter(action="approval.completed", target_id=str(request.pk)).count() == 1
    assert docs.approved == [int(request.object_id)]
    assert Notification.objects.filter(recipient=users["sales1"], title__startswith="审批已通过").count() == 1


def test_a_role_of_many_approving_a_one_vote_step_at_once_records_one_decision(users, docs, make_flow, org):
    approvers = [
        UserFactory(username=f"fin{i}", department=org["finance"], roles=["finance"])
        for i in range(THREADS - 1)
    ]
    make_flow([role_step("finance", "财务审批"), user_step(users["administrator"], "备案")])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    tasks = list(request.tasks.select_related("approver"))
    assert len(tasks) == THREADS  # users["finance"] and the eleven others

    results = run_at_once([approve_job(t.approver_id, t.pk) for t in tasks])

    kinds = [kind for kind, _detail in results]
    assert kinds.count("ok") == 1, results
    assert kinds.count("refused") == THREADS - 1, results
    statuses = sorted(
        ApprovalTask.objects.filter(step_order=1, request=request).values_list("status", flat=True)
    )
    assert statuses.count("approved") == 1 and statuses.count("skipped") == THREADS - 1
    request.refresh_from_db()
    assert request.current_step.name == "备案"
    # the next step was opened exactly once
    assert ApprovalTask.objects.filter(request=request, step_order=2).count() == 1
    assert Notification.objects.filter(recipient=users["administrator"]).count() == 1
    assert len(approvers) == THREADS - 1


def test_all_must_approve_step_advances_exactly_once(users, docs, make_flow, org):
    for i in range(THREADS - 1):
        UserFactory(username=f"cosign{i}", department=org["finance"], roles=["finance"])
    make_flow([role_step("finance", "会签", mode="all"), user_step(users["administrator"], "备案")])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    tasks = list(request.tasks.all())

    results = run_at_once([approve_job(t.approver_id, t.pk) for t in tasks])

    assert [kind for kind, _ in results].count("ok") == THREADS, results
    assert ApprovalTask.objects.filter(request=request, step_order=1, status="approved").count() == THREADS
    assert ApprovalTask.objects.filter(request=request, step_order=2).count() == 1
