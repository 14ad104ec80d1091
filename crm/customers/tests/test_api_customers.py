"""/api/v1/customers/: the same data scope, permissions and validations as the customer pages."""

import pytest

from crm.api.tests import clear_throttle, errors_text, token_client, token_login
from crm.audit.models import OperationLog
from crm.customers import services
from crm.customers.models import Customer, CustomerAccess, DictionaryItem
from crm.customers.text import credit_code_check_char

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    clear_throttle()


def make(user, name="甲公司", **values):
    return services.customer_create(actor=user, values={"name": name, **values})


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def snapshot():
    return list(Customer.objects.order_by("pk").values()), list(
        CustomerAccess.objects.order_by("pk").values()
    )


def valid_credit_code(body="91440300279583285"):
    return body + credit_code_check_char(body)


# ---------------------------------------------------------------- reading


def test_owner_lists_own_customers_with_a_real_token(users):
    mine = make(users["sales1"], "深圳市中兴通讯股份有限公司")
    make(users["sales2"], "华为技术有限公司")
    client = token_login("sales1")

    response = client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert ids(response) == [mine.pk]
    row = body["results"][0]
    assert row["owner"] == {"id": users["sales1"].pk, "name": users["sales1"].name}
    assert row["code"] == mine.code
    for private in ("name_pinyin", "name_initials", "name_grams", "deleted_by", "credit_code", "remark"):
        assert private not in row


def test_other_salesperson_gets_404_for_a_customer_outside_their_scope(users):
    theirs = make(users["sales1"])

    response = token_client(users["sales2"]).get(f"{URL}{theirs.pk}/")

    assert response.status_code == 404
    assert response.json()["detail"]
    assert ids(token_client(users["sales2"]).get(URL)) == []


def test_manager_reads_both_salespeoples_customers(users):
    first = make(users["sales1"], "甲")
    second = make(users["sales2"], "乙")
    client = token_client(users["manager"])

    assert set(ids(client.get(URL))) == {first.pk, second.pk}
    detail = client.get(f"{URL}{second.pk}/")
    assert detail.status_code == 200
    assert detail.json()["name"] == "乙"
    assert detail.json()["can_edit"] is True


def test_detail_shows_the_form_fields_but_not_internal_columns(users):
    status = DictionaryItem.objects.filter(kind="status").first()
    customer = make(users["sales1"], "深圳市中兴通讯", status=status, remark="老客户")

    body = token_client(users["sales1"]).get(f"{URL}{customer.pk}/").json()

    assert body["status"] == {"id": status.pk, "name": status.name}
    assert body["remark"] == "老客户"
    assert body["owner"]["id"] == users["sales1"].pk
    assert "name_pinyin" not in body and "deleted_at" not in body


def test_anonymous_and_roleless_users_are_refused(users):
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code == 401
    assert token_client(users["norole"]).get(URL).status_code == 403


@pytest.mark.parametrize("query", ["zx", "zhongxing", "中兴"])
def test_quick_search_finds_chinese_names_by_pinyin(users, query):
    found = make(users["sales1"], "深圳市中兴通讯股份有限公司")
    make(users["sales1"], "华为技术有限公司")

    response = token_client(users["sales1"]).get(URL, {"q": query})

    assert ids(response) == [found.pk]


def test_filter_conditions_and_sort(users):
    status = DictionaryItem.objects.filter(kind="status").first()
    a = make(users["sales1"], "甲公司", status=status)
    b = make(users["sales1"], "乙公司", tags="重点")
    make(users["sales1"], "丙工厂")
    client = token_client(users["sales1"])

    assert ids(client.get(URL, {"filter": f"status:is:{status.pk}"})) == [a.pk]
    assert ids(client.get(URL, {"filter": ["name:contains:公司", "tags:contains:重点"]})) == [b.pk]
    assert ids(client.get(URL, {"filter": "name:contains:公司", "sort": "created_at"})) == [a.pk, b.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"filter": "password:equals:x"},
        {"filter": "name:regex:.*"},
        {"filter": "name"},
        {"filter": "status:in:abc"},
        {"filter": "status:is:99999999999999999999999"},
        {"filter": "created_at:after:2026-02-31"},
        {"filter": "created_at:after:yesterday"},
        {"sort": "owner__password"},
        {"sort": "-last_followup_at"},
        {"scope": "everyone"},
    ],
)
def test_bad_list_parameters_answer_400_with_a_chinese_message(users, params):
    make(users["sales1"])

    response = token_client(users["sales1"]).get(URL, params)

    assert response.status_code == 400
    text = errors_text(response)
    assert any(word in text for word in ("不支持", "只能是")), text


