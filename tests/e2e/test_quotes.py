"""Quotes in a real browser: a quote with two lines priced by htmx, then its print view."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def settled(row):
    """Wait until htmx has settled (and so wired up) a row it just swapped in."""
    expect(row).not_to_have_class(re.compile(r"htmx-(added|settling)"))


def test_admin_creates_a_two_line_quote_and_prints_it(page, admin_user, ui, screenshot):
    from crm.customers import services as customer_services
    from crm.products.demo import seed_products
    from crm.products.models import Product
    from crm.quotes.models import Quote

    customer = customer_services.customer_create(actor=admin_user, values={"name": "深圳市华创科技有限公司"})
    customer_services.contact_create(
        actor=admin_user, customer=customer, values={"name": "王伟", "mobile": "13800138000"}
    )
    seed_products()
    lock = Product.objects.get(code="HW-X1")
    software = Product.objects.get(code="SW-STD")

    ui.login(page, "admin", ADMIN_PASSWORD)
    page.click("[data-testid=main-nav] [data-nav=quotes]")
    with page.expect_navigation():
        page.click("[data-testid=quote-add]")
    page.select_option("#id_customer", label="深圳市华创科技有限公司")
    page.locator("#id_contact option", has_text="王伟").wait_for(state="attached")
    page.select_option("#id_contact", label="王伟")

    first = page.locator("[data-testid=quote-line]").nth(0)
    first.locator("[data-testid=line-product]").select_option(str(lock.pk))
    expect(page.locator("[data-testid=line-unit-price]").nth(0)).to_have_value("1299.00")
    settled(page.locator("[data-testid=quote-line]").nth(0))
    first = page.locator("[data-testid=quote-line]").nth(0)
    first.locator("[data-testid=line-quantity]").fill("2")
    first.locator("[data-testid=line-quantity]").press("Tab")
    expect(page.locator("[data-testid=line-amount]").nth(0)).to_have_text("¥2935.74")

    page.click("[data-testid=line-add]")
    expect(page.locator("[data-testid=quote-line]")).to_have_count(2)
    settled(page.locator("[data-testid=quote-line]").nth(1))
    second = page.locator("[data-testid=quote-line]").nth(1)
    second.locator("[data-testid=line-product]").select_option(str(software.pk))
    expect(page.locator("[data-testid=line-unit-price]").nth(1)).to_have_value("9800.00")
    assert "暂无" not in page.locator("[data-testid=price-history]").inner_text()
    screenshot(page, "quote-form")

    with page.expect_navigation():
        page.click("[data-testid=save-quote]")
    assert page.locator("[data-testid=form-error]").count() == 0
    quote = Quote.objects.get()
    assert quote.lines.count() == 2 and quote.contact.name == "王伟"
    assert str(quote.total) == "14009.74"
    assert page.locator("[data-testid=quote-total]").inner_text() == "¥14009.74"
    assert page.locator("[data-testid=quote-line-row]").count() == 2
    screenshot(page, "quote-detail")

    page.goto(f"/quotes/{quote.pk}/print/")
    assert page.locator("[data-testid=print-total]").inner_text() == "¥14009.74"
    assert page.locator("[data-testid=print-line]").count() == 2
    assert page.locator("[data-testid=print-code]").inner_text() == quote.code
    screenshot(page, "quote-print")
    assert page.console_errors == []
