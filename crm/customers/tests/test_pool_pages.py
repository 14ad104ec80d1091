"""The pool pages (/pool/…) for each role: what they show, what they change, what they refuse."""

import pytest

from crm.customers import pool_services
from crm.customers.models import ClaimRequest, Customer, Pool, PoolSettings
from crm.customers.tests.pool_factories import (
    default_pool,
    owned_customers,
    public_customer,
    public_customers,
    set_limits,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def text(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- access per role


@pytest.mark.parametrize(
    "role, list_status, settings_status, applications_status",
    [
        ("admin", 200, 200, 200),
        ("administrator", 200, 200, 200),
        ("manager", 200, 403, 200),
        ("sales1", 200, 403, 200),
        ("finance", 403, 403, 403),
        ("service", 403, 403, 403),
        ("norole", 403, 403, 403),
    ],
)
def test_pages_per_role(users, login, role, list_status, settings_status, applications_status):
    client = login(users[role])
    assert client.get("/pool/").status_code == list_status
    assert client.get("/pool/settings/").status_code == settings_status
    assert client.get("/pool/applications/").status_code == applications_status
    assert client.get("/pool/settings/pools/new/").status_code == settings_status


def test_anonymous_is_sent_to_login(client):
    response = client.get("/pool/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_navigation_shows_the_pool_to_sales_only_with_permission(users, login):
    assert 'data-nav="pool"' in text(login(users["sales1"]).get("/"))
    assert 'data-nav="pool"' not in text(login(users["finance"]).get("/"))


# ---------------------------------------------------------------- list


def test_list_shows_public_customers_of_visible_pools_only(users, login, org):
    hidden = Pool.objects.create(name="华东公海")
    hidden.departments.set([org["east"]])
    public_customer(users["admin"], name="看得见的公海客户")
    public_customer(users["admin"], name="华东专属客户", pool=hidden)
    owned_customers(users["sales2"], 1, prefix="别人的客户")

    page = text(login(users["sales1"]).get("/pool/"))

    assert "看得见的公海客户" in page
    assert "华东专属客户" not in page
    assert "别人的客户" not in page
    assert 'data-testid="claim"' in page
    assert 'data-testid="batch-assign"' not in page  # sales cannot assign


def test_list_searches_by_pinyin_and_filters_by_pool(users, login):
    other = Pool.objects.create(name="第二公海")
    public_customer(users["admin"], name="深圳市中兴通讯股份有限公司")
    public_customer(users["admin"], name="华为技术有限公司", pool=other)
    client = login(users["sales1"])

    assert "中兴" in text(client.get("/pool/", {"q": "zx"}))
    assert "华为" not in text(client.get("/pool/", {"q": "zx"}))
    by_pool = text(client.get("/pool/", {"pool": other.pk}))
    assert "华为" in by_pool and "中兴" not in by_pool


def test_list_pages_with_a_cursor_in_bounded_queries(users, login, django_assert_max_num_queries):
    public_customers(users["admin"], 45)
    client = login(users["manager"])
    client.get("/pool/")  # warm up session and caches

    with django_assert_max_num_queries(15):
        first = client.get("/pool/")
    assert text(first).count('data-testid="pool-row"') == 20
    cursor = first.context["page"].next_cursor
    assert cursor
    with django_assert_max_num_queries(15):
        second = client.get("/pool/", {"cursor": cursor})
    with django_assert_max_num_queries(15):
        third = client.get("/pool/", {"cursor": second.context["page"].next_cursor})
    assert text(third).count('data-testid="pool-row"') == 5
    names = {c.name for page in (first, second, third) for c in page.context["page"].items}
    assert len(names) == 45


def test_claimed_tab_shows_claimed_customers_in_scope(users, login):
    customer = public_customer(users["admin"], name="已被领走的客户")
    pool_services.pool_claim(actor=users["sales1"], customer=customer)

    manager_page = text(login(users["manager"]).get("/pool/", {"status": "claimed"}))
    assert "已被领走的客户" in manager_page and 'data-testid="batch-recall"' in manager_page
    assert "已被领走的客户" not in text(login(users["sales2"]).get("/pool/", {"status": "claimed"}))


# ---------------------------------------------------------------- claim, assign, recall, delete


def test_sales_claims_from_the_list(users, login):
    customer = public_customer(users["admin"])
    response = login(users["sales1"]).post(f"/pool/{customer.pk}/claim/", follow=True)
    assert "已领取客户“深圳市中兴通讯股份有限公司”" in text(response)
    customer.refresh_from_db()
    assert customer.owner == users["sales1"]


def test_a_late_claimant_sees_that_the_customer_is_taken(users, login):
    customer = public_customer(users["admin"])
    pool_services.pool_claim(actor=users["sales2"], customer=customer)

    response = login(users["sales1"]).post(f"/pool/{customer.pk}/claim/", follow=True)

    assert response.status_code == 200
    assert "该客户已被其他人领取" in text(response)


def test_claim_refusal_is_shown_and_changes_nothing(users, login):
    set_limits(max_claims_per_day=1)
    first, second = public_customers(users["admin"], 2)
    client = login(users["sales1"])
    client.post(f"/pool/{first.pk}/claim/")

    response = client.post(f"/pool/{second.pk}/claim/", follow=True)

    assert "已达到每天最多 1 个的上限" in text(response)
    second.refresh_from_db()
    assert second.owner is None


def test_claiming_a_customer_outside_the_visible_pools_answers_404(users, login, org):
    hidden = Pool.objects.create(name="华东公海")
    hidden.departments.set([org["east"]])
    customer = public_customer(users["admin"], pool=hidden)
    assert login(users["sales1"]).post(f"/pool/{customer.pk}/claim/").status_code == 404
    assert login(users["finance"]).post(f"/pool/{customer.pk}/claim/").status_code == 403


def test_claim_in_an_approval_pool_becomes_an_application(users, login):
    pool = Pool.objects.create(name="审批公海", claim_needs_approval=True)
    customer = public_customer(users["admin"], pool=pool)
    client = login(users["sales1"])
    assert "申请领取" in text(client.get("/pool/"))

    response = client.post(f"/pool/{customer.pk}/claim/", {"reason": "熟人"}, follow=True)

    assert "请等待审批" in text(response)
    assert ClaimRequest.objects.get().reason == "熟人"
    assert "待审批" in text(client.get("/pool/applications/"))


def test_manager_approves_and_rejects_applications(users, login):
    pool = Pool.objects.create(name="审批公海", claim_needs_approval=True)
    first, second = public_customers(users["admin"], 2, pool=pool)
    to_approve = pool_services.pool_apply(actor=users["sales1"], customer=first)
    to_reject = pool_services.pool_apply(actor=users["sales2"], customer=second)
    client = login(users["manager"])
    page = text(client.get("/pool/applications/"))
    assert page.count('data-testid="application-row"') == 2

    client.post(f"/pool/applications/{to_approve.pk}/approve/", {"note": "同意"})
    response = client.post(f"/pool/applications/{to_reject.pk}/reject/", {"note": "不合适"}, follow=True)

    assert "已驳回" in text(response)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.owner == users["sales1"] and second.owner is None
    # A salesperson cannot decide.
    again = pool_services.pool_apply(actor=users["sales1"], customer=second)
    assert login(users["sales2"]).post(f"/pool/applications/{again.pk}/approve/").status_code == 403


def test_manager_batch_assigns_from_the_list(users, login):
    customers = public_customers(users["admin"], 3)
    client = login(users["manager"])
    assert 'data-testid="batch-assign"' in text(client.get("/pool/"))

    response = client.post(
        "/pool/assign/", {"ids": [c.pk for c in customers], "to_user": users["sales2"].pk}, follow=True
    )

    assert "已把 3 个客户指派给" in text(response)
    assert Customer.objects.filter(owner=users["sales2"]).count() == 3


def test_assigning_to_a_disabled_user_shows_the_refusal(users, login):
    customers = public_customers(users["admin"], 1)
    users["sales2"].is_active = False
    users["sales2"].save()
    response = login(users["manager"]).post(
        "/pool/assign/", {"ids": [customers[0].pk], "to_user": users["sales2"].pk}, follow=True
    )
    assert "不能把客户指派给已停用的员工" in text(response)
    assert not Customer.objects.filter(owner__isnull=False).exists()


def test_sales_cannot_assign_or_recall(users, login):
    customers = public_customers(users["admin"], 1)
    client = login(users["sales1"])
    assert (
        client.post("/pool/assign/", {"ids": [customers[0].pk], "to_user": users["sales1"].pk}).status_code
        == 403
    )
    assert client.post("/pool/recall/", {"ids": [customers[0].pk]}).status_code == 403
    assert client.post("/pool/delete/", {"ids": [customers[0].pk]}).status_code == 403


def test_manager_recalls_with_a_reason(users, login):
    customers = owned_customers(users["sales1"], 2)
    response = login(users["manager"]).post(
        "/pool/recall/",
        {"ids": [c.pk for c in customers], "pool": default_pool().pk, "reason": "离职交接"},
        follow=True,
    )
    assert "已把 2 个客户收回到" in text(response)
    assert set(Customer.objects.values_list("release_reason", flat=True)) == {"离职交接"}


def test_recall_outside_scope_shows_the_refusal(users, login):
    outside = owned_customers(users["finance"], 1)
    response = login(users["manager"]).post(
        "/pool/recall/", {"ids": [outside[0].pk], "pool": default_pool().pk, "reason": "x"}, follow=True
    )
    assert "不能收回" in text(response)
    outside[0].refresh_from_db()
    assert outside[0].owner == users["finance"]


def test_manager_deletes_public_customers_to_the_recycle_bin(users, login):
    customers = public_customers(users["admin"], 2)
    response = login(users["manager"]).post("/pool/delete/", {"ids": [c.pk for c in customers]}, follow=True)
    assert "已把 2 个客户移入回收站" in text(response)
    assert Customer.objects.filter(deleted_at__isnull=False).count() == 2


# ---------------------------------------------------------------- release


def test_owner_releases_through_the_release_page(users, login):
    customer = owned_customers(users["sales1"], 1)[0]
    client = login(users["sales1"])
    assert client.get(f"/pool/release/{customer.pk}/").status_code == 200

    assert client.post(f"/pool/release/{customer.pk}/", {"reason": ""}).status_code == 400
    response = client.post(f"/pool/release/{customer.pk}/", {"reason": "不再跟进"}, follow=True)

    assert "已退回公海" in text(response)
    customer.refresh_from_db()
    assert customer.owner is None and customer.pool == default_pool()


def test_release_page_of_someone_elses_customer_answers_404(users, login):
    customer = owned_customers(users["sales1"], 1)[0]
    assert login(users["manager"]).get(f"/pool/release/{customer.pk}/").status_code == 404
    assert login(users["sales2"]).post(f"/pool/release/{customer.pk}/", {"reason": "x"}).status_code == 404


# ---------------------------------------------------------------- settings


def test_admin_creates_a_pool_for_a_department(users, login, org):
    client = login(users["administrator"])
    response = client.post(
        "/pool/settings/pools/new/",
        {"name": "华南公海", "departments": [org["south"].pk], "claim_needs_approval": "on"},
    )
    assert response.status_code == 302
    pool = Pool.objects.get(name="华南公海")
    assert pool.claim_needs_approval and list(pool.departments.all()) == [org["south"]]
    assert "华南公海" in text(client.get("/pool/settings/"))
    assert "华南公海" in text(login(users["sales1"]).get("/pool/"))
    assert "华南公海" not in text(login(users["sales2"]).get("/pool/"))


def test_duplicate_pool_name_is_refused(users, login):
    response = login(users["administrator"]).post("/pool/settings/pools/new/", {"name": default_pool().name})
    assert response.status_code == 400 and "已存在" in text(response)


def test_admin_saves_limits_and_bad_input_changes_nothing(users, login):
    client = login(users["administrator"])
    ok = client.post("/pool/settings/", {"max_owned": 50, "max_claims_per_day": 5, "reclaim_after_days": 30})
    assert ok.status_code == 302
    bad = client.post("/pool/settings/", {"max_owned": -1, "max_claims_per_day": 5, "reclaim_after_days": 30})
    assert bad.status_code == 400
    limits = PoolSettings.load()
    assert (limits.max_owned, limits.max_claims_per_day, limits.reclaim_after_days) == (50, 5, 30)


def test_admin_removes_an_empty_pool(users, login):
    empty = Pool.objects.create(name="空公海")
    login(users["administrator"]).post(f"/pool/settings/pools/{empty.pk}/delete/")
    assert not Pool.objects.filter(pk=empty.pk).exists()
    response = login(users["administrator"]).post(
        f"/pool/settings/pools/{default_pool().pk}/delete/", follow=True
    )
    assert "默认公海不能删除" in text(response)
