"""`?ordering=` on the customers and sales lists: allow-listed, tie-broken by id, stable with the cursor."""

import pytest

from crm.api.tests import token_client
from crm.customers.services import customer_create

pytestmark = pytest.mark.django_db


def walk(client, url, params):
    """Every row id, following `next` links page by page."""
    ids, pages = [], 0
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [row["id"] for row in body["results"]]
        pages += 1
        if not body["next"]:
            return ids, pages
        response = client.get(body["next"])


@pytest.fixture
def customers(users):
    # Names repeat, so the order within a name comes only from the id tie-breaker.
    names = ["乙", "甲", "乙", "丙", "甲", "乙", "甲"]
    return [
        customer_create(actor=users["sales1"], values={"name": f"{n}公司"}, allow_duplicates=True)
        for n in names
    ]


@pytest.mark.parametrize("ordering", ["name", "-name", "created_at", "-created_at", "code", "-updated_at"])
def test_ordering_with_the_cursor_visits_every_row_once_in_order(users, customers, ordering):
    client = token_client(users["sales1"])

    ids, pages = walk(client, "/api/v1/customers/", {"ordering": ordering, "page_size": 2})

    field = ordering.lstrip("-")
    descending = ordering.startswith("-")
    expected = sorted(customers, key=lambda c: (getattr(c, field), c.pk), reverse=descending)
    assert ids == [c.pk for c in expected]
    assert pages == 4


def test_previous_link_returns_the_same_page(users, customers):
    client = token_client(users["sales1"])
    first = client.get("/api/v1/customers/", {"ordering": "name", "page_size": 3}).json()
    second = client.get(first["next"]).json()

    back = client.get(second["previous"]).json()

    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]


@pytest.mark.parametrize(
    "url",
    ["/api/v1/customers/", "/api/v1/leads/", "/api/v1/contracts/", "/api/v1/invoices/", "/api/v1/products/"],
)
def test_an_unknown_ordering_is_400_with_the_choices(users, url):
    response = token_client(users["admin"]).get(url, {"ordering": "password"})

    assert response.status_code == 400
    message = " ".join(response.json()["ordering"])
    assert "不支持的排序字段“password”" in message and "created_at" in message


def test_the_list_query_count_does_not_grow_with_ordering(users, customers, django_assert_max_num_queries):
    client = token_client(users["sales1"])
    with django_assert_max_num_queries(20):
        client.get("/api/v1/customers/", {"ordering": "-name", "page_size": 5})


def test_the_schema_documents_ordering_on_the_lists():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path in [
        "/api/v1/customers/",
        "/api/v1/contacts/",
        "/api/v1/leads/",
        "/api/v1/opportunities/",
        "/api/v1/quotes/",
        "/api/v1/contracts/",
        "/api/v1/payment-plans/",
        "/api/v1/receivables/",
        "/api/v1/invoices/",
        "/api/v1/products/",
        "/api/v1/followups/",
        "/api/v1/pool/customers/",
    ]:
        params = {p["name"]: p for p in paths[path]["get"]["parameters"]}
        assert "ordering" in params, path
        assert "cursor" in params, path
        assert "created_at" in params["ordering"]["schema"]["enum"], path
        assert {"400", "401", "403", "429"} <= set(paths[path]["get"]["responses"]), path
