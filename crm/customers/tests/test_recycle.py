"""Recycle rules (回收策略, POOL-4): what each kind recycles, targets and exemptions, preview equals
run, set-based runs, warnings once, the reclaim block, the jobs, the pages and the API."""

from datetime import datetime, timedelta

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.access.policy import PermissionRequiredError
from crm.api.tests import errors_text, token_client
from crm.audit.models import OperationLog
from crm.customers import pool_services, recycle, services
from crm.customers.models import (
    Customer,
    CustomerAccess,
    DictionaryItem,
    Pool,
    RecycleRule,
    RecycleWarning,
)
from crm.customers.tests.pool_factories import default_pool, set_limits
from crm.messaging.models import Notification

pytestmark = pytest.mark.django_db


def item(kind: str, name: str) -> DictionaryItem:
    return DictionaryItem.objects.get(kind=kind, name=name)


def level(name: str) -> DictionaryItem:
    return item(DictionaryItem.Kind.VALUE_LEVEL, name)


def status(name: str) -> DictionaryItem:
    return item(DictionaryItem.Kind.STATUS, name)


def owned(owner, name: str, *, claimed: int = 40, followed: int | None = None, **values) -> Customer:
    """A customer of `owner` claimed `claimed` days ago, last followed up `followed` days ago."""
    customer = services.customer_create(actor=owner, values={"name": name})
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(
        claimed_at=now - timedelta(days=claimed),
        created_at=now - timedelta(days=claimed + 1),
        last_followup_at=None if followed is None else now - timedelta(days=followed),
        **values,
    )
    return Customer.objects.get(pk=customer.pk)


def rule_make(admin, **values) -> RecycleRule:
    values = {"name": "默认规则", "kind": RecycleRule.Kind.NO_FOLLOWUP, "days": 30} | values
    return recycle.recycle_rule_save(actor=admin, rule=None, **values)


def names(customers) -> set[str]:
    return {c.name for c in customers}


def recycled_names() -> set[str]:
    return set(
        Customer.objects.filter(owner__isnull=True, release_reason__startswith="自动回收").values_list(
            "name", flat=True
        )
    )


# ---------------------------------------------------------------- kinds, with per-level days


def test_never_contacted_with_days_per_level(users):
    admin, sales = users["admin"], users["sales1"]
    a_level, b_level = level("A 级"), level("B 级")
    rule = rule_make(
        admin, kind=RecycleRule.Kind.NEVER_CONTACTED, days=10, days_by_level={str(a_level.pk): 30}
    )
    owned(sales, "B级11天未跟进", claimed=11, value_level=b_level)
    owned(sales, "无等级11天", claimed=11)
    owned(sales, "A级11天", claimed=11, value_level=a_level)
    owned(sales, "A级31天", claimed=31, value_level=a_level)
    owned(sales, "领取后跟进过", claimed=11, followed=5)
    owned(sales, "只有前任跟进过", claimed=11, followed=20)  # followed before this owner's claim
    owned(sales, "刚领取9天", claimed=9)

    counts = recycle.recycle_run()

    assert counts == {rule.pk: 4}
    assert recycled_names() == {"B级11天未跟进", "无等级11天", "A级31天", "只有前任跟进过"}
    a31 = Customer.objects.get(name="A级31天")
    assert a31.release_reason == "自动回收（规则“默认规则”）：领取后 30 天内未跟进"
    b11 = Customer.objects.get(name="B级11天未跟进")
    assert b11.release_reason == "自动回收（规则“默认规则”）：领取后 10 天内未跟进"
    assert b11.pool == default_pool() and b11.previous_owner == sales and b11.released_at is not None
    assert b11.department_id is None and b11.claimed_at is None
    assert Customer.objects.get(name="A级11天").owner == sales


def test_no_followup_counts_from_last_followup_or_claim(users):
    admin, sales = users["admin"], users["sales1"]
    a_level = level("A 级")
    rule_make(admin, days=30, days_by_level={str(a_level.pk): 60})
    owned(sales, "31天未跟进", claimed=100, followed=31)
    owned(sales, "29天前跟进", claimed=100, followed=29)
    owned(sales, "领取31天从未跟进", claimed=31)
    owned(sales, "A级31天", claimed=100, followed=31, value_level=a_level)
    owned(sales, "A级61天", claimed=100, followed=61, value_level=a_level)
    owned(sales, "前任跟进很久但刚领取", claimed=10, followed=100)

    recycle.recycle_run()

    assert recycled_names() == {"31天未跟进", "领取31天从未跟进", "A级61天"}
    assert (
        Customer.objects.get(name="A级61天").release_reason == "自动回收（规则“默认规则”）：超过 60 天未跟进"
    )


