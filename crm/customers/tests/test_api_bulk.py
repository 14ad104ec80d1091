"""POST /api/v1/customers/release/ (放入公海) and /api/v1/customers/bulk-update/ (批量修改字段):
the same services and rules as the list's bulk bar, answering {count, not_found}."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.accounts.models import Role, User
from crm.accounts.tests.factories import RoleFactory
from crm.api.tests import errors_text, token_client
from crm.audit.models import OperationLog
from crm.customers import pool_services, services
from crm.customers.models import Customer, DictionaryItem, Pool, PoolSettings
from crm.customfields.services import customfield_create

pytestmark = pytest.mark.django_db

RELEASE, UPDATE = "/api/v1/customers/release/", "/api/v1/customers/bulk-update/"


def snapshot():
    fields = (
        "pk",
        "owner_id",
        "pool_id",
        "released_at",
        "status_id",
        "tags",
        "next_contact_at",
        "custom_data",
    )
    return (
        list(Customer.objects.order_by("pk").values_list(*fields)),
        OperationLog.objects.exclude(action__startswith="auth.").count(),
    )


def make(user, count, prefix):
    return [services.customer_create(actor=user, values={"name": f"{prefix}{i}"}) for i in range(count)]


@pytest.fixture
def setup(users):
    return users, make(users["sales1"], 3, "甲"), make(users["sales2"], 2, "乙")


def ids(customers):
    return [c.pk for c in customers]


def status_item(name="成交", active=True):
    return DictionaryItem.objects.create(kind="status", name=name, is_active=active)


# ---------------------------------------------------------------- release


def test_release_moves_own_customers_and_reports_the_others(setup):
    users, mine, others = setup
    pool = services.default_pool()
    response = token_client(users["sales1"]).post(
        RELEASE,
        {"customer_ids": ids(mine + others) + [999999], "pool_id": pool.pk, "reason": "没有需求"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"count": 3, "not_found": sorted(ids(others) + [999999])}
    released = Customer.objects.filter(pk__in=ids(mine))
    assert {(c.owner_id, c.pool_id, c.previous_owner_id, c.release_reason) for c in released} == {
        (None, pool.pk, users["sales1"].pk, "没有需求")
    }
    assert Customer.objects.filter(pk__in=ids(others), owner=users["sales2"]).count() == 2
    assert OperationLog.objects.filter(action="pool.released").count() == 3


def test_release_reports_protected_customers_and_refuses_a_batch_of_only_those(setup):
    users, mine, _others = setup
    Customer.objects.filter(pk=mine[0].pk).update(protected_until=timezone.now() + timedelta(days=1))
    client = token_client(users["sales1"])
    pool = services.default_pool()
    response = client.post(
        RELEASE, {"customer_ids": ids(mine), "pool_id": pool.pk, "reason": "x"}, format="json"
    )
    assert response.json() == {"count": 2, "not_found": [mine[0].pk]}
    before = snapshot()
    response = client.post(
        RELEASE, {"customer_ids": [mine[0].pk], "pool_id": pool.pk, "reason": "x"}, format="json"
    )
    assert response.status_code == 400 and "保护期" in errors_text(response)
    assert snapshot() == before


def test_reclaim_window_applies_after_an_api_release(setup):
    users, mine, _others = setup
    PoolSettings.objects.filter(pk=PoolSettings.load().pk).update(reclaim_after_days=3)
    token_client(users["sales1"]).post(
        RELEASE,
        {"customer_ids": ids(mine), "pool_id": services.default_pool().pk, "reason": "x"},
        format="json",
    )
    with pytest.raises(Exception, match="3 天内不能再次领取"):
        pool_services.pool_claim(actor=users["sales1"], customer=mine[1])


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"reason": ""}, "detail", "请填写放入公海的原因。"),
        ({"reason": "长" * 201}, "detail", "原因不能超过 200 个字符。"),
        ({"pool_id": 999999}, "pool_id", "请选择您可见的公海。"),
        ({"pool_id": "abc"}, "pool_id", ""),
        ({"customer_ids": []}, "customer_ids", ""),
        ({"customer_ids": ["x"]}, "customer_ids", ""),
        ({"extra": 1}, "extra", ""),
    ],
)
def test_bad_release_input_changes_nothing(setup, body, field, message):
    users, mine, _others = setup
    data = {"customer_ids": ids(mine), "pool_id": services.default_pool().pk, "reason": "x"} | body
    before = snapshot()
    response = token_client(users["sales1"]).post(RELEASE, data, format="json")
    assert response.status_code == 400
    assert field in response.json() and message in errors_text(response)
    assert snapshot() == before


def test_release_of_a_hidden_pool_is_refused(setup, org):
    users, mine, _others = setup
    hidden = Pool.objects.create(name="财务公海")
    hidden.departments.set([org["finance"]])
    before = snapshot()
    response = token_client(users["sales1"]).post(
        RELEASE, {"customer_ids": ids(mine), "pool_id": hidden.pk, "reason": "x"}, format="json"
    )
    assert response.status_code == 400 and snapshot() == before


@pytest.mark.parametrize("url", [RELEASE, UPDATE])
def test_without_customers_edit_answers_403(setup, url):
    users, mine, _others = setup
    before = snapshot()
    body = {"customer_ids": ids(mine), "pool_id": services.default_pool().pk, "reason": "x"}
    if url == UPDATE:
        body = {"customer_ids": ids(mine), "field": "tags", "value": "x"}
    assert token_client(users["finance"]).post(url, body, format="json").status_code == 403
    assert snapshot() == before


def queries(client, url, body) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, body, format="json")
    assert response.status_code == 200, response.content
    return len(captured)


def test_release_query_count_does_not_grow_with_the_batch(users):
    few, many = make(users["sales1"], 3, "少"), make(users["sales1"], 30, "多")
    client = token_client(users["sales1"])
    body = {"pool_id": services.default_pool().pk, "reason": "x"}
    assert queries(client, RELEASE, body | {"customer_ids": ids(few)}) == queries(
        client, RELEASE, body | {"customer_ids": ids(many)}
    )


# ---------------------------------------------------------------- bulk update


def test_bulk_update_changes_only_customers_the_caller_may_change(setup):
    users, mine, others = setup
    status = status_item()
    response = token_client(users["sales1"]).post(
        UPDATE, {"customer_ids": ids(mine + others), "field": "status", "value": status.pk}, format="json"
    )
    assert response.json() == {"count": 3, "not_found": ids(others)}
    assert set(Customer.objects.filter(status=status).values_list("pk", flat=True)) == set(ids(mine))
    logs = OperationLog.objects.filter(action="customer.updated")
    assert sorted(int(log.target_id) for log in logs) == ids(mine)
    assert all(log.changes == {"status": [None, "成交"]} for log in logs)


def test_bulk_update_of_tags_and_a_custom_field(setup):
    users, mine, _others = setup
    customfield_create(
        actor=users["admin"],
        target="customers",
        values={"label": "重点客户", "key": "vip", "field_type": "boolean"},
    )
    Customer.objects.filter(pk=mine[0].pk).update(tags="老客户")
    client = token_client(users["sales1"])
    body = {"customer_ids": ids(mine), "field": "tags", "value": "展会", "mode": "append"}
    assert client.post(UPDATE, body, format="json").json()["count"] == 3
    assert Customer.objects.get(pk=mine[0].pk).tags == "老客户,展会"
    body = {"customer_ids": ids(mine), "field": "custom.vip", "value": True}
    assert client.post(UPDATE, body, format="json").json() == {"count": 3, "not_found": []}
    assert all(c.custom_data == {"vip": True} for c in Customer.objects.filter(pk__in=ids(mine)))


@pytest.mark.parametrize(
    "body, message",
    [
        ({"field": "owner", "value": 1}, "不能批量修改"),
        ({"field": "status", "value": "inactive"}, "不是有效的客户状态"),
        ({"field": "status", "value": "category"}, "不是有效的客户状态"),
        ({"field": "status", "value": None}, "不能为 null"),
        ({"field": "status", "value": " "}, "请填写“客户状态”的新值。"),
        ({"field": "status", "value": [1]}, "不是有效的客户状态"),
        ({"field": "status", "value": True}, "不是有效的客户状态"),
        ({"field": "next_contact_at", "value": "2026-02-30 10:00"}, "应为有效的日期时间"),
        ({"field": "tags", "value": 5}, "标签应为文字"),
        ({"field": "tags", "value": "x", "mode": "merge"}, ""),
        ({"field": "status", "value": 1, "mode": "append"}, "未知的修改方式。"),
    ],
)
def test_bad_bulk_update_input_changes_nothing(setup, body, message):
    users, mine, _others = setup
    if body["value"] == "inactive":
        body = body | {"value": status_item("停用", active=False).pk}
    elif body["value"] == "category":
        body = body | {"value": DictionaryItem.objects.filter(kind="category").first().pk}
    before = snapshot()
    response = token_client(users["sales1"]).post(UPDATE, {"customer_ids": ids(mine)} | body, format="json")
    assert response.status_code == 400, response.content
    assert message in errors_text(response)
    assert snapshot() == before


def test_bulk_update_respects_field_permissions(setup):
    users, mine, _others = setup
    sales = Role.objects.get(code="sales")
    users["sales1"].roles.set(
        [
            RoleFactory(
                data_scope=sales.data_scope,
                permissions=sales.permissions,
                field_permissions={"customers.tags": "readonly"},
            )
        ]
    )
    sales1 = User.objects.get(pk=users["sales1"].pk)
    before = snapshot()
    response = token_client(sales1).post(
        UPDATE, {"customer_ids": ids(mine), "field": "tags", "value": "x"}, format="json"
    )
    assert response.status_code == 400 and "您没有修改“标签”的权限。" in errors_text(response)
    assert snapshot() == before


def test_bulk_update_query_count_does_not_grow_with_the_batch(users):
    few, many = make(users["sales1"], 3, "少"), make(users["sales1"], 30, "多")
    client = token_client(users["sales1"])
    body = {"field": "tags", "value": "新", "mode": "append"}
    assert queries(client, UPDATE, body | {"customer_ids": ids(few)}) == queries(
        client, UPDATE, body | {"customer_ids": ids(many)}
    )
