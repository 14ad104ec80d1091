"""Contracts move to a colleague one or many at a time (the seed: 合同可以转移给其他成员跟进), and
follow-ups are written on a contract (they are the customer's follow-ups too)."""

import pytest
from django.urls import reverse

from crm.activities.models import FollowUp
from crm.audit.models import OperationLog
from crm.contracts.models import Contract
from crm.customers.models import DictionaryItem

pytestmark = pytest.mark.django_db


def test_manager_transfers_selected_contracts_from_the_list(client, users, make_contract):
    first, second = make_contract(name="一期"), make_contract(name="二期")
    client.force_login(users["manager"])
    page = client.get(reverse("contracts:list")).content.decode()
    assert 'data-testid="contract-bulk-bar"' in page
    response = client.post(
        reverse("contracts:transfer"), {"ids": [first.pk, second.pk], "to_user": users["sales2"].pk}
    )
    assert response.status_code == 302
    assert set(Contract.objects.values_list("owner__username", flat=True)) == {"sales2"}
    assert OperationLog.objects.filter(action="contract.transferred").count() == 2


def test_transfer_needs_the_permission_and_a_colleague_in_scope(client, users, make_contract):
    contract = make_contract()
    client.force_login(users["sales1"])  # sales have no contracts.transfer
    assert 'data-testid="contract-bulk-bar"' not in client.get(reverse("contracts:list")).content.decode()
    assert (
        client.post(
            reverse("contracts:transfer"), {"ids": [contract.pk], "to_user": users["sales2"].pk}
        ).status_code
        == 403
    )
    api = client.post(
        "/api/v1/contracts/transfer/",
        {"contract_ids": [contract.pk], "to_user": users["sales2"].pk},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert Contract.objects.get().owner == users["sales1"]


def test_api_transfer_reports_what_it_could_not_see(client, users, make_contract):
    contract = make_contract()
    client.force_login(users["manager"])
    response = client.post(
        "/api/v1/contracts/transfer/",
        {"contract_ids": [contract.pk, 999999], "to_user": users["sales2"].pk},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json() == {"count": 1, "not_found": [999999]}


def test_follow_up_on_a_contract_shows_on_the_contract_and_the_customer(client, users, make_contract):
    contract = make_contract()
    phone, _new = DictionaryItem.objects.get_or_create(kind="followup_type", name="电话", parent=None)
    client.force_login(users["sales1"])
    empty = client.post(
        reverse("contracts:followup_create", args=[contract.pk]), {"type": phone.pk, "content": ""}
    )
    assert empty.status_code == 400 and not FollowUp.objects.exists()
    response = client.post(
        reverse("contracts:followup_create", args=[contract.pk]),
        {"type": phone.pk, "content": "客户确认了交付时间", "followed_at": "2026-12-01 10:00"},
    )
    assert response.status_code == 302
    followup = FollowUp.objects.get()
    assert followup.contract == contract and followup.customer == contract.customer
    assert (
        "客户确认了交付时间" in client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    )
    # someone who cannot see the contract cannot write on it
    client.force_login(users["sales2"])
    other = client.post(
        reverse("contracts:followup_create", args=[contract.pk]), {"type": phone.pk, "content": "x"}
    )
    assert other.status_code == 404