# ---------------------------------------------------------------- targets and exemptions


def test_targets_statuses_levels_and_departments_with_sub_departments(users, org):
    from crm.accounts.tests.factories import UserFactory

    admin = users["admin"]
    shenzhen_sales = UserFactory(username="sz", department=org["shenzhen"], roles=["sales"])
    intent, formal = status("意向客户"), status("正式客户")
    a_level, b_level = level("A 级"), level("B 级")
    rule = rule_make(admin, statuses=[intent], value_levels=[b_level], departments=[org["south"]])
    owned(users["sales1"], "华南意向B", status=intent, value_level=b_level)
    owned(shenzhen_sales, "深圳组意向B", status=intent, value_level=b_level)  # a sub-department
    owned(users["sales2"], "华东意向B", status=intent, value_level=b_level)
    owned(users["sales1"], "华南正式B", status=formal, value_level=b_level)
    owned(users["sales1"], "华南意向A", status=intent, value_level=a_level)
    owned(users["sales1"], "华南无状态")

    assert names(recycle.recycle_candidates(rule)) == {"华南意向B", "深圳组意向B"}
    recycle.recycle_run()
    assert recycled_names() == {"华南意向B", "深圳组意向B"}


def test_protected_customers_are_always_exempt(users):
    admin, sales = users["admin"], users["sales1"]
    rule_make(admin)
    protected = owned(sales, "受保护", protected_until=timezone.now() + timedelta(days=1))
    owned(sales, "保护已过期", protected_until=timezone.now() - timedelta(days=1))

    recycle.recycle_run()

    assert recycled_names() == {"保护已过期"}
    assert Customer.objects.get(pk=protected.pk).owner == sales


def test_exempt_statuses_and_scheduled_contacts(users):
    admin, sales = users["admin"], users["sales1"]
    rule_make(admin, exempt_statuses=[status("正式客户")], exempt_scheduled=True)
    owned(sales, "正式客户", status=status("正式客户"))
    owned(sales, "意向客户", status=status("意向客户"))
    owned(sales, "无状态")
    owned(sales, "约了下周联系", next_contact_at=timezone.now() + timedelta(days=7))
    owned(sales, "约的时间已过", next_contact_at=timezone.now() - timedelta(days=7))

    recycle.recycle_run()

    assert recycled_names() == {"意向客户", "无状态", "约的时间已过"}


def test_inactive_rules_deleted_and_public_customers_are_left_alone(users):
    admin, sales = users["admin"], users["sales1"]
    rule_make(admin, is_active=False)
    owned(sales, "甲公司")
    services.customer_create(actor=admin, values={"name": "公海客户"}, pool=default_pool())

    assert recycle.recycle_run() == {}
    assert Customer.objects.get(name="甲公司").owner == sales


def test_destination_pool_shares_and_team_rows_removed(users):
    admin, sales = users["admin"], users["sales1"]
    other_pool = Pool.objects.create(name="华南公海")
    rule_make(admin, pool=other_pool)
    customer = owned(sales, "甲公司")
    CustomerAccess.objects.create(customer=customer, user=users["sales2"], kind=CustomerAccess.Kind.SHARED)
    CustomerAccess.objects.create(customer=customer, user=users["manager"], kind=CustomerAccess.Kind.TEAM)

    recycle.recycle_run()

    customer.refresh_from_db()
    assert customer.pool == other_pool and customer.owner is None
    assert not CustomerAccess.objects.filter(customer=customer).exists()


# ---------------------------------------------------------------- preview = run, set-based, logged


