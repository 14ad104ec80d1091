"""An approver outside the receivable's scope (or without receivables.view) opens "查看单据" from the
request page: the receivable reads, with no action on it, before and after the decision; writes
still answer 404/403 and change nothing; a user with no task still gets 404."""

import re

import pytest
from django.urls import reverse

from crm.access import policy
from crm.accounts.models import Role
from crm.approvals import services as approvals
from crm.approvals.models import ApprovalRequest
from crm.audit.models import OperationLog
from crm.receivables import services
from crm.receivables.models import Receivable
from crm.receivables.tests.conftest import pending_task

pytestmark = pytest.mark.django_db

FINANCE_PERMISSIONS = [
    "contracts.view",
    "receivables.view",
    "receivables.create",
    "receivables.edit",
    "receivables.delete",
    "receivables.approve",
]
WRITE_TESTIDS = ("receivable-edit", "receivable-submit", "receivable-confirm", "receivable-delete")


def finance_role(*, permissions=FINANCE_PERMISSIONS):
    Role.objects.filter(code="finance").update(data_scope=Role.DataScope.SELF, permissions=permissions)


def login(client, user):
    policy.forget(user)
    client.force_login(user)
    return client


@pytest.fixture
def submitted(users, contract, flow):
    """A receivable of sales1 waiting for the finance user, who may not see sales1's contracts."""
    finance_role()
    receivable = services.receivable_create(
        actor=users["sales1"], contract=contract, values={"amount": "300"}
    )
    services.receivable_submit(actor=users["sales1"], receivable=receivable)
    receivable.refresh_from_db()
    assert receivable.status == Receivable.Status.PENDING
    return receivable


def open_document_from_request_page(client, receivable):
    request = ApprovalRequest.objects.get(object_id=str(receivable.pk), kind="receivable")
    page = client.get(reverse("approvals:request_detail", args=[request.pk])).content.decode()
    link = re.search(r'href="([^"]+)"[^>]*data-testid="open-document"', page)
    assert link, "查看单据 is missing"
    assert link.group(1) == reverse("receivables:detail", args=[receivable.pk])
    return client.get(link.group(1))


def assert_read_only(html, receivable):
    assert receivable.code in html and "300" in html
    assert 'data-testid="read-via-approval"' in html
    for testid in WRITE_TESTIDS:
        assert f'data-testid="{testid}"' not in html, testid
    assert reverse("contracts:detail", args=[receivable.contract_id]) not in html
    assert reverse("customers:detail", args=[receivable.customer_id]) not in html


def test_the_approver_reads_the_receivable_without_actions(client, users, submitted):
    response = open_document_from_request_page(login(client, users["finance"]), submitted)
    assert response.status_code == 200
    assert_read_only(response.content.decode(), submitted)
    # In scope (the owner) nothing changes: the contract is a link.
    html = login(client, users["sales1"]).get(reverse("receivables:detail", args=[submitted.pk]))
    html = html.content.decode()
    assert 'data-testid="read-via-approval"' not in html
    assert reverse("contracts:detail", args=[submitted.contract_id]) in html


def test_the_approvers_writes_are_refused_and_change_nothing(client, users, submitted):
    login(client, users["finance"])
    logs = list(OperationLog.objects.values_list("pk", flat=True))
    action = reverse("receivables:action", args=[submitted.pk])
    for name in ("delete", "confirm", "submit"):
        assert client.post(action, {"action": name}).status_code == 404, name
    edit = reverse("receivables:edit", args=[submitted.pk])
    assert client.get(edit).status_code == 404
    assert (
        client.post(edit, {"amount": "1", "received_on": "2030-01-01", "method": "bank"}).status_code == 404
    )
    receivable = Receivable.objects.get(pk=submitted.pk)
    assert (receivable.status, receivable.amount) == (Receivable.Status.PENDING, submitted.amount)
    assert list(OperationLog.objects.exclude(pk__in=logs).values_list("action", flat=True)) == []


def test_after_approving_the_approver_still_reads(client, users, submitted):
    approvals.approve(actor=users["finance"], task=pending_task(submitted), comment="已到账")
    submitted.refresh_from_db()
    assert submitted.status == Receivable.Status.APPROVED
    response = open_document_from_request_page(login(client, users["finance"]), submitted)
    assert response.status_code == 200
    assert_read_only(response.content.decode(), submitted)


def test_an_approver_without_receivables_view_reads_too(client, users, contract, flow):
    finance_role(permissions=[])
    receivable = services.receivable_create(
        actor=users["sales1"], contract=contract, values={"amount": "300"}
    )
    services.receivable_submit(actor=users["sales1"], receivable=receivable)
    response = open_document_from_request_page(login(client, users["finance"]), receivable)
    assert response.status_code == 200
    assert_read_only(response.content.decode(), receivable)


def test_users_without_a_task_still_get_404(client, users, submitted, make_contract, customers):
    login(client, users["sales2"])
    assert client.get(reverse("receivables:detail", args=[submitted.pk])).status_code == 404
    other = services.receivable_create(
        actor=users["sales1"], contract=make_contract(), values={"amount": "50"}
    )
    login(client, users["finance"])
    assert client.get(reverse("receivables:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("receivables:detail", args=[other.pk + 1000])).status_code == 404
    login(client, users["norole"])
    assert client.get(reverse("receivables:detail", args=[submitted.pk])).status_code == 403


def test_detail_queries_stay_bounded_for_the_approver(
    client, users, submitted, django_assert_max_num_queries
):
    login(client, users["finance"])
    client.get(reverse("receivables:detail", args=[submitted.pk]))
    with django_assert_max_num_queries(10):
        assert client.get(reverse("receivables:detail", args=[submitted.pk])).status_code == 200
