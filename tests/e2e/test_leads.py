"""Leads in a real browser: list, detail, follow-up, conversion with the duplicate warning."""

import pytest

from tests.e2e.conftest import USER_PASSWORD

pytestmark = pytest.mark.e2e


def test_sales_follows_up_and_converts_a_lead(page, make_user, ui, screenshot):
    from crm.customers import services as customer_services
    from crm.customers.models import DictionaryItem
    from crm.leads import services
    from crm.leads.models import Lead

    sales1 = make_user("sales1", roles=["sales"], name="李娜")
    phone, _new = DictionaryItem.objects.get_or_create(kind="followup_type", name="电话", parent=None)
    source, _new = DictionaryItem.objects.get_or_create(kind="source", name="展会", parent=None)
    for i, company in enumerate(["深圳市星辰科技有限公司", "广州博雅贸易有限公司", "杭州云帆软件有限公司"]):
        services.lead_create(
            actor=sales1,
            values={
                "company": company,
                "contact_name": f"王{i}",
                "mobile": f"1380013800{i}",
                "source": source,
            },
        )
    customer_services.customer_create(actor=sales1, values={"name": "深圳市星辰科技有限公司"})

    ui.login(page, "sales1", USER_PASSWORD)
    page.click("[data-testid=main-nav] [data-nav=leads]")
    assert page.locator("[data-testid=lead-row]").count() == 3
    page.check("[data-select-all]")
    assert page.locator("[data-selection-count]").inner_text() == "3"
    screenshot(page, "leads-list")

    page.click("text=深圳市星辰科技有限公司")
    page.select_option("#id_type", str(phone.pk))
    page.fill("#id_content", "电话沟通，客户想看演示")
    with page.expect_navigation():
        page.click("[data-testid=save-followup]")
    assert "电话沟通，客户想看演示" in page.locator("[data-testid=lead-followups]").inner_text()

    with page.expect_navigation():
        page.click("[data-testid=convert-lead]")
    assert "发现相似客户" in page.locator("[data-testid=convert-message]").inner_text()
    screenshot(page, "lead-detail-duplicate-warning")
    with page.expect_navigation():
        page.click("[data-testid=convert-link]")
    assert page.locator("[data-testid=customer-name]").inner_text() == "深圳市星辰科技有限公司"
    lead = Lead.objects.get(company="深圳市星辰科技有限公司")
    assert lead.status == Lead.Status.CONVERTED
    page.goto(f"/leads/{lead.pk}/")
    screenshot(page, "lead-detail-converted")
    # The duplicate warning page answers 400 like every refused form; nothing else may fail.
    assert [e for e in page.console_errors if "status of 400" not in e] == []
