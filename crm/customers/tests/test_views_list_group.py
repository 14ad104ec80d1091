"""Group-by counts on the customer list (分组统计, CUS-2): same query, scope and filters as the
list; one GROUP BY; each count links to the list filtered by its value."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.customers import selectors, services
from crm.customers.models import Customer, DictionaryItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(users):
    statuses = list(DictionaryItem.objects.filter(kind="status").order_by("pk")[:2])
    levels = list(DictionaryItem.objects.filter(kind="value_level").order_by("pk")[:1])
    for i in range(7):
        services.customer_create(
            actor=users["sales1"],
            values={"name": f"甲{i}", "status": statuses[i % 2], "value_level": levels[0] if i < 3 else None},
        )
    for i in range(4):
        services.customer_create(actor=users["sales2"], values={"name": f"乙{i}", "status": statuses[0]})
    return {"users": users, "statuses": statuses}


def groups(response) -> dict[str, int]:
    return {(g["label"] if not g["empty"] else ""): g["count"] for g in response.context["rows"]}


def rows_of(client, url) -> int:
    response = client.get(url)
    assert response.status_code == 200
    total, more = response.context["count"], response.context["count_more"]
    assert not more
    return total


@pytest.mark.parametrize("field", ["status", "value_level", "owner", "department", "stage"])
@pytest.mark.parametrize("username", ["sales1", "manager", "admin"])
def test_counts_equal_the_rows_of_the_filtered_list(client, data, field, username):
    client.force_login(data["users"][username])
    response = client.get("/customers/group/", {"scope": "all", "q": "甲", "by": field})
    assert response.status_code == 200
    listed = rows_of(client, "/customers/?scope=all&q=甲")
    assert sum(g["count"] for g in response.context["rows"]) + response.context["counts"].other == listed
    for row in response.context["rows"]:
        assert rows_of(client, row["url"]) == row["count"], row


def test_counts_follow_the_users_scope(client, data):
    users = data["users"]
    client.force_login(users["sales2"])
    response = client.get("/customers/group/", {"by": "owner"})
    assert groups(response) == {users["sales2"].display_name: 4}
    client.force_login(users["manager"])
    response = client.get("/customers/group/", {"by": "owner"})
    assert groups(response) == {users["sales1"].display_name: 7, users["sales2"].display_name: 4}
    client.force_login(users["norole"])
    assert client.get("/customers/group/", {"by": "owner"}).status_code == 403


def test_counts_follow_the_filters(client, data):
    client.force_login(data["users"]["manager"])
    first = data["statuses"][0]
    response = client.get("/customers/group/", {"f": "status", "op": "is", "v": first.pk, "by": "owner"})
    assert sorted(groups(response).values()) == [4, 4]
    html = response.content.decode()
    assert 'data-testid="group-count"' in html and "用时" in html


def test_top_twenty_and_the_rest(users, monkeypatch):
    for i in range(5):
        services.customer_create(actor=users["sales1"], values={"name": f"客户{i}"})
    Customer.objects.filter(name="客户0").update(department=None)
    customers = selectors.customer_list(user=users["admin"])
    counts = selectors.customer_group_counts(customers, "department", limit=1)
    assert (
        counts.total == 5 and counts.groups[0].count == 4 and counts.other == 1 and counts.other_groups == 1
    )


def test_one_group_by_query(users, data):
    customers = selectors.customer_list(user=users["admin"], query="甲")
    with CaptureQueriesContext(connection) as queries:
        selectors.customer_group_counts(customers, "status")
    sql = [q["sql"] for q in queries.captured_queries]
    # On PostgreSQL the GROUP BY runs in a savepoint under SET LOCAL statement_timeout.
    reads = [q for q in sql if not q.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "SET LOCAL"))]
    assert len([q for q in reads if "GROUP BY" in q]) == 1 and len(reads) <= 3


def test_shared_by_me_counts_customers_not_shares(client, data):
    users = data["users"]
    mine = Customer.objects.filter(owner=users["sales1"]).order_by("pk")[:2]
    services.customers_share(actor=users["sales1"], customers=mine, users=[users["sales2"], users["manager"]])
    client.force_login(users["sales1"])
    response = client.get("/customers/group/", {"scope": "shared_by_me", "by": "owner"})
    assert groups(response) == {users["sales1"].display_name: 2}


@pytest.mark.parametrize("by", ["remark", "name", "owner_id; drop table x"])
def test_unknown_group_field_is_refused(client, data, by):
    client.force_login(data["users"]["sales1"])
    response = client.get("/customers/group/", {"by": by})
    assert response.status_code == 400 and "无效" in response.content.decode()


def test_hidden_field_is_not_offered_nor_grouped(client, data):
    from crm.customers.tests.test_field_permissions import restrict

    sales1 = restrict(data["users"]["sales1"], {"customers.status": "hidden"})
    client.force_login(sales1)
    page = client.get("/customers/").content.decode()
    assert 'data-group="status"' not in page and 'data-group="owner"' in page
    assert client.get("/customers/group/", {"by": "status"}).status_code == 400


def test_close_button_empties_the_panel(client, data):
    client.force_login(data["users"]["sales1"])
    response = client.get("/customers/group/")
    assert response.status_code == 200 and response.content == b""


def test_group_view_issues_a_bounded_number_of_queries(client, data, django_assert_max_num_queries):
    client.force_login(data["users"]["manager"])
    with django_assert_max_num_queries(13):  # PostgreSQL: + savepoint, SET LOCAL, release
        response = client.get("/customers/group/", {"by": "owner", "q": "甲"})
    assert response.status_code == 200


def test_a_cancelled_group_query_says_so(client, data, monkeypatch):
    from crm.customers import selectors as customer_selectors

    def too_slow(*args, **kwargs):
        raise customer_selectors.GroupTimeoutError

    monkeypatch.setattr(customer_selectors, "customer_group_counts", too_slow)
    client.force_login(data["users"]["admin"])
    response = client.get("/customers/group/", {"by": "status"})
    assert response.status_code == 503 and "分组统计超时" in response.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's")
def test_postgresql_cancels_a_group_query_over_the_limit(users, data, monkeypatch):
    monkeypatch.setattr(selectors, "GROUP_TIMEOUT_MS", 1)
    customers = selectors.customer_list(user=users["admin"]).extra(where=["pg_sleep(0.01) IS NOT NULL"])
    with pytest.raises(selectors.GroupTimeoutError):
        selectors.customer_group_counts(customers, "status")
    assert Customer.objects.count() == 11  # the connection is still usable
