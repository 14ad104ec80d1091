"""The customers journey in a real browser (issue: customers, pool and follow-ups)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.e2e.conftest import USER_PASSWORD

pytestmark = pytest.mark.e2e


def _next_contact_later_today():
    """A time later today (local), so the customer shows under 今日待联系."""
    now = timezone.localtime()
    end_of_day = now.replace(hour=23, minute=59, second=0, microsecond=0)
    return min(now + timedelta(minutes=30), end_of_day)


def test_sales_and_manager_work_customers_pool_and_follow_ups(page, make_user, admin_user, ui, screenshot):
    from crm.activities.models import FollowUp
    from crm.customers import services
    from crm.customers.models import Customer

    sales1 = make_user("sales1", roles=["sales"], name="李娜")
    make_user("sales2", roles=["sales"], name="张伟")
    manager = make_user("manager", roles=["sales_manager"], name="王经理")
    sales1.manager = manager
    sales1.save(update_fields=["manager"])
    services.customer_create(
        actor=admin_user, values={"name": "东莞宏远机械有限公司"}, pool=services.default_pool()
    )

    # A salesperson creates an enterprise customer with a contact.
    ui.login(page, "sales1", USER_PASSWORD)
    page.goto("/customers/new/")
    page.fill("#id_name", "深圳市中兴通讯股份有限公司")
    page.fill("#id_contact_name", "张三")
    page.fill("#id_contact_mobile", "13800138000")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    assert page.locator("[data-testid=customer-name]").inner_text() == "深圳市中兴通讯股份有限公司"
    assert "张三" in page.locator("[data-testid=contacts]").inner_text()
    customer = Customer.objects.get(name="深圳市中兴通讯股份有限公司")
    screenshot(page, "customer-detail")

    # A similar name warns, showing only the name and owner of the match.
    page.goto("/customers/new/")
    page.fill("#id_name", "中兴通讯有限公司")
    page.click("[data-testid=save]")
    assert page.locator("[data-testid=duplicate-warning] input[name=allow_duplicates]").is_visible()
    message = page.locator("[data-testid=form-error]").inner_text()
    assert "深圳市中兴通讯股份有限公司" in message and "李娜" in message  # the match and its owner
    assert "13800138000" not in page.content()  # never the other customer's private data
    assert Customer.objects.filter(name="中兴通讯有限公司").count() == 0

    # A follow-up with a next contact time lands in the reminder list.
    page.goto(f"/activities/new/?customer={customer.pk}")
    page.select_option("#id_type", index=1)
    page.fill("#id_content", "电话沟通了采购计划，约好下午再联系。")
    page.fill("#id_next_contact_at", _next_contact_later_today().strftime("%Y-%m-%dT%H:%M"))
    with page.expect_navigation():
        page.click("[data-testid=followup-form] button[type=submit]")
    followup = FollowUp.objects.get(customer=customer)
    page.goto("/activities/reminders/")
    assert "深圳市中兴通讯股份有限公司" in page.locator("[data-testid=reminder-rows]").inner_text()

    # The owner protects the customer.
    page.goto(f"/customers/{customer.pk}/")
    with page.expect_navigation():
        page.click("[data-testid=protect]")
    assert page.locator("[data-testid=protected-badge]").is_visible()
    page.goto("/customers/")
    screenshot(page, "customer-list")
    ui.logout(page)

    # The manager assigns a pool customer to the salesperson and comments on the follow-up.
    ui.login(page, "manager", USER_PASSWORD)
    page.goto("/pool/")
    row = page.locator("[data-testid=pool-row]", has_text="东莞宏远机械有限公司")
    row.locator("input[name=ids]").check()
    page.select_option("[data-testid=assign-to]", value=str(sales1.pk))
    screenshot(page, "pool")
    with page.expect_navigation():
        page.click("[data-testid=batch-assign]")
    assert Customer.objects.get(name="东莞宏远机械有限公司").owner == sales1
    page.goto(f"/activities/{followup.pk}/")
    page.fill("[data-testid=comment-form] textarea", "下午联系时把报价带上。")
    with page.expect_navigation():
        page.click("[data-testid=comment-form] button[type=submit]")
    assert "下午联系时把报价带上。" in page.locator("[data-testid=comments]").inner_text()
    ui.logout(page)

    # Another salesperson cannot open the first one's customer.
    ui.login(page, "sales2", USER_PASSWORD)
    response = page.goto(f"/customers/{customer.pk}/")
    assert response.status == 404
    assert "深圳市中兴通讯股份有限公司" not in page.content()
    page.context.clear_cookies()  # the 404 page has no user menu: sign out by dropping the session

    # Settings pages, for the screenshots.
    ui.login(page, "admin", "Adm1nPass2024")
    for url, name in [
        ("/customers/settings/dictionaries/", "customer-dictionaries"),
        ("/customers/duplicates/settings/", "customer-policy"),
        ("/pool/settings/", "pool-settings"),
    ]:
        assert page.goto(url).status == 200
        screenshot(page, name)


def test_saved_view_and_group_counts_on_the_list(page, make_user, ui, screenshot):
    from crm.customers import services
    from crm.customers.models import DictionaryItem
    from crm.savedviews.models import SavedView

    sales = make_user("sales1", roles=["sales"], name="李娜")
    status = DictionaryItem.objects.filter(kind="status").first()
    for name in ("深圳市中兴通讯股份有限公司", "中兴物联科技有限公司", "华为技术有限公司"):
        services.customer_create(actor=sales, values={"name": name, "status": status})

    ui.login(page, "sales1", USER_PASSWORD)
    page.goto("/customers/?scope=all&q=中兴")
    assert page.locator("[data-testid=customer-row]").count() == 2

    # Save the current list as a view, then open it again from the views menu.
    page.click("[data-testid=saved-views] > a")
    page.click("[data-testid=save-view]")
    page.fill("[data-testid=save-view-name]", "中兴相关")
    with page.expect_navigation():
        page.click("[data-testid=save-view-submit]")
    view = SavedView.objects.get(owner=sales, name="中兴相关")
    assert view.params["q"] == "中兴"
    page.goto("/customers/?scope=all")
    assert page.locator("[data-testid=customer-row]").count() == 3
    page.click("[data-testid=saved-views] > a")
    with page.expect_navigation():
        page.click(f"[data-testid=saved-view][data-view='{view.pk}']")
    assert page.locator("[data-testid=customer-row]").count() == 2
    assert "中兴相关" in page.locator("[data-testid=saved-views]").inner_text()

    # Group the view's result by status: the counts add up to the rows.
    page.click("[data-testid=group-by] > button")
    page.click("[data-testid=group-by] [data-group=status]")
    page.wait_for_selector("[data-testid=group-counts]")
    assert page.locator("[data-testid=group-count]").first.get_attribute("data-count") == "2"
    screenshot(page, "customer-list-views-and-groups")
    page.click("[data-testid=saved-views] > a")
    page.wait_for_selector("[data-testid=save-view]", state="visible")
    screenshot(page, "customer-list-views-menu")
    assert page.console_errors == []
