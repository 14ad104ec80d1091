"""Purchase records (CTR-4) and the contract prices in the quote price history."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from crm.contracts.models import Contract
from crm.contracts.purchases import purchase_records
from crm.points.tests.helpers import make_contract, make_customers, make_products
from crm.quotes import selectors as quote_selectors
from crm.quotes import services as quote_services
from crm.quotes.models import Quote

pytestmark = pytest.mark.django_db
S = Contract.Status


@pytest.fixture
def shop(users):
    return make_products(users["admin"])


@pytest.fixture
def buyers(users):
    return make_customers(users)


def contract(users, shop, buyers, status=S.APPROVED, owner="sales1", signed=date(2026, 11, 1), **kw):
    return make_contract(
        owner=users[owner],
        customer=kw.pop("customer", buyers["mine"]),
        status=status,
        signed_on=signed,
        lines=kw.pop("lines", [(shop["lock"], 2, "1250.50")]),
        **kw,
    )


def test_only_effective_contracts_the_user_may_see(users, shop, buyers, django_assert_max_num_queries):
    approved = contract(users, shop, buyers, signed=date(2026, 10, 1))
    done = contract(
        users,
        shop,
        buyers,
        status=S.DONE,
        signed=date(2026, 11, 5),
        lines=[(shop["pen"], 3, "30"), (shop["lock"], 1, "1299")],
    )
    for status in (S.DRAFT, S.PENDING, S.CREDIT_REVIEW, S.REJECTED, S.VOID):
        contract(users, shop, buyers, status=status)
    # sales2's contract on sales1's customer: outside sales1's scope
    foreign = contract(users, shop, buyers, owner="sales2", signed=date(2026, 11, 20))
    with django_assert_max_num_queries(3):  # roles, customer scope, one SELECT of the lines
        rows = purchase_records(buyers["mine"], user=users["sales1"])
    assert [(r.contract.code, r.product.code) for r in rows] == [
        (done.code, "PEN"),
        (done.code, "HW-X1"),
        (approved.code, "HW-X1"),
    ]
    last = rows[-1]
    assert last.quantity == Decimal("2.00") and last.unit_price == Decimal("1250.50")
    assert last.amount == Decimal("2501.00") and last.contract.signed_on == date(2026, 10, 1)
    assert last.contract.owner == users["sales1"]
    manager_rows = purchase_records(buyers["mine"], user=users["manager"])
    assert manager_rows[0].contract == foreign and len(manager_rows) == 4
    assert purchase_records(buyers["mine"], user=users["sales2"]) == []  # cannot see the customer
    assert purchase_records(buyers["mine"], user=users["norole"]) == []
    assert len(purchase_records(buyers["mine"], user=users["manager"], limit=2)) == 2


def test_customer_page_shows_the_purchase_records(client, users, shop, buyers):
    mine = contract(users, shop, buyers)
    contract(users, shop, buyers, status=S.DRAFT, lines=[(shop["pen"], 9, "1")])
    client.force_login(users["sales1"])
    html = client.get(f"/customers/{buyers['mine'].pk}/").content.decode()
    assert 'data-testid="customer-purchases"' in html and html.count('data-testid="purchase-row"') == 1
    assert mine.code in html and "¥1250.50" in html and "¥2501.00" in html and "2026-11-01" in html
    client.force_login(users["sales2"])  # the customer is not theirs: no page at all
    assert client.get(f"/customers/{buyers['mine'].pk}/").status_code == 404


# ---------------------------------------------------------------- price history


@pytest.fixture
def quoted(users, shop, buyers):
    """Two quotes of sales1: 10 days ago (lock) and today (pen)."""
    first = quote_services.quote_create(
        actor=users["sales1"],
        values={"customer": buyers["mine"]},
        lines=[{"product": shop["lock"].pk, "quantity": 1, "discount_percent": 5}],
    )
    second = quote_services.quote_create(
        actor=users["sales1"],
        values={"customer": buyers["mine"]},
        lines=[{"product": shop["pen"].pk, "quantity": 4}],
    )
    Quote.objects.filter(pk=first.pk).update(quoted_on=timezone.localdate() - timedelta(days=10))
    return first, second


def test_price_history_unions_quotes_and_effective_contracts_newest_first(
    users, shop, buyers, quoted, django_assert_max_num_queries
):
    first, second = quoted
    today = timezone.localdate()
    middle = contract(
        users,
        shop,
        buyers,
        signed=today - timedelta(days=5),
        lines=[(shop["lock"], 2, "1250.50"), (shop["pen"], 1, "30")],
    )
    newest = contract(users, shop, buyers, status=S.DONE, signed=today + timedelta(days=1))
    contract(users, shop, buyers, status=S.DRAFT, signed=today + timedelta(days=2))  # not effective
    contract(users, shop, buyers, owner="sales2", signed=today + timedelta(days=3))  # not in scope
    with django_assert_max_num_queries(4):
        rows = quote_selectors.price_history(buyers["mine"], user=users["sales1"])
    assert [(r.source, r.code, r.product.code) for r in rows] == [
        ("contract", newest.code, "HW-X1"),
        ("quote", second.code, "PEN"),
        ("contract", middle.code, "HW-X1"),
        ("contract", middle.code, "PEN"),
        ("quote", first.code, "HW-X1"),
    ]
    assert rows[2].unit_price == Decimal("1250.50") and rows[2].salesperson == users["sales1"]
    assert str(rows[0].source_label) == "合同" and str(rows[1].source_label) == "报价"
    only_lock = quote_selectors.price_history(buyers["mine"], shop["lock"], user=users["sales1"])
    assert [r.code for r in only_lock] == [newest.code, middle.code, first.code]
    assert len(quote_selectors.price_history(buyers["mine"], user=users["sales1"], limit=2)) == 2
    assert quote_selectors.price_history(buyers["mine"], user=users["sales2"]) == []
    manager = quote_selectors.price_history(buyers["mine"], user=users["manager"])
    assert len(manager) == 6


def test_price_history_panels_show_the_source_and_code(client, users, shop, buyers, quoted):
    first, _second = quoted
    signed = contract(users, shop, buyers, signed=timezone.localdate())
    client.force_login(users["sales1"])
    html = client.get("/quotes/price-history/", {"customer": buyers["mine"].pk}).content.decode()
    assert html.count('data-testid="price-history-row"') == 3
    assert f'href="/contracts/{signed.pk}/">{signed.code}</a>' in html and "合同" in html
    assert f'href="/quotes/{first.pk}/">{first.code}</a>' in html and "报价" in html
    request = RequestFactory().get("/")
    request.user = users["sales1"]
    rendered = Template('{% include "quotes/_customer_price_history.html" %}').render(
        Context({"request": request, "customer": buyers["mine"]})
    )
    assert signed.code in rendered and first.code in rendered and "¥1250.50" in rendered


def test_price_history_api_marks_the_source(users, shop, buyers, quoted):
    first, second = quoted
    signed = contract(users, shop, buyers, signed=timezone.localdate() - timedelta(days=1))
    client = APIClient()
    client.force_authenticate(users["sales1"])
    rows = client.get("/api/v1/quotes/price-history/", {"customer": buyers["mine"].pk}).json()
    assert [(r["source"], r["code"], r["quote"], r["contract"]) for r in rows] == [
        ("quote", second.code, second.pk, None),
        ("contract", signed.code, None, signed.pk),
        ("quote", first.code, first.pk, None),
    ]
    assert rows[1]["contract_code"] == signed.code and rows[1]["quote_code"] is None
    assert rows[1]["unit_price"] == "1250.50" and rows[1]["salesperson"] == users["sales1"].display_name
