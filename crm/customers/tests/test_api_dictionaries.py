"""/api/v1/dictionaries/: everyone who sees customers reads them; customers.settings keeps them."""

import pytest

from crm.api.tests import clear_throttle, errors_text, token_client
from crm.audit.models import OperationLog
from crm.customers.models import DictionaryItem

pytestmark = pytest.mark.django_db

URL = "/api/v1/dictionaries/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    clear_throttle()


def all_pages(client, params):
    rows, url = [], URL
    while url:
        body = client.get(url, params).json()
        rows += body["results"]
        url, params = body["next"], None
    return rows


def test_salesperson_reads_one_kind(users):
    rows = all_pages(token_client(users["sales1"]), {"kind": "status"})

    assert {row["name"] for row in rows} == set(
        DictionaryItem.objects.filter(kind="status").values_list("name", flat=True)
    )
    assert {row["kind"] for row in rows} == {"status"}
    assert rows[0]["kind_display"] == "客户状态"


def test_unknown_kind_is_400(users):
    response = token_client(users["sales1"]).get(URL, {"kind": "password"})

    assert response.status_code == 400
    assert "未知的字典类型" in errors_text(response)


def test_only_settings_holders_change_dictionaries(users):
    before = DictionaryItem.objects.count()

    for role in ("sales1", "manager"):
        response = token_client(users[role]).post(URL, {"kind": "industry", "name": "农业"}, format="json")
        assert response.status_code == 403
    assert DictionaryItem.objects.count() == before


def test_administrator_creates_renames_and_deactivates(users):
    client = token_client(users["administrator"])

    created = client.post(URL, {"kind": "industry", "name": "农业"}, format="json")
    item_id = created.json()["id"]
    renamed = client.patch(f"{URL}{item_id}/", {"name": "农林牧渔"}, format="json")
    deactivated = client.post(f"{URL}{item_id}/deactivate/")

    assert created.status_code == 201
    assert renamed.status_code == 200 and renamed.json()["name"] == "农林牧渔"
    assert deactivated.json()["is_active"] is False
    assert DictionaryItem.objects.get(pk=item_id).is_active is False
    assert {row["id"] for row in all_pages(client, {"kind": "industry", "is_active": "true"})}.isdisjoint(
        {item_id}
    )
    actions = set(OperationLog.objects.filter(target_id=str(item_id)).values_list("action", flat=True))
    assert {"dictionary.created", "dictionary.updated", "dictionary.deactivated"} <= actions
    reactivated = client.post(f"{URL}{item_id}/activate/")
    assert reactivated.json()["is_active"] is True


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"kind": "industry", "name": "制造业"}, "name", "已存在"),
        ({"kind": "industry", "name": "农" * 65}, "name", "64"),
        ({"kind": "colour", "name": "红"}, "kind", ""),
        ({"kind": "industry", "name": "农业", "is_active": False}, "is_active", "未知字段"),
    ],
)
def test_bad_dictionary_input_changes_nothing(users, payload, field, words):
    before = list(DictionaryItem.objects.order_by("pk").values())

    response = token_client(users["administrator"]).post(URL, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert words in errors_text(response)
    assert list(DictionaryItem.objects.order_by("pk").values()) == before
