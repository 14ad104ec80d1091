"""The quote ↔ opportunity link: a quote may name one opportunity of its own customer that the user
may see; the opportunity page lists its quotes and starts a new one pre-filled."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from crm.opportunities import services as opportunity_services
from crm.opportunities.demo import ensure_default_group
from crm.quotes import services
from crm.quotes.models import Quote

pytestmark = pytest.mark.django_db


@pytest.fixture
def opps(users, customers):
    """sales1's opportunity on their customer, sales2's on theirs, and the admin's one on sales1's
    customer (sales1 sees the customer but not that opportunity)."""
    ensure_default_group()

    def make(actor, customer, name, owner=None):
        return opportunity_services.opportunity_create(
            actor=actor,
            values={"name": name, "customer": customer, "expected_amount": Decimal("5000.00")},
            owner=owner,
        )

    return {
        "mine": make(users["sales1"], customers["mine"], "门店收银系统"),
        "other": make(users["sales2"], customers["other"], "仓储管理系统"),
        "hidden": make(users["admin"], customers["mine"], "总部集采项目"),
    }


def _lines(catalog):
    return [{"product": catalog["lock"].pk, "quantity": 1}]


def _post(catalog, customer, opportunity):
    return {
        "customer": customer.pk,
        "contact": "",
        "opportunity": opportunity.pk if opportunity else "",
        "valid_until": "2099-12-31",
        "payment_term": "",
        "tax_percent": "13",
        "note": "",
        "line_product": [catalog["lock"].pk],
        "line_quantity": ["1"],
        "line_unit_price": [""],
        "line_discount": ["0"],
        "line_tax": ["13"],
        "line_description": [""],
    }


# ---------------------------------------------------------------- service


def test_service_saves_the_opportunity_of_the_quotes_customer(users, catalog, customers, opps):
    quote = services.quote_create(
        actor=users["sales1"],
        values={"customer": customers["mine"], "opportunity": opps["mine"]},
        lines=_lines(catalog),
    )
    assert Quote.objects.get(pk=quote.pk).opportunity_id == opps["mine"].pk


def test_service_refuses_an_opportunity_of_another_customer(users, catalog, customers, opps):
    other_customer_opp = opportunity_services.opportunity_create(
        actor=users["admin"],
        values={"name": "远航项目", "customer": customers["other"], "expected_amount": Decimal("1")},
    )
    with pytest.raises(ValidationError) as caught:
        services.quote_create(
            actor=users["admin"],
            values={"customer": customers["mine"], "opportunity": other_customer_opp},
            lines=_lines(catalog),
        )
    assert "不属于客户“深圳华创科技有限公司”" in caught.value.message_dict["opportunity"][0]
    assert not Quote.objects.exists()


def test_service_refuses_an_opportunity_the_user_cannot_see(users, catalog, customers, opps):
    with pytest.raises(ValidationError) as caught:
        services.quote_create(
            actor=users["sales1"],
            values={"customer": customers["mine"], "opportunity": opps["hidden"]},
            lines=_lines(catalog),
        )
    assert caught.value.message_dict["opportunity"] == ["只能关联您可以查看的商机。"]
    assert not Quote.objects.exists()


def test_update_checks_the_opportunity_again(users, catalog, customers, opps, make_quote):
    quote = make_quote()
    with pytest.raises(ValidationError):
        services.quote_update(actor=users["sales1"], quote=quote, values={"opportunity": opps["hidden"]})
    assert Quote.objects.get(pk=quote.pk).opportunity_id is None
    services.quote_update(actor=users["sales1"], quote=quote, values={"opportunity": opps["mine"]})
    assert Quote.objects.get(pk=quote.pk).opportunity_id == opps["mine"].pk


# ---------------------------------------------------------------- pages


def test_form_offers_only_the_customers_visible_opportunities(client, users, catalog, customers, opps):
    client.force_login(users["sales1"])
    html = client.get(f"/quotes/new/?customer={customers['mine'].pk}").content.decode()
    assert 'data-testid="quote-opportunity"' in html
    assert "门店收银系统" in html
    assert "总部集采项目" not in html and "仓储管理系统" not in html
    options = client.get("/quotes/opportunity-options/", {"customer": customers["mine"].pk})
    assert options.status_code == 200
    assert "门店收银系统" in options.content.decode() and "总部集采项目" not in options.content.decode()
    # another user's customer: no options at all
    other = client.get("/quotes/opportunity-options/", {"customer": customers["other"].pk}).content.decode()
    assert "仓储管理系统" not in other


def test_create_through_the_form_with_an_opportunity(client, users, catalog, customers, opps):
    client.force_login(users["sales1"])
    response = client.post("/quotes/new/", _post(catalog, customers["mine"], opps["mine"]))
    quote = Quote.objects.get()
    assert response.status_code == 302 and quote.opportunity_id == opps["mine"].pk
    detail = client.get(f"/quotes/{quote.pk}/").content.decode()
    assert f'href="/opportunities/{opps["mine"].pk}/"' in detail and "门店收银系统" in detail


@pytest.mark.parametrize("which", ["hidden", "other"])
def test_form_refuses_a_foreign_or_hidden_opportunity(client, users, catalog, customers, opps, which):
    client.force_login(users["sales1"])
    response = client.post("/quotes/new/", _post(catalog, customers["mine"], opps[which]))
    assert response.status_code == 400
    assert "请选择该客户的、您可以查看的商机。" in response.content.decode()
    assert not Quote.objects.exists()


def test_create_page_is_prefilled_from_the_opportunity(client, users, catalog, customers, opps):
    client.force_login(users["sales1"])
    url = f"/quotes/new/?customer={customers['mine'].pk}&opportunity={opps['mine'].pk}"
    html = client.get(url).content.decode()
    assert f'<option value="{opps["mine"].pk}" selected>' in html
    assert f'<option value="{customers["mine"].pk}" selected>' in html
    # an opportunity the user may not see is ignored
    html = client.get(f"/quotes/new/?opportunity={opps['hidden'].pk}").content.decode()
    assert f'<option value="{opps["hidden"].pk}" selected>' not in html
    assert "总部集采项目" not in html


def test_opportunity_page_lists_its_visible_quotes(
    client, users, catalog, customers, opps, django_assert_max_num_queries
):
    mine = services.quote_create(
        actor=users["sales1"],
        values={"customer": customers["mine"], "opportunity": opps["mine"]},
        lines=_lines(catalog),
    )
    unlinked = services.quote_create(
        actor=users["sales1"], values={"customer": customers["mine"]}, lines=_lines(catalog)
    )
    client.force_login(users["sales1"])
    with django_assert_max_num_queries(40):
        response = client.get(f"/opportunities/{opps['mine'].pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count(f'href="/quotes/{mine.pk}/"') == 1
    assert mine.code in html and unlinked.code not in html
    new_link = f"/quotes/new/?customer={customers['mine'].pk}&amp;opportunity={opps['mine'].pk}"
    assert new_link in html and "新建报价" in html


def test_opportunity_page_hides_quotes_outside_the_scope(client, users, catalog, customers, opps):
    # The manager's quote on sales1's opportunity: sales1 cannot see the manager's quote.
    manager_quote = services.quote_create(
        actor=users["admin"],
        values={"customer": customers["mine"], "opportunity": opps["mine"]},
        lines=_lines(catalog),
    )
    client.force_login(users["sales1"])
    html = client.get(f"/opportunities/{opps['mine'].pk}/").content.decode()
    assert manager_quote.code not in html
    client.force_login(users["admin"])
    assert manager_quote.code in client.get(f"/opportunities/{opps['mine'].pk}/").content.decode()
    client.force_login(users["sales2"])
    assert client.get(f"/opportunities/{opps['mine'].pk}/").status_code == 404


# ---------------------------------------------------------------- API


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_api_reads_and_writes_the_opportunity(users, catalog, customers, opps):
    api = _api(users["sales1"])
    body = {"customer": customers["mine"].pk, "opportunity": opps["mine"].pk, "lines": _lines(catalog)}
    created = api.post("/api/v1/quotes/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["opportunity"] == opps["mine"].pk
    quote_id = created.json()["id"]
    assert api.get(f"/api/v1/quotes/{quote_id}/").json()["opportunity"] == opps["mine"].pk
    cleared = api.patch(f"/api/v1/quotes/{quote_id}/", {"opportunity": None}, format="json")
    assert cleared.status_code == 200 and cleared.json()["opportunity"] is None


@pytest.mark.parametrize("which", ["hidden", "other"])
def test_api_refuses_a_foreign_or_hidden_opportunity(users, catalog, customers, opps, which):
    api = _api(users["sales1"])
    body = {"customer": customers["mine"].pk, "opportunity": opps[which].pk, "lines": _lines(catalog)}
    response = api.post("/api/v1/quotes/", body, format="json")
    assert response.status_code == 400
    assert "商机" in str(response.json())
    assert not Quote.objects.exists()