def test_list_queries_do_not_grow_with_rows(users, django_assert_max_num_queries):
    status = DictionaryItem.objects.filter(kind="status").first()
    for i in range(30):
        make(users["sales1"], f"客户{i}", status=status)
        make(users["sales2"], f"对手{i}")
    services.customers_share(
        actor=users["sales2"],
        customers=Customer.objects.filter(owner=users["sales2"]),
        users=[users["sales1"]],
    )
    for viewer in ("admin", "manager", "sales1"):
        client = token_client(users[viewer])
        with django_assert_max_num_queries(15):
            response = client.get(URL, {"page_size": 200})
        assert response.status_code == 200
        assert len(response.json()["results"]) == 60


def test_pages_walk_every_customer_once(users):
    for i in range(7):
        make(users["sales1"], f"客户{i}")
    client = token_client(users["sales1"])
    seen, url, params = [], URL, {"page_size": 3, "sort": "name"}
    while url:
        body = client.get(url, params).json()
        seen += [row["name"] for row in body["results"]]
        url, params = body["next"], None
    assert sorted(seen) == sorted(f"客户{i}" for i in range(7))
    assert len(seen) == 7


# ---------------------------------------------------------------- create / update / delete


def test_create_makes_the_caller_owner_and_logs(users):
    industry = DictionaryItem.objects.filter(kind="industry", is_active=True).first()
    client = token_client(users["sales1"])

    response = client.post(
        URL,
        {"name": "深圳市中兴通讯", "industry": industry.pk, "credit_code": valid_credit_code()},
        format="json",
    )

    assert response.status_code == 201, response.content
    customer = Customer.objects.get(pk=response.json()["id"])
    assert customer.owner == users["sales1"]
    assert customer.industry == industry
    assert response.json()["code"] == customer.code
    assert OperationLog.objects.filter(action="customer.created", target_id=str(customer.pk)).exists()


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"name": "甲", "password": "x"}, "password", "未知字段"),
        ({"name": "甲", "credit_code": "91440300279583285X"}, "credit_code", "统一社会信用代码"),
        ({"name": "甲", "status": "INDUSTRY"}, "status", "不是有效的"),
        ({"name": "甲" * 201}, "name", "200"),
        ({"name": "甲", "mobile": "12345"}, "mobile", "手机号码"),
        ({"name": "  "}, "name", ""),
        ({"name": "甲", "kind": "individual", "credit_code": "X"}, "credit_code", "统一社会信用代码"),
    ],
)
def test_bad_input_on_create_answers_400_and_changes_nothing(users, payload, field, words):
    if payload.get("status") == "INDUSTRY":
        payload = payload | {"status": DictionaryItem.objects.filter(kind="industry").first().pk}
    before = snapshot()
    logs = OperationLog.objects.count()

    response = token_client(users["sales1"]).post(URL, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert field in body, body
    assert words in errors_text(response)
    assert snapshot() == before
    assert OperationLog.objects.count() == logs


def test_inactive_dictionary_value_is_refused(users):
    status = DictionaryItem.objects.filter(kind="status").first()
    DictionaryItem.objects.filter(pk=status.pk).update(is_active=False)

    response = token_client(users["sales1"]).post(URL, {"name": "甲", "status": status.pk}, format="json")

    assert response.status_code == 400
    assert "不是有效的客户状态" in errors_text(response)
    assert not Customer.objects.exists()


def test_duplicate_credit_code_is_refused(users):
    make(users["sales2"], "甲", credit_code=valid_credit_code())

    client = token_client(users["sales1"])

    warned = client.post(URL, {"name": "乙", "credit_code": valid_credit_code()}, format="json")
    confirmed = client.post(
        URL, {"name": "乙", "credit_code": valid_credit_code(), "allow_duplicates": True}, format="json"
    )

    assert warned.status_code == 400
    assert "统一社会信用代码" in errors_text(warned)
    assert confirmed.status_code == 400
    assert "已被其他客户使用" in errors_text(confirmed)  # a credit code is unique whatever the answer
    assert Customer.objects.count() == 1


def test_similar_name_warns_until_confirmed(users):
    make(users["sales2"], "深圳市中兴通讯股份有限公司")
    client = token_client(users["sales1"])

    warned = client.post(URL, {"name": "中兴通讯有限公司"}, format="json")
    confirmed = client.post(URL, {"name": "中兴通讯有限公司", "allow_duplicates": True}, format="json")

    assert warned.status_code == 400 and "发现相似客户" in errors_text(warned)
    assert confirmed.status_code == 201
    assert Customer.objects.count() == 2


def test_create_with_first_contacts(users):
    response = token_client(users["sales1"]).post(
        URL,
        {"name": "甲", "contacts": [{"name": "张三", "mobile": "13800138000"}, {"name": "李四"}]},
        format="json",
    )

    assert response.status_code == 201, response.content
    customer = Customer.objects.get(pk=response.json()["id"])
    assert [(c.name, c.is_primary) for c in customer.contacts.all()] == [("张三", True), ("李四", False)]


def test_owner_updates_only_the_fields_sent(users):
    customer = make(users["sales1"], "甲", phone="0755-1234567")

    response = token_client(users["sales1"]).patch(f"{URL}{customer.pk}/", {"name": "甲公司"}, format="json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("甲公司", "0755-1234567")
    assert "jia" in customer.name_pinyin
    assert OperationLog.objects.filter(action="customer.updated", target_id=str(customer.pk)).exists()


def test_update_of_invisible_customer_is_404_and_read_only_share_is_403(users):
    customer = make(users["sales1"], "甲")
    before = snapshot()

    assert (
        token_client(users["sales2"]).patch(f"{URL}{customer.pk}/", {"name": "乙"}, format="json").status_code
        == 404
    )
    services.customers_share(
        actor=users["sales1"], customers=Customer.objects.filter(pk=customer.pk), users=[users["sales2"]]
    )
    response = token_client(users["sales2"]).patch(f"{URL}{customer.pk}/", {"name": "乙"}, format="json")

    assert response.status_code == 403
    assert "没有修改它的权限" in errors_text(response)
    customer.refresh_from_db()
    assert customer.name == "甲"
    assert snapshot()[0] == before[0]


def test_read_write_share_may_update(users):
    customer = make(users["sales1"], "甲")
    services.customers_share(
        actor=users["sales1"],
        customers=Customer.objects.filter(pk=customer.pk),
        users=[users["sales2"]],
        can_edit=True,
    )

    response = token_client(users["sales2"]).patch(f"{URL}{customer.pk}/", {"name": "乙"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "乙"


def test_bad_update_changes_nothing(users):
    customer = make(users["sales1"], "甲")
    before = snapshot()

    response = token_client(users["sales1"]).patch(
        f"{URL}{customer.pk}/", {"name": "乙", "credit_code": "123"}, format="json"
    )

    assert response.status_code == 400
    assert snapshot() == before


def test_delete_moves_to_the_recycle_bin(users):
    customer = make(users["sales1"], "甲")
    manager = token_client(users["manager"])

    # 销售 has no customers.delete permission.
    assert token_client(users["sales1"]).delete(f"{URL}{customer.pk}/").status_code == 403
    response = manager.delete(f"{URL}{customer.pk}/")

    assert response.status_code == 204
    customer.refresh_from_db()
    assert customer.deleted_at is not None and customer.deleted_by == users["manager"]
    assert manager.get(f"{URL}{customer.pk}/").status_code == 404
    assert OperationLog.objects.filter(action="customer.deleted", target_id=str(customer.pk)).exists()


def test_put_is_not_offered(users):
    customer = make(users["sales1"], "甲")

    response = token_client(users["sales1"]).put(f"{URL}{customer.pk}/", {"name": "乙"}, format="json")

    assert response.status_code == 405


# ---------------------------------------------------------------- transfer


def test_transfer_moves_only_customers_the_caller_may_change(users):
    mine = [make(users["sales1"], f"甲{i}") for i in range(3)]
    theirs = make(users["sales2"], "乙")

    response = token_client(users["sales1"]).post(
        f"{URL}transfer/",
        {"customer_ids": [c.pk for c in mine] + [theirs.pk, 999999], "to_user": users["manager"].pk},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"count": 3, "not_found": sorted([theirs.pk, 999999])}
    assert set(Customer.objects.filter(owner=users["manager"]).values_list("pk", flat=True)) == {
        c.pk for c in mine
    }
    theirs.refresh_from_db()
    assert theirs.owner == users["sales2"]
    assert CustomerAccess.objects.filter(user=users["sales1"], kind="team").count() == 3
    assert OperationLog.objects.filter(action="customer.transferred").count() == 3


def test_transfer_query_count_does_not_grow_with_customers(users):
    def run(n):
        batch = [make(users["sales1"], f"批{n}-{i}") for i in range(n)]
        client = token_client(users["manager"])
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                f"{URL}transfer/",
                {"customer_ids": [c.pk for c in batch], "to_user": users["sales2"].pk},
                format="json",
            )
        assert response.json()["count"] == n
        return len(queries)

    assert run(2) == run(40)


def test_transfer_to_a_disabled_user_is_refused(users):
    customer = make(users["sales1"], "甲")
    users["sales2"].is_active = False
    users["sales2"].save(update_fields=["is_active"])

    response = token_client(users["sales1"]).post(
        f"{URL}transfer/", {"customer_ids": [customer.pk], "to_user": users["sales2"].pk}, format="json"
    )

    assert response.status_code == 400
    assert "to_user" in response.json()
    customer.refresh_from_db()
    assert customer.owner == users["sales1"]


def test_transfer_needs_the_transfer_permission(users):
    customer = make(users["sales1"], "甲")

    response = token_client(users["finance"]).post(
        f"{URL}transfer/", {"customer_ids": [customer.pk], "to_user": users["finance"].pk}, format="json"
    )

    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.owner == users["sales1"]


# ---------------------------------------------------------------- share


def test_shared_customer_appears_in_the_targets_api_list(users):
    customer = make(users["sales1"], "甲")
    sales2 = token_client(users["sales2"])
    assert ids(sales2.get(URL)) == []

    response = token_client(users["sales1"]).post(
        f"{URL}share/", {"customer_ids": [customer.pk], "user_ids": [users["sales2"].pk]}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"count": 1, "not_found": []}
    assert ids(sales2.get(URL)) == [customer.pk]
    assert ids(sales2.get(URL, {"scope": "shared_with_me"})) == [customer.pk]
    assert ids(token_client(users["sales1"]).get(URL, {"scope": "shared_by_me"})) == [customer.pk]
    assert sales2.get(f"{URL}{customer.pk}/").json()["can_edit"] is False


def test_share_reports_customers_it_could_not_share(users):
    theirs = make(users["sales2"], "乙")

    response = token_client(users["sales1"]).post(
        f"{URL}share/", {"customer_ids": [theirs.pk], "user_ids": [users["service"].pk]}, format="json"
    )

    assert response.json() == {"count": 0, "not_found": [theirs.pk]}
    assert not CustomerAccess.objects.exists()


def test_share_with_unknown_user_is_refused(users):
    customer = make(users["sales1"], "甲")

    response = token_client(users["sales1"]).post(
        f"{URL}share/", {"customer_ids": [customer.pk], "user_ids": [999999]}, format="json"
    )

    assert response.status_code == 400
    assert "员工不存在或已停用" in errors_text(response)
    assert not CustomerAccess.objects.exists()


def test_share_query_count_does_not_grow_with_customers(users):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def run(n):
        batch = [make(users["sales1"], f"批{n}-{i}") for i in range(n)]
        client = token_client(users["sales1"])
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                f"{URL}share/",
                {
                    "customer_ids": [c.pk for c in batch],
                    "user_ids": [users["sales2"].pk, users["service"].pk],
                },
                format="json",
            )
        assert response.json()["count"] == n
        return len(queries)

    assert run(2) == run(40)
    assert CustomerAccess.objects.count() == 84


def test_unshare_removes_the_customer_from_the_targets_list(users):
    customer = make(users["sales1"], "甲")
    services.customers_share(
        actor=users["sales1"], customers=Customer.objects.filter(pk=customer.pk), users=[users["sales2"]]
    )
    client = token_client(users["sales1"])

    bad = client.post(f"{URL}{customer.pk}/unshare/", {"user_id": users["service"].pk}, format="json")
    response = client.post(f"{URL}{customer.pk}/unshare/", {"user_id": users["sales2"].pk}, format="json")

    assert bad.status_code == 400 and "不在该客户的共享或团队中" in errors_text(bad)
    assert response.status_code == 204
    assert ids(token_client(users["sales2"]).get(URL)) == []
    assert OperationLog.objects.filter(action="customer.unshared").count() == 1


# ---------------------------------------------------------------- recycle bin


def test_recycle_bin_restore_and_purge_for_administrators(users):
    kept, gone = make(users["sales1"], "甲"), make(users["sales1"], "乙")
    services.customers_delete(
        actor=users["manager"], customers=Customer.objects.filter(pk__in=[kept.pk, gone.pk])
    )
    admin = token_client(users["administrator"])

    listed = admin.get(f"{URL}recycle-bin/")
    restored = admin.post(f"{URL}recycle-bin/restore/", {"customer_ids": [kept.pk, 424242]}, format="json")
    purged = admin.post(f"{URL}recycle-bin/purge/", {"customer_ids": [gone.pk]}, format="json")

    assert {row["name"] for row in listed.json()["results"]} == {"甲", "乙"}
    assert listed.json()["results"][0]["deleted_by"]["id"] == users["manager"].pk
    assert restored.json() == {"count": 1, "not_found": [424242]}
    kept.refresh_from_db()
    assert kept.owner is None and kept.pool == services.default_pool() and kept.deleted_at is None
    assert purged.json() == {"count": 1, "not_found": []}
    assert not Customer.objects.filter(pk=gone.pk).exists()


def test_salespeople_cannot_open_restore_or_purge_the_recycle_bin(users):
    customer = make(users["sales1"], "甲")
    services.customers_delete(actor=users["manager"], customers=Customer.objects.filter(pk=customer.pk))
    client = token_client(users["sales1"])

    assert client.get(f"{URL}recycle-bin/").status_code == 403
    assert (
        client.post(f"{URL}recycle-bin/restore/", {"customer_ids": [customer.pk]}, format="json").status_code
        == 403
    )
    assert (
        client.post(f"{URL}recycle-bin/purge/", {"customer_ids": [customer.pk]}, format="json").status_code
        == 403
    )
    customer.refresh_from_db()
    assert customer.deleted_at is not None


@pytest.mark.parametrize(
    ("method", "path", "payload", "expected"),
    [
        ("get", "99999999999999999999/", None, 404),
        ("patch", "99999999999999999999/", {"name": "乙"}, 404),
        ("post", "transfer/", {"customer_ids": [99999999999999999999], "to_user": 1}, 400),
        ("post", "transfer/", {"customer_ids": [1], "to_user": 99999999999999999999}, 400),
        ("post", "share/", {"customer_ids": [1], "user_ids": [99999999999999999999]}, 400),
    ],
)
def test_ids_too_large_for_the_database_are_not_found_not_500(users, method, path, payload, expected):
    client = token_client(users["manager"])

    response = getattr(client, method)(f"{URL}{path}", payload, format="json")

    assert response.status_code == expected


def test_manager_sees_the_recycle_bin_of_their_scope_but_cannot_restore(users):
    ours = make(users["sales1"], "甲")
    services.customers_delete(actor=users["manager"], customers=Customer.objects.filter(pk=ours.pk))
    client = token_client(users["manager"])

    listed = client.get(f"{URL}recycle-bin/")
    restored = client.post(f"{URL}recycle-bin/restore/", {"customer_ids": [ours.pk]}, format="json")

    assert [row["id"] for row in listed.json()["results"]] == [ours.pk]
    assert restored.status_code == 403
    ours.refresh_from_db()
    assert ours.deleted_at is not None


def test_team_members_are_added_read_write_and_may_then_edit(users):
    customer = make(users["sales1"], "甲")
    owner = token_client(users["sales1"])

    response = owner.post(
        f"{URL}{customer.pk}/team/", {"user_ids": [users["sales2"].pk], "can_edit": True}, format="json"
    )

    assert response.status_code == 200, response.content
    access = CustomerAccess.objects.get(customer=customer, user=users["sales2"])
    assert (access.kind, access.can_edit) == ("team", True)
    patched = token_client(users["sales2"]).patch(f"{URL}{customer.pk}/", {"name": "乙"}, format="json")
    assert patched.status_code == 200
    removed = owner.post(f"{URL}{customer.pk}/unshare/", {"user_id": users["sales2"].pk}, format="json")
    assert removed.status_code == 204
    assert token_client(users["sales2"]).get(f"{URL}{customer.pk}/").status_code == 404


def test_owner_cannot_join_their_own_team(users):
    customer = make(users["sales1"], "甲")

    response = token_client(users["sales1"]).post(
        f"{URL}{customer.pk}/team/", {"user_ids": [users["sales1"].pk]}, format="json"
    )

    assert response.status_code == 400
    assert "负责人本人除外" in errors_text(response)
    assert not CustomerAccess.objects.exists()