def test_preview_lists_what_the_run_recycles(users):
    admin = users["admin"]
    a_level = level("A 级")
    rule = rule_make(admin, days=30, days_by_level={str(a_level.pk): 60})
    for i in range(4):
        owned(users["sales1"], f"甲{i}", followed=31 + i)
        owned(users["sales2"], f"乙{i}", claimed=100, followed=40 + i * 10, value_level=a_level)
        owned(users["sales2"], f"丙{i}", followed=10)

    preview = recycle.recycle_preview(rule, limit=3)
    full = recycle.recycle_preview(rule)
    expected = names(full.rows)
    recycle.recycle_run()

    assert preview.count == full.count == 6 and len(preview.rows) == 3
    assert expected == recycled_names() == {"甲0", "甲1", "甲2", "甲3", "乙2", "乙3"}
    row = next(r for r in full.rows if r.name == "乙2")
    assert row.recycle_why.endswith("超过 60 天未跟进") and row.recycle_due_at < timezone.now()


def _run_counting(users, count: int) -> int:
    from crm.accounts.tests.factories import UserFactory

    rule_make(users["admin"], name=f"规则{count}", days_by_level={str(level("A 级").pk): 20})
    # As many owners as customers / 2: nothing may be read per owner either.
    owners = [UserFactory(department=users["sales1"].department, roles=["sales"]) for _ in range(count // 2)]
    for i in range(count):
        owner = owners[i % len(owners)]
        customer = owned(owner, f"客户{count}-{i}", value_level=level("A 级") if i % 3 == 0 else None)
        CustomerAccess.objects.create(customer=customer, user=users["manager"])
    with CaptureQueriesContext(connection) as queries:
        assert sum(recycle.recycle_run().values()) == count
    return len(queries)


def test_run_issues_the_same_number_of_queries_for_5_or_50_and_logs_each(users):
    few = _run_counting(users, 5)
    Customer.objects.all().delete()
    RecycleRule.objects.all().delete()
    OperationLog.objects.all().delete()
    Notification.objects.all().delete()

    many = _run_counting(users, 50)

    assert few == many
    assert Notification.objects.count() == 25  # one per former owner
    logs = OperationLog.objects.filter(action="pool.recycled")
    assert logs.count() == 50
    assert len(set(logs.values_list("target_id", flat=True))) == 50
    a_log = logs.get(target_repr="客户50-0")
    assert a_log.message == "自动回收（规则“规则50”）：超过 20 天未跟进"
    assert logs.get(target_repr="客户50-1").message == "自动回收（规则“规则50”）：超过 30 天未跟进"


def test_each_former_owner_gets_one_summary(users):
    rule_make(users["admin"], name="三十天规则")
    for i in range(3):
        owned(users["sales1"], f"甲{i}")
    for i in range(2):
        owned(users["sales2"], f"乙{i}")

    recycle.recycle_run()

    first = Notification.objects.get(recipient=users["sales1"])
    second = Notification.objects.get(recipient=users["sales2"])
    assert first.title == "您有 3 个客户已被自动回收到“公海”"
    assert "三十天规则" in first.body and "超过 30 天未跟进" in first.body and "甲0" in first.body
    assert second.title.startswith("您有 2 个客户")
    rule = RecycleRule.objects.get()
    assert rule.last_run_count == 5 and rule.last_run_at is not None


def test_run_in_batches(users, monkeypatch):
    monkeypatch.setattr(recycle, "RECYCLE_BATCH", 2)
    rule_make(users["admin"])
    for i in range(5):
        owned(users["sales1"], f"甲{i}")

    assert sum(recycle.recycle_run().values()) == 5
    assert Notification.objects.get(recipient=users["sales1"]).title.startswith("您有 5 个客户")
    assert OperationLog.objects.filter(action="pool.recycled").count() == 5


def test_former_owner_may_not_reclaim_within_the_window(users):
    set_limits(reclaim_after_days=7)
    rule_make(users["admin"])
    customer = owned(users["sales1"], "甲公司")
    recycle.recycle_run()
    customer.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        pool_services.pool_claim(actor=users["sales1"], customer=customer)

    assert "7 天内不能再次领取" in " ".join(refused.value.messages)
    assert Customer.objects.get(pk=customer.pk).owner is None
    pool_services.pool_claim(actor=users["sales2"], customer=customer)
    assert Customer.objects.get(pk=customer.pk).owner == users["sales2"]


def test_run_now_needs_pool_settings(users):
    rule_make(users["admin"])
    owned(users["sales1"], "甲公司")
    with pytest.raises(PermissionRequiredError):
        recycle.recycle_run(actor=users["manager"])
    assert Customer.objects.get(name="甲公司").owner == users["sales1"]


# ---------------------------------------------------------------- warnings


def test_owner_is_warned_once_before_recycling(users):
    rule_make(users["admin"], days=30, warn_days_before=3)
    soon = owned(users["sales1"], "两天后回收", followed=28)
    owned(users["sales1"], "还早", followed=10)
    owned(users["sales2"], "一天后回收", followed=29)
    owned(users["sales2"], "保护中", followed=29, protected_until=timezone.now() + timedelta(days=10))

    assert recycle.recycle_warnings_send() == 2
    assert recycle.recycle_warnings_send() == 0

    note = Notification.objects.get(recipient=users["sales1"])
    assert note.title == "您有 1 个客户即将被自动回收" and "两天后回收" in note.body
    assert note.kind == Notification.Kind.REMINDER
    assert Notification.objects.filter(recipient=users["sales2"]).count() == 1
    # A follow-up moves the due date: a new warning when the new date comes near, not before.
    Customer.objects.filter(pk=soon.pk).update(last_followup_at=timezone.now())
    assert recycle.recycle_warnings_send() == 0
    later = timezone.now() + timedelta(days=28)
    assert recycle.recycle_warnings_send(now=later) >= 1
    assert RecycleWarning.objects.filter(customer=soon).count() == 2


def test_overdue_customers_not_recycled_yet_are_warned_once(users):
    rule_make(users["admin"], days=30, warn_days_before=3)
    owned(users["sales1"], "已到期未回收", followed=40)

    assert recycle.recycle_warnings_send() == 1
    assert recycle.recycle_warnings_send(now=timezone.now() + timedelta(days=1)) == 0
    assert Notification.objects.filter(recipient=users["sales1"]).count() == 1


def test_no_warning_without_warn_days(users):
    rule_make(users["admin"], warn_days_before=0)
    owned(users["sales1"], "甲公司", followed=29)
    assert recycle.recycle_warnings_send() == 0
    assert not Notification.objects.exists()


# ---------------------------------------------------------------- jobs


def test_jobs_run_daily_at_two_and_eight_local_time():
    from crm.customers import tasks

    recycle_job = tasks.run_recycle_rules.task_class()
    warn_job = tasks.warn_recycle_due.task_class()
    # huey passes naive UTC timestamps; 18:00 UTC is 02:00 in Asia/Shanghai, 00:00 UTC 08:00.
    assert recycle_job.validate_datetime(datetime(2026, 11, 23, 18, 0))  # noqa: DTZ001
    assert not recycle_job.validate_datetime(datetime(2026, 11, 23, 2, 0))  # noqa: DTZ001
    assert warn_job.validate_datetime(datetime(2026, 11, 23, 0, 0))  # noqa: DTZ001
    assert not warn_job.validate_datetime(datetime(2026, 11, 23, 18, 0))  # noqa: DTZ001


def test_jobs_in_immediate_mode(users):
    from huey.contrib.djhuey import HUEY

    from crm.customers import tasks

    rule_make(users["admin"], days=30, warn_days_before=3)
    owned(users["sales1"], "到期客户", followed=31)
    owned(users["sales2"], "快到期客户", followed=29)
    HUEY.immediate = True
    try:
        tasks.warn_recycle_due()
        tasks.warn_recycle_due()
        tasks.run_recycle_rules()
        tasks.run_recycle_rules()
    finally:
        HUEY.immediate = False
    assert recycled_names() == {"到期客户"}
    assert Notification.objects.filter(recipient=users["sales2"]).count() == 1  # warned once
    assert Notification.objects.filter(recipient=users["sales1"], title__contains="已被自动回收").count() == 1


# ---------------------------------------------------------------- rule settings (service)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"days": -1}, "天数应为 1 到 3650 之间的整数。"),
        ({"days": 0}, "天数应为 1 到 3650 之间的整数。"),
        ({"days": "abc"}, "天数应为 1 到 3650 之间的整数。"),
        ({"days_by_level": {"999999": 10}}, "未知的价值等级"),
        ({"days_by_level": {"A": 10}}, "未知的价值等级"),
        ({"warn_days_before": -2}, "提前提醒天数应为 0 到 365 之间的整数。"),
        ({"name": " "}, "规则名称不能为空。"),
        ({"kind": "contract_end"}, "请选择回收条件。"),
        ({"statuses": [999999]}, "适用客户状态中有未知的状态。"),
        ({"departments": [999999]}, "适用部门中有未知的部门。"),
    ],
)
def test_bad_rule_values_are_refused_and_change_nothing(users, values, message):
    with pytest.raises(ValidationError) as refused:
        rule_make(users["admin"], **values)
    assert message in " ".join(refused.value.messages)
    assert not RecycleRule.objects.exists()


