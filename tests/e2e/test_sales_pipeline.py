"""The sales pipeline end to end in Chromium (issue 4): a salesperson converts a lead into a customer
and an opportunity, drags the opportunity across the kanban to 赢单, quotes, turns the quote into a
contract that needs two approval steps; the manager and then finance approve it from their message
centres; finance records a receivable against a payment plan; the customer page shows the contract,
the received and outstanding amounts and the earned points. Screenshots along the way."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import USER_PASSWORD
from tests.e2e.test_opportunities import _column, _slow_drag
from tests.e2e.test_quotes import settled

pytestmark = pytest.mark.e2e


def _approve_from_message_centre(page, ui, username, screenshot=None, name=""):
    ui.login(page, username, USER_PASSWORD)
    page.click("[data-testid=main-nav] [data-nav=messages]")
    todo = page.locator("[data-testid=message-list] button", has_text="待审批")
    expect(todo).to_have_count(1)
    if screenshot:
        screenshot(page, f"{name}-message-centre")
    with page.expect_navigation():
        todo.click()
    form = page.locator("[data-testid=decision-form]")
    form.locator("textarea[name=comment]").fill("同意")
    if screenshot:
        screenshot(page, f"{name}-approval")
    with page.expect_navigation():
        form.locator("[data-testid=approve]").click()
    ui.logout(page)


def test_lead_to_paid_contract(page, make_user, ui, screenshot):
    from crm.contracts import demo as contract_demo
    from crm.contracts.models import Contract
    from crm.leads import services as lead_services
    from crm.opportunities.demo import ensure_default_group
    from crm.opportunities.models import Opportunity
    from crm.points.models import PointsEntry
    from crm.products.demo import seed_products
    from crm.products.models import Product
    from crm.receivables.models import Receivable

    page.on("dialog", lambda dialog: dialog.accept())
    make_user("admin", roles=["super_admin"], name="系统管理员")  # owns the demo approval flows
    manager = make_user("zhaomin", roles=["sales_manager"], name="赵敏")
    make_user("qianfang", roles=["finance"], name="钱芳")
    sales = make_user("sunli", roles=["sales"], name="孙丽", manager=manager)
    ensure_default_group()
    seed_products()
    contract_demo.ensure_flows()  # 直属上级审批 → 财务复核
    lock = Product.objects.get(code="HW-X1")
    Product.objects.filter(pk=lock.pk).update(points=7)
    lead = lead_services.lead_create(
        actor=sales,
        values={"company": "深圳市星辰科技有限公司", "contact_name": "王伟", "mobile": "13800138000"},
    )

    # 1. The salesperson converts the lead into a customer and an opportunity.
    ui.login(page, "sunli", USER_PASSWORD)
    page.goto(f"/leads/{lead.pk}/")
    page.fill("[data-testid=convert-opportunity-name]", "门店智能门锁")
    page.fill("[data-testid=convert-opportunity-amount]", "20000")
    with page.expect_navigation():
        page.click("[data-testid=convert-with-opportunity]")
    assert page.locator("[data-testid=customer-name]").inner_text() == "深圳市星辰科技有限公司"
    opp = Opportunity.objects.get()
    assert opp.name == "门店智能门锁" and opp.expected_amount == Decimal("20000.00")

    # 2. Drag it across the board to 赢单.
    page.click("[data-testid=main-nav] [data-nav=opportunities]")
    card = _column(page, "初步接洽").locator("[data-testid=kanban-card]", has_text="门店智能门锁")
    _slow_drag(page, card, _column(page, "赢单").locator(".kanban-cards"))
    page.locator("#win-modal").wait_for(state="visible")
    page.locator("[data-testid=confirm-win]").click()
    page.wait_for_selector("[data-testid=board-success]")
    expect(_column(page, "赢单").locator("[data-testid=column-count]")).to_have_text("1")
    screenshot(page, "pipeline-kanban-won")
    opp.refresh_from_db()
    assert opp.status == Opportunity.Status.WON

    # 3. Quote from the opportunity: one line priced by the policy.
    page.goto(f"/opportunities/{opp.pk}/")
    with page.expect_navigation():
        page.click("[data-testid=opp-new-quote]")
    line = page.locator("[data-testid=quote-line]").nth(0)
    line.locator("[data-testid=line-product]").select_option(str(lock.pk))
    expect(page.locator("[data-testid=line-unit-price]").nth(0)).to_have_value("1299.00")
    settled(page.locator("[data-testid=quote-line]").nth(0))
    line = page.locator("[data-testid=quote-line]").nth(0)
    line.locator("[data-testid=line-quantity]").fill("10")
    line.locator("[data-testid=line-quantity]").press("Tab")
    expect(page.locator("[data-testid=line-amount]").nth(0)).to_have_text("¥14678.70")
    with page.expect_navigation():
        page.click("[data-testid=save-quote]")
    expect(page.locator("[data-testid=quote-opportunity]")).to_contain_text("门店智能门锁")

    # 4. The quote becomes a contract; the salesperson saves it and submits it for approval.
    with page.expect_navigation():
        page.click("[data-testid=quote-to-contract]")
    expect(page.locator("[data-testid=contract-form]")).to_be_visible()
    screenshot(page, "pipeline-contract-form")
    with page.expect_navigation():
        page.click("[data-testid=save-contract]")
    assert page.locator("[data-testid=form-error]").count() == 0
    contract = Contract.objects.get()
    assert contract.total == Decimal("14678.70") and contract.opportunity == opp
    with page.expect_navigation():
        page.click("[data-testid=contract-submit]")
    expect(page.locator("[data-testid=contract-status]").first).to_contain_text("审批中")
    screenshot(page, "pipeline-contract-pending")
    ui.logout(page)

    # 5. Manager, then finance, approve from their message centres.
    _approve_from_message_centre(page, ui, "zhaomin", screenshot, "pipeline-manager")
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING  # the finance step is still ahead
    _approve_from_message_centre(page, ui, "qianfang")
    contract.refresh_from_db()
    assert contract.status == Contract.Status.APPROVED
    assert PointsEntry.objects.get(contract=contract).points == 70

    # 6. Finance adds a payment plan and records a receivable against it.
    ui.login(page, "qianfang", USER_PASSWORD)
    page.goto(f"/contracts/{contract.pk}/")
    plan_form = page.locator("[data-testid=plan-add-form]")
    plan_form.locator("input[name=amount]").fill("10000")
    plan_form.locator("input[name=due_on]").fill("2026-12-31")
    plan_form.locator("[data-testid=plan-add]").click()
    expect(page.locator("[data-testid=contract-plan-row]")).to_have_count(1)
    with page.expect_navigation():
        page.click("[data-testid=receivable-register]")
    form = page.locator("[data-testid=receivable-form]")
    form.locator("select[name=plan]").select_option(index=1)
    form.locator("input[name=amount]").fill("6000")
    with page.expect_navigation():
        form.locator("[data-testid=receivable-save]").click()
    with page.expect_navigation():
        page.click("[data-testid=receivable-confirm]")
    assert Receivable.objects.get().status == Receivable.Status.APPROVED
    contract.refresh_from_db()
    assert contract.received_amount == Decimal("6000.00")
    page.goto(f"/contracts/{contract.pk}/")
    expect(page.locator("[data-testid=money-received]")).to_have_text("¥6000.00")
    expect(page.locator("[data-testid=money-outstanding]")).to_have_text("¥8678.70")
    screenshot(page, "pipeline-contract-detail")
    ui.logout(page)

    # 7. The salesperson's customer page: the contract, received and outstanding, earned points.
    ui.login(page, "sunli", USER_PASSWORD)
    page.goto(f"/customers/{contract.customer_id}/")
    expect(page.locator("[data-testid=customer-contract-row]")).to_contain_text(contract.code)
    expect(page.locator("[data-testid=customer-received]")).to_contain_text("6000.00")
    expect(page.locator("[data-testid=customer-outstanding]")).to_contain_text("8678.70")
    expect(page.locator("[data-testid=points-balance]")).to_have_text(re.compile(r"\b70\b"))
    expect(page.locator("[data-testid=purchase-row]")).to_contain_text("智能门锁")
    screenshot(page, "pipeline-customer-detail")
    errors = [e for e in page.console_errors if "status of 400" not in e]
    assert errors == []
