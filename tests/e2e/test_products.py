"""Products in a real browser: the list, the detail page and its price check."""

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


def test_admin_browses_products_and_checks_a_price(page, admin_user, ui, screenshot):
    from crm.customers import services as customer_services
    from crm.products.demo import seed_products
    from crm.products.models import Product

    customer_services.customer_create(actor=admin_user, values={"name": "深圳市华创科技有限公司"})
    seed_products()

    ui.login(page, "admin", ADMIN_PASSWORD)
    page.click("[data-testid=main-nav] [data-nav=products]")
    assert page.locator("[data-testid=product-table] tbody tr").count() == 15
    screenshot(page, "products-list")

    page.fill("[data-testid=product-filters] input[name=q]", "门锁")
    with page.expect_navigation():
        page.click("[data-testid=product-filters] button[type=submit]")
    assert page.locator("[data-testid=product-table] tbody tr").count() == 2
    with page.expect_navigation():
        page.click("text=智能门锁 X1")
    assert page.locator("[data-testid=product-name]").inner_text() == "智能门锁 X1"

    page.locator("#id_customer-ts-control").click()
    page.keyboard.type("华创")
    page.locator(".ts-dropdown .option", has_text="深圳市华创科技有限公司").click()
    page.fill("#id_quantity", "60")
    with page.expect_navigation():
        page.click("[data-testid=price-check-submit]")
    result = page.locator("[data-testid=price-result]").inner_text()
    assert "¥1195.08" in result and "满50台" in result
    lock = Product.objects.get(code="HW-X1")
    assert f"/products/{lock.pk}/" in page.url
    screenshot(page, "product-detail-price-check")
    assert page.console_errors == []
