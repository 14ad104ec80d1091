"""The list's bulk 放入公海 (add to pool) and 批量修改字段 (edit a field): only customers the user
may change, set-based (the same number of queries for 3 and 30 customers), one log entry per
customer with old → new, protected customers kept back, field permissions respected, and every
bad input changes nothing."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.accounts.models import Role, User
from crm.accounts.tests.factories import RoleFactory
from crm.audit.models import OperationLog
from crm.customers import pool_services, services
from crm.customers.models import Customer, CustomerAccess, DictionaryItem, Pool, PoolSettings
from crm.customfields.services import customfield_create
from crm.messaging.models import Notification

pytestmark = pytest.mark.django_db

NEXT = "/customers/?scope=mine"
SNAPSHOT_FIELDS = (
    "pk",
    "name",
    "name_pinyin",
    "owner_id",
    "pool_id",
    "previous_owner_id",
    "released_at",
    "release_reason",
    "status_id",
    "category_id",
    "tags",
    "next_contact_at",
    "custom_data",
    "updated_at",
    "protected_until",
)


def snapshot():
    return (
        list(Customer.objects.order_by("pk").values_list(*SNAPSHOT_FIELDS)),
        OperationLog.objects.exclude(action__startswith="auth.").count(),
        CustomerAccess.objects.count(),
    )


def make(user, count, prefix):
    return [services.customer_create(actor=user, values={"name": f"{prefix}{i}"}) for i in range(count)]


@pytest.fixture
def setup(users):
    mine = make(users["sales1"], 3, "甲")
    others = make(users["sales2"], 2, "乙")
    return users, mine, others


def post(client, action, customers, **extra):
    data = {"action": action, "ids": [str(c.pk) for c in customers], "next": NEXT}
    data.update(extra)
    return client.post("/customers/bulk/", data)


def texts(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def item(kind, name=None, active=True):
    items = DictionaryItem.objects.filter(kind=kind, is_active=True)
    if name is not None:
        return DictionaryItem.objects.create(kind=kind, name=name, is_active=active)
    return items.order_by("pk").first()


def restrict(user: User, rules: dict) -> User:
    sales = Role.objects.get(code="sales")
    user.roles.set(
        [RoleFactory(data_scope=sales.data_scope, permissions=sales.permissions, field_permissions=rules)]
    )
    return User.objects.get(pk=user.pk)


# ---------------------------------------------------------------- the list page


def test_the_bar_offers_pool_and_field_controls(client, setup):
    users, _mine, _others = setup
    Pool.objects.create(name="华南公海")
    client.force_login(users["sales1"])
    html = client.get("/customers/").content.decode()
    assert 'data-testid="bulk-release"' in html and 'data-testid="bulk-edit"' in html
    default = services.default_pool()
    assert f'<option value="{default.pk}" selected>{default.name}</option>' in html
    assert "华南公海" in html
    assert '<option value="status">' in html and '<option value="tags">' in html
    assert "<script>" not in html.split('data-testid="bulk-form"')[1]  # CSP: no inline scripts


def test_the_bar_is_not_offered_without_customers_edit(client, setup):
    users, _mine, _others = setup
    client.force_login(users["finance"])
    html = client.get("/customers/").content.decode()
    assert 'data-testid="bulk-release"' not in html and 'data-testid="bulk-edit"' not in html


def test_value_input_follows_the_field(client, setup):
    users, _mine, _others = setup
    inactive = item("status", "停用的状态", active=False)
    client.force_login(users["sales1"])
    html = client.get("/customers/bulk/value/", {"field": "status"}).content.decode()
    assert '<select name="value"' in html
    assert item("status").name in html and inactive.name not in html
    assert (
        'type="datetime-local"'
        in client.get("/customers/bulk/value/", {"field": "next_contact_at"}).content.decode()
    )
    tags = client.get("/customers/bulk/value/", {"field": "tags"}).content.decode()
    assert 'name="mode"' in tags and "追加" in tags
    assert "disabled" in client.get("/customers/bulk/value/", {"field": "owner"}).content.decode()
    client.force_login(users["finance"])
    assert client.get("/customers/bulk/value/", {"field": "status"}).status_code == 403


# ---------------------------------------------------------------- 放入公海


def test_release_puts_only_own_customers_into_the_pool(client, setup):
    users, mine, others = setup
    pool = Pool.objects.create(name="华南公海")
    services.customers_share(
        actor=users["sales1"], customers=Customer.objects.filter(pk=mine[0].pk), users=[users["finance"]]
    )
    # sales2 shares a customer with sales1, editable: sales1 may change it, but not give it away.
    services.customers_share(
        actor=users["sales2"],
        customers=Customer.objects.filter(pk=others[0].pk),
        users=[users["sales1"]],
        can_edit=True,
    )
    client.force_login(users["sales1"])
    response = post(client, "release", mine + others, pool=pool.pk, reason="客户没有需求")
    assert response.status_code == 302 and response.url == NEXT
    assert "已将 3 个客户放入“华南公海”。" in texts(response)
    for customer in Customer.objects.filter(pk__in=[c.pk for c in mine]):
        assert customer.owner_id is None and customer.pool_id == pool.pk
        assert customer.previous_owner_id == users["sales1"].pk and customer.released_at is not None
        assert customer.release_reason == "客户没有需求" and customer.department_id is None
    assert Customer.objects.filter(owner=users["sales2"]).count() == 2
    assert not CustomerAccess.objects.filter(customer__in=mine).exists()
    logs = OperationLog.objects.filter(action="pool.released").order_by("target_id")
    assert [log.target_id for log in logs] == [str(c.pk) for c in mine]
    assert logs[0].changes["owner"] == [str(users["sales1"]), None]
    assert logs[0].changes["pool"][1] == "华南公海" and logs[0].changes["release_reason"] == [
        None,
        "客户没有需求",
    ]


def test_release_by_a_manager_recalls_customers_in_scope_and_tells_the_owner(client, setup):
    users, mine, others = setup
    client.force_login(users["manager"])  # pool.transfer, department tree
    post(client, "release", mine[:1] + others[:1], pool=services.default_pool().pk, reason="长期未跟进")
    assert Customer.objects.filter(owner__isnull=True).count() == 2
    assert OperationLog.objects.filter(action="pool.recalled").count() == 2
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"sales1", "sales2"}


def test_release_keeps_protected_customers_and_says_how_many(client, setup):
    users, mine, _others = setup
    Customer.objects.filter(pk=mine[0].pk).update(protected_until=timezone.now() + timedelta(days=3))
    client.force_login(users["sales1"])
    response = post(client, "release", mine, pool=services.default_pool().pk, reason="不跟了")
    assert "已将 2 个客户放入" in texts(response) and "1 个客户在保护期内，未放入公海。" in texts(response)
    assert Customer.objects.get(pk=mine[0].pk).owner_id == users["sales1"].pk
    assert Customer.objects.filter(pk__in=[c.pk for c in mine[1:]], owner__isnull=True).count() == 2


def test_release_of_only_protected_customers_changes_nothing(client, setup):
    users, mine, _others = setup
    Customer.objects.filter(pk__in=[c.pk for c in mine]).update(
        protected_until=timezone.now() + timedelta(days=3)
    )
    before = snapshot()
    client.force_login(users["sales1"])
    response = post(client, "release", mine, pool=services.default_pool().pk, reason="不跟了")
    assert "所选的 3 个客户在保护期内，不能放入公海" in texts(response)
    assert snapshot() == before


def test_reclaim_window_applies_after_a_bulk_release(client, setup):
    users, mine, _others = setup
    PoolSettings.objects.filter(pk=PoolSettings.load().pk).update(reclaim_after_days=7)
    client.force_login(users["sales1"])
    post(client, "release", mine, pool=services.default_pool().pk, reason="不跟了")
    with pytest.raises(ValidationError, match="7 天内不能再次领取"):
        pool_services.pool_claim(actor=users["sales1"], customer=mine[0])
    pool_services.pool_claim(actor=users["sales2"], customer=mine[0])  # anyone else may
    assert Customer.objects.get(pk=mine[0].pk).owner_id == users["sales2"].pk


@pytest.mark.parametrize(
    "data, message",
    [
        ({"reason": ""}, "请填写放入公海的原因。"),
        ({"reason": "长" * 201}, "原因不能超过 200 个字符。"),
        ({"reason": "不跟了", "pool": "999999"}, "请选择您可见的公海。"),
        ({"reason": "不跟了", "pool": "abc"}, "请选择您可见的公海。"),
        ({"reason": "不跟了", "hidden_pool": True}, "请选择您可见的公海。"),
    ],
)
def test_bad_release_input_changes_nothing(client, setup, org, data, message):
    users, mine, _others = setup
    data = dict(data)
    if data.pop("hidden_pool", False):
        hidden = Pool.objects.create(name="财务公海")
        hidden.departments.set([org["finance"]])
        data["pool"] = hidden.pk
    data.setdefault("pool", services.default_pool().pk)
    before = snapshot()
    client.force_login(users["sales1"])
    response = post(client, "release", mine, **data)
    assert message in texts(response)
    assert snapshot() == before


def test_release_without_permission_or_selection_changes_nothing(client, setup):
    users, mine, others = setup
    before = snapshot()
    client.force_login(users["finance"])
    assert post(client, "release", mine, pool=services.default_pool().pk, reason="x").status_code == 403
    client.force_login(users["sales1"])
    response = post(client, "release", [], pool=services.default_pool().pk, reason="x")
    assert "请先勾选客户。" in texts(response)
    response = post(client, "release", others, pool=services.default_pool().pk, reason="x")
    assert "所选客户中没有您可以放入公海的客户。" in texts(response)
    assert snapshot() == before


def count_queries(client, action, customers, **extra) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = post(client, action, customers, **extra)
    assert response.status_code == 302
    return len(queries)


def test_release_takes_the_same_number_of_queries_for_3_and_30(client, users):
    few, many = make(users["sales1"], 3, "少"), make(users["sales1"], 30, "多")
    pool = services.default_pool()
    client.force_login(users["sales1"])
    client.get("/customers/")  # warm the session and caches alike for both posts
    assert count_queries(client, "release", few, pool=pool.pk, reason="x") == count_queries(
        client, "release", many, pool=pool.pk, reason="x"
    )
    assert OperationLog.objects.filter(action="pool.released").count() == 33


# ---------------------------------------------------------------- 批量修改字段


def test_edit_a_dictionary_field_on_own_customers_only(client, setup):
    users, mine, others = setup
    old, new = item("status", "潜在"), item("status", "成交")
    Customer.objects.filter(pk=mine[0].pk).update(status=old)
    client.force_login(users["sales1"])
    response = post(client, "edit", mine + others, field="status", value=str(new.pk))
    assert "已修改 3 个客户的“客户状态”。" in texts(response)
    assert set(Customer.objects.filter(status=new).values_list("name", flat=True)) == {"甲0", "甲1", "甲2"}
    assert not Customer.objects.filter(owner=users["sales2"], status=new).exists()
    logs = {log.target_id: log for log in OperationLog.objects.filter(action="customer.updated")}
    assert set(logs) == {str(c.pk) for c in mine}
    assert logs[str(mine[0].pk)].changes == {"status": ["潜在", "成交"]}
    assert logs[str(mine[1].pk)].changes == {"status": [None, "成交"]}
    names = list(
        Customer.objects.filter(pk__in=[c.pk for c in mine]).order_by("pk").values_list("name", "name_pinyin")
    )
    assert names == [(c.name, c.name_pinyin) for c in mine]


def test_edit_counts_only_customers_that_change(client, setup):
    users, mine, _others = setup
    status = item("status", "成交")
    Customer.objects.filter(pk=mine[0].pk).update(status=status)
    client.force_login(users["sales1"])
    post(client, "edit", mine, field="status", value=str(status.pk))
    assert OperationLog.objects.filter(action="customer.updated").count() == 2


def test_edit_tags_appends_or_replaces(client, setup):
    users, mine, _others = setup
    Customer.objects.filter(pk=mine[0].pk).update(tags="重点,华南")
    client.force_login(users["sales1"])
    post(client, "edit", mine[:2], field="tags", value="华南，展会", mode="append")
    assert Customer.objects.get(pk=mine[0].pk).tags == "重点,华南,展会"
    assert Customer.objects.get(pk=mine[1].pk).tags == "华南,展会"
    log = OperationLog.objects.get(action="customer.updated", target_id=str(mine[0].pk))
    assert log.changes == {"tags": ["重点,华南", "重点,华南,展会"]}
    post(client, "edit", mine[:2], field="tags", value="新标签", mode="replace")
    assert set(Customer.objects.filter(pk__in=[mine[0].pk, mine[1].pk]).values_list("tags", flat=True)) == {
        "新标签"
    }


def test_edit_next_contact_at(client, setup):
    users, mine, _others = setup
    client.force_login(users["sales1"])
    post(client, "edit", mine, field="next_contact_at", value="2027-03-01T10:30")
    for customer in Customer.objects.filter(pk__in=[c.pk for c in mine]):
        assert timezone.localtime(customer.next_contact_at).strftime("%Y-%m-%d %H:%M") == "2027-03-01 10:30"
    log = OperationLog.objects.filter(action="customer.updated").first()
    assert log.changes == {"next_contact_at": [None, "2027-03-01 10:30"]}


@pytest.fixture
def custom_fields(users):
    def create(label, key, field_type, options=()):
        values = {"label": label, "key": key, "field_type": field_type, "options": list(options)}
        return customfield_create(actor=users["admin"], target="customers", values=values)

    return {
        "intent": create("合作意向", "intent", "choice", ["强烈", "一般"]),
        "vip": create("重点客户", "vip", "boolean"),
        "signed_on": create("签约日期", "signed_on", "date"),
        "staff": create("员工人数", "staff", "number"),
        "memo": create("说明", "memo", "text"),
    }


@pytest.mark.parametrize(
    "key, value, stored, shown",
    [
        ("intent", "强烈", "强烈", "强烈"),
        ("vip", "true", True, "是"),
        ("signed_on", "2026-05-01", "2026-05-01", "2026-05-01"),
        ("staff", "120", "120", "120"),
    ],
)
def test_edit_a_custom_field_in_one_update(client, setup, custom_fields, key, value, stored, shown):
    users, mine, others = setup
    Customer.objects.filter(pk=mine[0].pk).update(custom_data={"memo": "保留"})
    client.force_login(users["sales1"])
    response = post(client, "edit", mine + others, field=f"custom.{key}", value=value)
    assert "已修改 3 个客户" in texts(response)
    data = dict(
        Customer.objects.filter(pk__in=[c.pk for c in mine + others]).values_list("pk", "custom_data")
    )
    assert data[mine[0].pk] == {"memo": "保留", key: stored}
    assert data[mine[1].pk] == {key: stored}
    assert all(key not in data[c.pk] for c in others)
    log = OperationLog.objects.get(action="customer.updated", target_id=str(mine[0].pk))
    assert log.changes == {f"custom.{key}": [None, shown]}


def test_text_custom_fields_are_not_offered(client, setup, custom_fields):
    users, mine, _others = setup
    client.force_login(users["sales1"])
    html = client.get("/customers/").content.decode()
    assert 'value="custom.intent"' in html and 'value="custom.memo"' not in html
    before = snapshot()
    response = post(client, "edit", mine, field="custom.memo", value="x")
    assert "不能批量修改“custom.memo”" in texts(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    "data, message",
    [
        ({"field": "owner", "value": "1"}, "不能批量修改“owner”"),
        ({"field": "", "value": "1"}, "不能批量修改"),
        ({"field": "status", "value": ""}, "请填写“客户状态”的新值。"),
        ({"field": "status", "value": "wrong-kind"}, "不是有效的客户状态"),
        ({"field": "status", "value": "inactive"}, "不是有效的客户状态"),
        ({"field": "status", "value": "999999"}, "不是有效的客户状态"),
        ({"field": "status", "value": "abc"}, "不是有效的客户状态"),
        ({"field": "status", "value": "99999999999999999999"}, "不是有效的客户状态"),
        ({"field": "status", "value": "wrong-kind", "mode": "append"}, "未知的修改方式。"),
        ({"field": "next_contact_at", "value": "2026-02-30"}, "应为有效的日期时间"),
        ({"field": "next_contact_at", "value": "明天"}, "应为有效的日期时间"),
        ({"field": "tags", "value": "标" * 256}, "标签合计不能超过 255 个字符。"),
        ({"field": "tags", "value": "x", "mode": "merge"}, "未知的修改方式。"),
        ({"field": "custom.intent", "value": "没有这个"}, "不是“合作意向”的有效选项"),
        ({"field": "custom.vip", "value": "也许"}, "只能是“是”或“否”"),
        ({"field": "custom.signed_on", "value": "2026-13-01"}, "应为有效的日期"),
        ({"field": "custom.staff", "value": "很多"}, "应为数字"),
        ({"field": "custom.nope", "value": "1"}, "不能批量修改"),
    ],
)
def test_bad_edit_input_changes_nothing(client, setup, custom_fields, data, message):
    users, mine, _others = setup
    data = dict(data)
    if data["value"] == "wrong-kind":
        data["value"] = str(item("category").pk)
    elif data["value"] == "inactive":
        data["value"] = str(item("status", "停用的状态", active=False).pk)
    before = snapshot()
    client.force_login(users["sales1"])
    response = post(client, "edit", mine, **data)
    assert response.status_code == 302
    assert message in texts(response)
    assert snapshot() == before


def test_appending_tags_past_the_limit_changes_nothing(client, setup):
    users, mine, _others = setup
    Customer.objects.filter(pk=mine[0].pk).update(tags="长" * 252)
    before = snapshot()
    client.force_login(users["sales1"])
    response = post(client, "edit", mine, field="tags", value="新标签", mode="append")
    assert "以下客户加上新标签后会超过 255 个字符，未做任何修改：甲0。" in texts(response)
    assert snapshot() == before


def test_edit_without_permission_or_selection_changes_nothing(client, setup):
    users, mine, _others = setup
    status = item("status", "成交")
    before = snapshot()
    client.force_login(users["finance"])
    assert post(client, "edit", mine, field="status", value=str(status.pk)).status_code == 403
    client.force_login(users["sales1"])
    response = post(client, "edit", [], field="status", value=str(status.pk))
    assert "请先勾选客户。" in texts(response)
    assert snapshot() == before


@pytest.mark.parametrize("rule", ["readonly", "hidden"])
def test_field_permissions_are_respected(client, setup, custom_fields, rule):
    users, mine, _others = setup
    sales1 = restrict(users["sales1"], {"customers.status": rule, "customers.custom.vip": rule})
    client.force_login(sales1)
    html = client.get("/customers/").content.decode()
    assert '<option value="status">' not in html and 'value="custom.vip"' not in html
    assert '<option value="category">' in html
    assert "disabled" in client.get("/customers/bulk/value/", {"field": "status"}).content.decode()
    before = snapshot()
    response = post(client, "edit", mine, field="status", value=str(item("status").pk))
    assert "您没有修改“客户状态”的权限。" in texts(response)
    response = post(client, "edit", mine, field="custom.vip", value="true")
    assert "的权限。" in texts(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    "field, value, extra",
    [
        ("status", "status", {}),
        ("tags", "新,旧", {"mode": "append"}),
        ("custom.intent", "强烈", {}),
        ("next_contact_at", "2027-01-01 09:00", {}),
    ],
)
def test_edit_takes_the_same_number_of_queries_for_3_and_30(
    client, users, custom_fields, field, value, extra
):
    few, many = make(users["sales1"], 3, "少"), make(users["sales1"], 30, "多")
    Customer.objects.filter(pk__in=[c.pk for c in many[::2]]).update(tags="旧")
    if value == "status":
        value = str(item("status").pk)
    client.force_login(users["sales1"])
    client.get("/customers/")
    counted = [
        count_queries(client, "edit", group, field=field, value=value, **extra) for group in (few, many)
    ]
    assert counted[0] == counted[1]
    assert OperationLog.objects.filter(action="customer.updated").count() == 33
