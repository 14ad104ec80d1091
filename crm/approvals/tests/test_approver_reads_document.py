"""The one rule that lets an approver read the document under approval (approval_grants_read): a
task on a request for that document, any round and any status, and nothing else. The pages built on
it are tested beside the documents (crm/contracts/tests/test_approver_reads_contract.py,
crm/receivables/tests/test_approver_reads_receivable.py)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from crm.accounts.models import Department, User
from crm.approvals import selectors, services
from crm.approvals.models import ApprovalTask
from crm.approvals.tests.conftest import KIND, manager_step, user_step

pytestmark = pytest.mark.django_db


def test_approvers_of_every_step_and_status_may_read_others_may_not(users, docs, make_flow):
    make_flow([manager_step("经理审批"), user_step(users["finance"], "财务审批")])
    document = docs.make()
    request = services.submit(actor=users["sales1"], document=document, kind=KIND)
    # Only the first step has a task yet: the finance approver has none.
    assert selectors.approval_grants_read(users["manager"], document)
    assert not selectors.approval_grants_read(users["finance"], document)
    services.approve(actor=users["manager"], task=request.tasks.get(), comment="同意")
    services.reject(actor=users["finance"], task=request.tasks.get(approver=users["finance"]), comment="不行")
    # Decided (approved, rejected) tasks of a finished request still grant the read.
    for who in ("manager", "finance"):
        assert selectors.approval_grants_read(users[who], document)
    # The applicant has no task (the document's own policy answers for them); strangers have none.
    for who in ("sales1", "sales2", "norole", "admin"):
        assert not selectors.approval_grants_read(users[who], document)


def test_skipped_and_earlier_round_tasks_grant_the_read(users, docs, make_flow):
    make_flow([user_step(users["finance"], "财务审批"), manager_step("经理审批")])
    document = docs.make()
    request = services.submit(actor=users["sales1"], document=document, kind=KIND)
    services.withdraw(actor=users["sales1"], request=request)
    task = ApprovalTask.objects.get(approver=users["finance"])
    assert task.status == ApprovalTask.Status.SKIPPED
    assert selectors.approval_grants_read(users["finance"], document)


def test_the_grant_is_for_that_document_only(users, docs, make_flow):
    make_flow([manager_step()])
    document = docs.make()
    other = docs.make()
    services.submit(actor=users["sales1"], document=document, kind=KIND)
    assert not selectors.approval_grants_read(users["manager"], other)
    # Same primary key, another model: no grant either.
    assert not selectors.approval_grants_read_of(users["manager"], User, document.pk)
    assert selectors.approval_grants_read_of(users["manager"], Department, document.pk)


def test_inactive_or_anonymous_users_get_nothing(users, docs, make_flow):
    from django.contrib.auth.models import AnonymousUser

    make_flow([manager_step()])
    document = docs.make()
    services.submit(actor=users["sales1"], document=document, kind=KIND)
    assert not selectors.approval_grants_read(AnonymousUser(), document)
    manager = users["manager"]
    manager.is_active = False
    assert not selectors.approval_grants_read(manager, document)
    assert not selectors.approval_grants_read(manager, None)


def test_the_check_is_one_query(users, docs, make_flow):
    make_flow([manager_step()])
    document = docs.make()
    services.submit(actor=users["sales1"], document=document, kind=KIND)
    selectors.approval_grants_read(users["sales2"], document)  # warm the content-type cache
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.approval_grants_read(users["manager"], document)
    assert len(ctx.captured_queries) == 1


def test_refusal_is_403_without_the_view_permission_else_404(users, docs, make_flow):
    make_flow([manager_step()])
    document = docs.make()
    services.submit(actor=users["sales1"], document=document, kind=KIND)
    selectors.approval_read_or_refuse(
        users["manager"], model=Department, object_id=document.pk, permission="contracts.view"
    )
    with pytest.raises(Http404):
        selectors.approval_read_or_refuse(
            users["sales2"], model=Department, object_id=document.pk, permission="contracts.view"
        )
    with pytest.raises(PermissionDenied):
        selectors.approval_read_or_refuse(
            users["norole"], model=Department, object_id=document.pk, permission="contracts.view"
        )
