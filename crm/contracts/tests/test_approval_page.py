"""The approver's request page links to the contract and names its type in words."""

import pytest
from django.urls import reverse

from crm.approvals.models import ApprovalRequest
from crm.contracts import services

pytestmark = pytest.mark.django_db


def test_request_page_links_to_the_contract(client, users, flows, make_contract):
    contract = make_contract()
    services.contract_submit(actor=users["sales1"], contract=contract)
    request = ApprovalRequest.objects.get()
    client.force_login(users["manager"])
    page = client.get(reverse("approvals:request_detail", args=[request.pk])).content.decode()
    assert f'href="{reverse("contracts:detail", args=[contract.pk])}"' in page
    assert "销售合同" in page and ">contract<" not in page
    assert client.get(reverse("contracts:detail", args=[contract.pk])).status_code == 200
