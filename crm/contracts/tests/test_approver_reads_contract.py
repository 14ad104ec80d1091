"""An approver outside the contract's data scope (or without contracts.view) opens "查看单据" from the
request page: the contract reads (detail, attachments, print), with no action on it, before and
after the decision. Every write still answers 404/403 and changes nothing; a user with no task on
the contract still gets 404."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.access import policy
from crm.accounts.models import Role
from crm.approvals.models import ApprovalRequest
from crm.audit.models import OperationLog
from crm.contracts import selectors, services
from crm.contracts.models import Contract
from crm.contracts.tests.conftest import pending_task
from crm.receivables.models import PaymentPlan

pytestmark = pytest.mark.django_db

# Everything the finance role could do to a contract in its own scope: it must not do it here.
FINANCE_PERMISSIONS = [
    "contracts.view",
    "contracts.edit",
    "contracts.delete",
    "contracts.transfer",
    "contracts.print",
    "contracts.approve",
    "receivables.view",
    "receivables.create",
    "invoices.view",
    "invoices.create",
    "activities.view",
    "activities.create",
]

WRITE_TESTIDS = (
    "contract-edit",
    "contract-submit",
    "contract-withdraw",
    "contract-revise",
    "contract-delete",
    "contract-void-form",
    "transfer-contract",
    "contract-attachment-form",
    "contract-followup-form",
    "receivable-register",
    "plan-add-form",
    "contract-invoice-request",
)


def finance_role(*, data_scope=Role.DataScope.SELF, permissions=FINANCE_PERMISSIONS):
    """The finance role, narrowed to its own records: the contracts of sales are outside its scope."""
    Role.objects.filter(code="finance").update(data_scope=data_scope, permissions=permissions)


@pytest.fixture
def at_finance(users, flows, make_contract, decide):
    """A contract of sales1 waiting for the finance step (the manager has approved)."""
    finance_role()
    contract = make_contract()
    services.contract_submit(actor=users["sales1"], contract=contract)
    decide(contract, users["manager"])
    assert pending_task(contract, users["finance"]) is not None
    return contract


def login(client, user):
    policy.forget(user)
    client.force_login(user)
    return client


def open_document_from_request_page(client, contract):
    request = ApprovalRequest.objects.get(object_id=str(contract.pk), kind="contract")
    page = client.get(reverse("approvals:request_detail", args=[request.pk])).content.decode()
    link = re.search(r'href="([^"]+)"[^>]*data-testid="open-document"', page)
    assert link, "查看单据 is missing"
    assert link.group(1) == reverse("contracts:detail", args=[contract.pk])
    return client.get(link.group(1))


def test_finance_approver_outside_the_scope_reads_the_contract_without_actions(client, users, at_finance):
    contract = at_finance
    login(client, users["finance"])
    response = open_document_from_request_page(client, contract)
    assert response.status_code == 200
    html = response.content.decode()
    assert contract.code in html and contract.name in html and "智能门锁 X1" in html
    assert 'data-testid="read-via-approval"' in html
    assert 'data-testid="approval-status-card"' in html
    for testid in WRITE_TESTIDS:
        assert f'data-testid="{testid}"' not in html, testid
    # Neither links into records it may not see nor the contract's other records.
    assert reverse("customers:detail", args=[contract.customer_id]) not in html
    assert 'data-testid="contract-receivables"' not in html
    assert 'data-testid="contract-invoices"' not in html
    assert 'data-testid="contract-followups"' not in html
    # Printing is a read the finance role holds: it works.
    assert 'data-testid="contract-print"' in html
    assert client.get(reverse("contracts:print", args=[contract.pk])).status_code == 200


def test_the_owner_still_sees_the_actions(client, users, at_finance):
    html = login(client, users["manager"]).get(reverse("contracts:detail", args=[at_finance.pk]))
    html = html.content.decode()
    assert 'data-testid="read-via-approval"' not in html
    assert 'data-testid="contract-followups"' in html


def test_every_write_of_the_approver_is_refused_and_changes_nothing(
    client, users, at_finance, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    contract = at_finance
    before = (contract.status, contract.owner_id, contract.name)
    login(client, users["finance"])
    logs = list(OperationLog.objects.values_list("pk", flat=True))
    action = reverse("contracts:action", args=[contract.pk])
    for name in ("void", "withdraw", "revise", "delete", "submit"):
        assert client.post(action, {"action": name, "reason": "不要了"}).status_code == 404, name
    assert client.get(reverse("contracts:edit", args=[contract.pk])).status_code == 404
    assert client.post(reverse("contracts:edit", args=[contract.pk]), {"name": "改名"}).status_code == 404
    upload = SimpleUploadedFile("x.pdf", b"%PDF-1.4\n", content_type="application/pdf")
    assert (
        client.post(reverse("contracts:attachment_upload", args=[contract.pk]), {"file": upload}).status_code
        == 404
    )
    followup = {"type": "call", "content": "审批人跟进"}
    assert client.post(reverse("contracts:followup_create", args=[contract.pk]), followup).status_code == 404
    plan = {"amount": "100", "due_on": "2030-01-01"}
    assert client.post(reverse("receivables:plan_create", args=[contract.pk]), plan).status_code == 404
    client.post(
        reverse("contracts:transfer"), {"ids": [contract.pk], "to_user": users["finance"].pk, "next": "/"}
    )
    contract.refresh_from_db()
    assert (contract.status, contract.owner_id, contract.name) == before
    assert contract.attachments.count() == 0
    assert not PaymentPlan.objects.filter(contract=contract).exists()
    assert list(OperationLog.objects.exclude(pk__in=logs).values_list("action", flat=True)) == []


def test_after_approving_the_approver_still_reads_without_actions(client, users, at_finance, decide):
    contract = decide(at_finance, users["finance"])
    assert contract.status == Contract.Status.APPROVED
    login(client, users["finance"])
    response = open_document_from_request_page(client, contract)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="read-via-approval"' in html
    # contracts.edit + contracts.approve would offer 作废 on an approved contract in scope.
    for testid in WRITE_TESTIDS:
        assert f'data-testid="{testid}"' not in html, testid
    response = client.post(reverse("contracts:action", args=[contract.pk]), {"action": "void", "reason": "x"})
    assert response.status_code == 404
    contract.refresh_from_db()
    assert contract.status == Contract.Status.APPROVED


def test_an_approver_without_the_contracts_view_permission_reads_too(
    client, users, flows, make_contract, decide
):
    finance_role(permissions=["contracts.approve"])
    contract = make_contract()
    services.contract_submit(actor=users["sales1"], contract=contract)
    decide(contract, users["manager"])
    login(client, users["finance"])
    response = open_document_from_request_page(client, contract)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="contract-print"' not in html
    for testid in WRITE_TESTIDS:
        assert f'data-testid="{testid}"' not in html, testid
    # Another contract, no task: what it answered before (403 without the permission).
    other = make_contract()
    assert client.get(reverse("contracts:detail", args=[other.pk])).status_code == 403


def test_users_without_a_task_still_get_404(client, users, at_finance, make_contract, customers):
    contract = at_finance
    # sales2 sees contracts but not this one; the finance user has no task on the second contract.
    login(client, users["sales2"])
    assert client.get(reverse("contracts:detail", args=[contract.pk])).status_code == 404
    other = make_contract()
    login(client, users["finance"])
    assert client.get(reverse("contracts:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("contracts:print", args=[other.pk])).status_code == 404
    assert client.get(reverse("contracts:detail", args=[other.pk + 1000])).status_code == 404
    login(client, users["norole"])
    assert client.get(reverse("contracts:detail", args=[contract.pk])).status_code == 403


def test_attachments_download_for_the_approver_only(client, users, at_finance, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    contract = at_finance
    upload = SimpleUploadedFile("合同扫描件.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf")
    services.attachment_add(actor=users["sales1"], contract=contract, upload=upload)
    attachment = contract.attachments.get()
    url = reverse("contracts:attachment_download", args=[contract.pk, attachment.pk])
    response = login(client, users["finance"]).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert login(client, users["sales2"]).get(url).status_code == 404


def test_the_second_path_costs_one_query_and_nothing_for_the_normal_path(users, at_finance):
    contract = at_finance
    selectors.contract_get_for_user(user=users["sales1"], contract_id=contract.pk)  # warm caches
    selectors.contract_get_for_user(user=users["finance"], contract_id=contract.pk, read_only=True)
    with CaptureQueriesContext(connection) as normal:
        found = selectors.contract_get_for_user(user=users["sales1"], contract_id=contract.pk, read_only=True)
    assert not found.read_via_approval
    with CaptureQueriesContext(connection) as approver:
        found = selectors.contract_get_for_user(
            user=users["finance"], contract_id=contract.pk, read_only=True
        )
    assert found.read_via_approval and found == contract
    assert len(approver.captured_queries) <= len(normal.captured_queries) + 1
    # Writers never take the second path.
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.contract_get_for_user(user=users["finance"], contract_id=contract.pk)


def test_the_credit_review_links_to_a_readable_contract(client, users, flows, make_contract, customers):
    from crm.customers.models import Customer

    finance_role()
    Customer.objects.filter(pk=customers["mine"].pk).update(credit_limit=1)
    contract = make_contract()
    services.contract_submit(actor=users["sales1"], contract=contract)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.CREDIT_REVIEW
    request = ApprovalRequest.objects.get(object_id=str(contract.pk), kind="credit")
    login(client, users["finance"])
    page = client.get(reverse("approvals:request_detail", args=[request.pk])).content.decode()
    assert reverse("contracts:detail", args=[contract.pk]) in page
    html = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="read-via-approval"' in html
    for testid in WRITE_TESTIDS:
        assert f'data-testid="{testid}"' not in html, testid


def test_detail_queries_stay_bounded_for_the_approver(
    client, users, at_finance, django_assert_max_num_queries
):
    login(client, users["finance"])
    client.get(reverse("contracts:detail", args=[at_finance.pk]))
    with django_assert_max_num_queries(22):
        assert client.get(reverse("contracts:detail", args=[at_finance.pk])).status_code == 200
