import re
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.templatetags.static import static
from django.test import RequestFactory

from crm.quotes import services
from crm.quotes.models import Quote

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def _post_lines(catalog, customer, **extra):
    data = {
        "customer": customer.pk,
        "contact": "",
        "valid_until": "2099-12-31",
        "payment_term": "",
        "tax_percent": "13",
        "note": "",
        "line_product": [catalog["pen"].pk, catalog["lock"].pk, ""],
        "line_quantity": ["3", "1", ""],
        "line_unit_price": ["33.335", "", ""],
        "line_discount": ["7.5", "0", "0"],
        "line_tax": ["13", "13", "13"],
        "line_description": ["", "含安装", ""],
    }
    data.update(extra)
    return data


def test_create_through_the_form(client, users, catalog, customers):
    login(client, users["sales1"])
    page = client.get("/quotes/new/")
    assert page.status_code == 200 and "深圳华创科技有限公司" in page.content.decode()
    assert "上海远航贸易有限公司" not in page.content.decode()  # not visible to sales1
    response = client.post("/quotes/new/", _post_lines(catalog, customers["mine"]))
    quote = Quote.objects.get()
    assert response.status_code == 302 and response.url == f"/quotes/{quote.pk}/"
    assert quote.total == Decimal("1572.42") and quote.lines.count() == 2
    assert quote.lines.get(product=catalog["lock"]).description == "含安装"
    detail = client.get(response.url).content.decode()
    assert quote.code in detail and "¥104.55" in detail and "¥1572.42" in detail


def test_form_errors_keep_the_rows_and_change_nothing(client, users, catalog, customers):
    login(client, users["sales1"])
    data = _post_lines(catalog, customers["mine"], line_unit_price=["33.335", "900", ""])
    response = client.post("/quotes/new/", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "成交价不能低于 ¥1169.10" in html
    assert html.count('data-testid="quote-line"') == 2  # the rows are kept
    data = _post_lines(catalog, customers["mine"], line_quantity=["-3", "1", ""])
    assert "数量必须大于 0" in client.post("/quotes/new/", data).content.decode()
    assert not Quote.objects.exists()


def test_line_row_prices_the_product_for_the_customer(client, users, catalog, customers):
    login(client, users["sales1"])
    response = client.get(
        "/quotes/line-row/",
        {
            "line_product": catalog["lock"].pk,
            "line_quantity": "2",
            "customer": customers["mine"].pk,
            "line_tax": "0",
        },
        HTTP_HX_REQUEST="true",
        HTTP_HX_TRIGGER_NAME="line_product",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="1299.00"' in html and "¥2598.00" in html
    assert client.get("/quotes/line-row/").status_code == 200  # an empty new row
    login(client, users["finance"])
    assert client.get("/quotes/line-row/").status_code == 403


def test_list_search_filter_and_visibility(client, users, make_quote, customers):
    mine = make_quote()
    other = make_quote(actor=users["sales2"], customer=customers["other"])
    services.quote_send(actor=users["sales1"], quote=mine)
    login(client, users["sales1"])
    html = client.get("/quotes/").content.decode()
    assert mine.code in html and other.code not in html
    assert mine.code not in client.get("/quotes/", {"status": "draft"}).content.decode()
    assert mine.code in client.get("/quotes/", {"q": "华创"}).content.decode()
    assert client.get(f"/quotes/{other.pk}/").status_code == 404
    assert client.get(f"/quotes/{other.pk}/print/").status_code == 404
    assert client.post(f"/quotes/{other.pk}/action/", {"action": "send"}).status_code == 404
    assert Quote.objects.get(pk=other.pk).status == "draft"
    login(client, users["norole"])
    assert client.get("/quotes/").status_code == 403


def test_actions_from_the_detail_page(client, users, make_quote):
    quote = make_quote()
    login(client, users["sales1"])
    client.post(f"/quotes/{quote.pk}/action/", {"action": "send"})
    assert Quote.objects.get(pk=quote.pk).status == "sent"
    assert client.get(f"/quotes/{quote.pk}/edit/").status_code == 403  # only drafts are edited
    response = client.post(f"/quotes/{quote.pk}/action/", {"action": "delete"})
    assert response.status_code == 403 and Quote.objects.filter(pk=quote.pk).exists()
    response = client.post(f"/quotes/{quote.pk}/action/", {"action": "copy"}, follow=True)
    assert Quote.objects.count() == 2 and "已复制为新报价单" in response.content.decode()
    client.post(f"/quotes/{quote.pk}/action/", {"action": "accept"})
    assert Quote.objects.get(pk=quote.pk).status == "accepted"


def test_print_view(client, users, make_quote):
    quote = make_quote(note="含运费")
    login(client, users["sales1"])
    html = client.get(f"/quotes/{quote.pk}/print/").content.decode()
    assert "quotes/print.css" in html and quote.code in html and "¥2935.74" in html
    assert "客户确认（盖章）" in html and "含运费" in html
    # The shared print button's script only; no inline script (the CSP forbids it).
    assert re.findall(r"<script[^>]*>", html) == [f'<script src="{static("printing/print.js")}">']
    login(client, users["norole"])
    assert client.get(f"/quotes/{quote.pk}/print/").status_code == 403


def test_price_history_panels(client, users, make_quote, customers):
    quote = make_quote()
    login(client, users["sales1"])
    html = client.get("/quotes/price-history/", {"customer": customers["mine"].pk}).content.decode()
    assert quote.code in html and "¥1299.00" in html
    assert client.get("/quotes/price-history/", {"customer": customers["other"].pk}).status_code == 404
    # the partial for the customer detail page
    request = RequestFactory().get("/")
    request.user = users["sales1"]
    template = Template('{% include "quotes/_customer_price_history.html" %}')
    rendered = template.render(Context({"request": request, "customer": customers["mine"]}))
    assert quote.code in rendered and 'data-testid="customer-price-history"' in rendered
    request.user = users["finance"]  # no quotes.view: nothing at all
    rendered = template.render(Context({"request": request, "customer": customers["mine"]}))
    assert rendered.strip() == ""


def test_navigation_entry(client, users):
    login(client, users["sales1"])
    assert 'href="/quotes/"' in client.get("/").content.decode()
    login(client, users["finance"])
    assert 'href="/quotes/"' not in client.get("/").content.decode()


def test_discount_limit_page(client, users):
    from crm.accounts.models import Role
    from crm.quotes.models import QuoteRoleLimit

    sales = Role.objects.get(code="sales")
    login(client, users["sales1"])
    assert client.get("/quotes/discount-limits/").status_code == 403
    login(client, users["admin"])
    page = client.get("/quotes/discount-limits/").content.decode()
    assert sales.name in page and "10.00" in page
    response = client.post("/quotes/discount-limits/", {f"limit_{sales.pk}": "120"})
    assert response.status_code == 400 and "最大折扣必须在 0 到 100 之间" in response.content.decode()
    assert not QuoteRoleLimit.objects.exists()
    client.post("/quotes/discount-limits/", {f"limit_{sales.pk}": "15"})
    assert QuoteRoleLimit.objects.get().max_discount_percent == Decimal("15.00")
    assert QuoteRoleLimit.objects.get().role == sales