def test_level_days_of_a_status_item_are_refused(users):
    with pytest.raises(ValidationError) as refused:
        rule_make(users["admin"], days_by_level={str(status("正式客户").pk): 10})
    assert "未知的价值等级" in " ".join(refused.value.messages)


def test_only_pool_settings_may_keep_rules(users):
    with pytest.raises(PermissionRequiredError):
        rule_make(users["manager"])
    assert not RecycleRule.objects.exists()


# ---------------------------------------------------------------- pages


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_settings_page_lists_rules(users, login):
    rule = rule_make(users["admin"], name="三十天未跟进", days_by_level={str(level("A 级").pk): 60})
    page = login(users["admin"]).get("/pool/settings/").content.decode()
    assert 'data-testid="recycle-rules"' in page
    assert "三十天未跟进" in page and "超过 30 天未跟进（A 级 60 天）" in page
    assert f"/pool/settings/recycle/{rule.pk}/preview/" in page


@pytest.mark.parametrize("role", ["manager", "sales1", "finance", "norole"])
def test_rule_pages_need_pool_settings(users, login, role):
    rule = rule_make(users["admin"])
    owned(users["sales1"], "甲公司")
    client = login(users[role])
    base = f"/pool/settings/recycle/{rule.pk}"
    assert client.get("/pool/settings/recycle/new/").status_code == 403
    assert client.get(f"{base}/edit/").status_code == 403
    assert client.get(f"{base}/preview/").status_code == 403
    assert (
        client.post(
            "/pool/settings/recycle/new/", {"name": "x", "kind": "no_followup", "days": 5}
        ).status_code
        == 403
    )
    assert client.post(f"{base}/toggle/").status_code == 403
    assert client.post(f"{base}/delete/").status_code == 403
    assert client.post(f"{base}/run/").status_code == 403
    assert client.post("/pool/settings/recycle/run/").status_code == 403
    assert RecycleRule.objects.get().is_active and RecycleRule.objects.count() == 1
    assert Customer.objects.get(name="甲公司").owner == users["sales1"]


