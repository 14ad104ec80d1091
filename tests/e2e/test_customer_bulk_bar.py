"""The customer list's bulk bar in a real browser: 批量修改字段 (the value input follows the field,
through htmx) and 放入公海, on a 1400px wide screen and on a phone."""

import pytest

from tests.e2e.conftest import USER_PASSWORD

pytestmark = pytest.mark.e2e

WIDE = {"width": 1400, "height": 900}


def test_bulk_edit_and_release_from_the_list(page, make_user, ui, screenshot):
    from crm.customers import services
    from crm.customers.models import Customer, DictionaryItem

    sales1 = make_user("sales1", roles=["sales"], name="李娜")
    for name in ("深圳市华强电子有限公司", "广州市天河贸易有限公司", "东莞市长安五金厂"):
        services.customer_create(actor=sales1, values={"name": name})
    status = DictionaryItem.objects.create(kind="status", name="成交客户")
    page.set_viewport_size(WIDE)
    ui.login(page, "sales1", USER_PASSWORD)
    page.goto("/customers/")
    rows = page.locator("[data-testid=customer-row] input[name=ids]")
    rows.nth(0).check()
    rows.nth(1).check()

    # The value input follows the field: a select of the active statuses.
    page.select_option("[data-testid=bulk-field]", "status")
    page.wait_for_selector("[data-testid=bulk-value-input] option:has-text('成交客户')", state="attached")
    page.select_option("[data-testid=bulk-value-input]", str(status.pk))
    screenshot(page, "customer-bulk-bar-1400")
    with page.expect_navigation():
        page.click("[data-testid=bulk-edit]")
    assert "已修改 2 个客户的“客户状态”" in ui.flash(page).inner_text()
    assert Customer.objects.filter(status=status).count() == 2

    # 放入公海 with a reason, into the default pool.
    page.locator("[data-testid=customer-row] input[name=ids]").nth(0).check()
    page.fill("[data-testid=bulk-reason]", "客户暂无采购计划")
    with page.expect_navigation():
        page.click("[data-testid=bulk-release]")
    assert "已将 1 个客户放入" in ui.flash(page).inner_text()
    assert Customer.objects.filter(owner__isnull=True, release_reason="客户暂无采购计划").count() == 1
    assert page.console_errors == []


def test_bulk_bar_wraps_on_a_phone(phone_page, make_user, ui, screenshot):
    from crm.customers import services

    sales1 = make_user("sales1", roles=["sales"], name="李娜")
    services.customer_create(actor=sales1, values={"name": "深圳市华强电子有限公司"})
    ui.login(phone_page, "sales1", USER_PASSWORD)
    phone_page.goto("/customers/")
    phone_page.locator("[data-testid=customer-row] input[name=ids]").first.check()
    screenshot(phone_page, "customer-bulk-bar-phone")
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    for testid in ("bulk-release", "bulk-edit"):
        box = phone_page.locator(f"[data-testid={testid}]").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