def test_create_edit_toggle_delete_through_the_pages(users, login, org):
    client = login(users["admin"])
    a_level = level("A 级")
    assert client.get("/pool/settings/recycle/new/").status_code == 200

    response = client.post(
        "/pool/settings/recycle/new/",
        {
            "name": "两周未联系",
            "kind": "never_contacted",
            "days": "14",
            f"level_{a_level.pk}": "30",
            "departments": [org["south"].pk],
            "exempt_statuses": [status("正式客户").pk],
            "warn_days_before": "2",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    rule = RecycleRule.objects.get()
    assert (rule.kind, rule.days, rule.days_by_level, rule.warn_days_before) == (
        "never_contacted",
        14,
        {str(a_level.pk): 30},
        2,
    )
    assert list(rule.departments.all()) == [org["south"]] and rule.is_active
    assert OperationLog.objects.filter(action="pool.recycle_rule_created").count() == 1
    edit = client.get(f"/pool/settings/recycle/{rule.pk}/edit/").content.decode()
    assert 'value="30"' in edit and "两周未联系" in edit

    client.post(f"/pool/settings/recycle/{rule.pk}/toggle/")
    assert not RecycleRule.objects.get().is_active
    client.post(f"/pool/settings/recycle/{rule.pk}/delete/")
    assert not RecycleRule.objects.exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"days": "-3"}, "天数应为 1 到 3650 之间的整数。"),
        ({"days": "abc"}, "天数应为 1 到 3650 之间的整数。"),
        ({"warn_days_before": "-1"}, "提前提醒天数应为 0 到 365 之间的整数。"),
        ({"name": ""}, ""),
        ({"value_levels": ["999999"]}, ""),
    ],
)
def test_bad_input_on_the_page_changes_nothing(users, login, changes, message):
    client = login(users["admin"])
    data = {"name": "规则", "kind": "no_followup", "days": "30", "warn_days_before": "0"} | changes
    response = client.post("/pool/settings/recycle/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RecycleRule.objects.exists()


def test_level_days_must_be_positive_on_the_page(users, login):
    a_level = level("A 级")
    rule = rule_make(users["admin"])
    response = login(users["admin"]).post(
        f"/pool/settings/recycle/{rule.pk}/edit/",
        {
            "name": "改名",
            "kind": "no_followup",
            "days": "30",
            "warn_days_before": "0",
            f"level_{a_level.pk}": "0",
        },
    )
    assert response.status_code == 400 and "天数应为 1 到 3650 之间的整数。" in response.content.decode()
    assert RecycleRule.objects.get().name == "默认规则"


def test_duplicate_name_is_refused_on_the_page(users, login):
    rule_make(users["admin"], name="已有规则")
    response = login(users["admin"]).post(
        "/pool/settings/recycle/new/",
        {"name": "已有规则", "kind": "no_followup", "days": "30", "warn_days_before": "0"},
    )
    assert response.status_code == 400 and "规则名称“已有规则”已存在。" in response.content.decode()
    assert RecycleRule.objects.count() == 1


def test_preview_page_and_run_now(users, login, django_assert_max_num_queries):
    rule = rule_make(users["admin"], name="三十天规则")
    for i in range(3):
        owned(users["sales1"], f"甲{i}", followed=31)
    owned(users["sales1"], "最近联系过", followed=3)
    client = login(users["admin"])

    with django_assert_max_num_queries(25):
        page = client.get(f"/pool/settings/recycle/{rule.pk}/preview/").content.decode()

    assert "现在执行将回收 3 个客户" in page and "甲0" in page and "最近联系过" not in page
    assert "超过 30 天未跟进" in page and 'data-testid="recycle-run"' in page
    response = client.post(f"/pool/settings/recycle/{rule.pk}/run/", follow=True)
    assert "已回收 3 个客户。" in response.content.decode()
    assert recycled_names() == {"甲0", "甲1", "甲2"}
    assert OperationLog.objects.filter(action="pool.recycled", actor=users["admin"]).count() == 3


def test_unknown_rule_answers_404(users, login):
    assert login(users["admin"]).get("/pool/settings/recycle/999999/preview/").status_code == 404


# ---------------------------------------------------------------- API

API = "/api/v1/pool/recycle-rules/"


def test_api_crud_preview_and_run(users):
    client = token_client(users["admin"])
    a_level = level("A 级")
    owned(users["sales1"], "甲公司", followed=31)
    owned(users["sales1"], "A级甲公司", followed=31, value_level=a_level)

    response = client.post(
        API,
        {"name": "接口规则", "kind": "no_followup", "days": 30, "days_by_level": {str(a_level.pk): 60}},
        format="json",
    )
    assert response.status_code == 201, response.content
    rule_id = response.json()["id"]
    assert response.json()["days_by_level"] == {str(a_level.pk): 60}
    assert client.get(API).json()["results"][0]["name"] == "接口规则"

    preview = client.get(f"{API}{rule_id}/preview/").json()
    assert preview["count"] == 1 and preview["customers"][0]["name"] == "甲公司"
    assert preview["customers"][0]["owner"] == users["sales1"].pk

    patched = client.patch(f"{API}{rule_id}/", {"days": 20, "warn_days_before": 2}, format="json")
    assert patched.status_code == 200 and patched.json()["days"] == 20
    assert patched.json()["days_by_level"] == {str(a_level.pk): 60}

    assert client.post(f"{API}{rule_id}/run/").json() == {"count": 1}
    assert recycled_names() == {"甲公司"}
    assert client.delete(f"{API}{rule_id}/").status_code == 204
    assert not RecycleRule.objects.exists()


@pytest.mark.parametrize(
    "body, message",
    [
        ({"name": "x", "kind": "no_followup", "days": -1}, "天数应为 1 到 3650 之间的整数。"),
        ({"name": "x", "kind": "no_followup", "days": 5, "days_by_level": {"999999": 3}}, "未知的价值等级"),
        ({"name": "x", "kind": "no_followup", "days": 5, "warn_days_before": 999}, "提前提醒天数"),
        ({"name": "x", "kind": "no_followup", "days": 5, "statuses": [999999]}, "适用客户状态中有未知的状态"),
        ({"name": "x", "kind": "no_followup", "days": 5, "color": "red"}, "未知字段"),
    ],
)
def test_api_bad_input(users, body, message):
    response = token_client(users["admin"]).post(API, body, format="json")
    assert response.status_code == 400 and message in errors_text(response)
    assert not RecycleRule.objects.exists()


def test_api_needs_pool_settings(users):
    rule = rule_make(users["admin"])
    owned(users["sales1"], "甲公司")
    for role in ("manager", "sales1", "finance"):
        client = token_client(users[role])
        assert client.get(API).status_code == 403
        assert client.get(f"{API}{rule.pk}/preview/").status_code == 403
        assert (
            client.post(API, {"name": "y", "kind": "no_followup", "days": 3}, format="json").status_code
            == 403
        )
        assert client.patch(f"{API}{rule.pk}/", {"days": 3}, format="json").status_code == 403
        assert client.post(f"{API}{rule.pk}/run/").status_code == 403
        assert client.delete(f"{API}{rule.pk}/").status_code == 403
    assert RecycleRule.objects.get().days == 30
    assert Customer.objects.get(name="甲公司").owner == users["sales1"]
    assert token_client(users["admin"]).get(f"{API}999999/").status_code == 404


def test_recycle_rule_paths_are_in_the_schema(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    assert {API, f"{API}{{id}}/", f"{API}{{id}}/preview/", f"{API}{{id}}/run/"} <= set(paths)
    assert set(paths[f"{API}{{id}}/"]) == {"get", "patch", "delete"}


# ---------------------------------------------------------------- concurrency (PostgreSQL)


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_recycle_each_customer_once(users, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL; SQLite serialises writers")
    from crm.customers.tests.test_pool_concurrency import run_at_once

    monkeypatch.setattr(recycle, "RECYCLE_BATCH", 7)
    rule_make(users["admin"])
    for i in range(60):
        owned(users["sales1"] if i % 2 else users["sales2"], f"客户{i}")

    results = run_at_once([lambda: sum(recycle.recycle_run().values()) for _ in range(3)])

    assert all(kind == "ok" for kind, _detail in results), results
    assert sum(detail for _kind, detail in results) == 60
    assert Customer.objects.filter(owner__isnull=True).count() == 60
    logs = OperationLog.objects.filter(action="pool.recycled")
    assert logs.count() == 60 and len(set(logs.values_list("target_id", flat=True))) == 60


def test_an_unsaved_rule_is_previewed_before_saving_and_nothing_is_stored(users, login):
    """The admin previews what a rule would recycle today, from the form, before saving it."""
    owned(users["sales1"], "三十天未联系公司", claimed=40)
    owned(users["sales1"], "刚领取公司", claimed=2)
    client = login(users["admin"])
    form = {
        "name": "一月未联系",
        "kind": "never_contacted",
        "days": "30",
        "warn_days_before": "0",
        "is_active": "on",
        "preview": "1",
    }

    response = client.post("/pool/settings/recycle/new/", form)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="recycle-unsaved-preview"' in page
    assert "三十天未联系公司" in page and "刚领取公司" not in page
    assert not RecycleRule.objects.exists()
    assert not OperationLog.objects.filter(action__startswith="pool.recycle_rule").exists()
    assert Customer.objects.filter(name="三十天未联系公司", owner=users["sales1"]).exists()


def test_previewing_an_edited_rule_leaves_the_saved_rule_as_it_was(users, login):
    owned(users["sales1"], "四十天未联系公司", claimed=40)
    rule = rule_make(users["admin"], name="六十天未联系", kind="never_contacted", days=60)
    client = login(users["admin"])

    response = client.post(
        f"/pool/settings/recycle/{rule.pk}/edit/",
        {
            "name": "六十天未联系",
            "kind": "never_contacted",
            "days": "30",
            "warn_days_before": "0",
            "is_active": "on",
            "preview": "1",
        },
    )

    assert response.status_code == 200 and "四十天未联系公司" in response.content.decode()
    rule.refresh_from_db()
    assert rule.days == 60


def test_preview_of_bad_input_explains_and_stores_nothing(users, login):
    client = login(users["admin"])
    response = client.post(
        "/pool/settings/recycle/new/", {"name": "", "kind": "no_followup", "days": "0", "preview": "1"}
    )
    assert response.status_code == 400
    assert 'data-testid="recycle-unsaved-preview"' not in response.content.decode()
    assert not RecycleRule.objects.exists()
