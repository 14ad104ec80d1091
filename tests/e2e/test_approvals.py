"""The approval engine in a browser: an admin configures a flow with two steps; the manager sees
the to-do in 我的审批 and approves with a comment; the applicant sees the outcome. Screenshots."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, USER_PASSWORD

pytestmark = pytest.mark.e2e


def test_configure_a_flow_then_approve_from_my_approvals(page, admin_user, make_user, ui, screenshot):
    from crm.accounts.models import Department
    from crm.approvals import services
    from crm.approvals.models import ApprovalFlow, ApprovalRequest

    manager = make_user("zhaomin", name="赵敏", roles=["sales_manager"])
    finance = make_user("qianfang", name="钱芳", roles=["finance"])
    sales = make_user("sunli", name="孙丽", roles=["sales"], manager=manager)

    ui.login(page, "admin", ADMIN_PASSWORD)
    page.click("[data-nav=approval_flows]")
    with page.expect_navigation():
        page.click("[data-testid=flow-create]")
    page.fill("#id_name", "通用审批流程")
    page.select_option("#id_kind", "general")
    page.fill("#id_steps-0-name", "直属上级审批")
    page.select_option("#id_steps-0-approver_type", "manager")
    expect(page.locator("#id_steps-0-approver_user")).to_be_hidden()
    page.click("[data-testid=add-step]")
    page.fill("#id_steps-1-name", "财务会签")
    page.select_option("#id_steps-1-approver_type", "role")
    page.select_option("#id_steps-1-approver_role", label="财务")
    page.select_option("#id_steps-1-mode", "all")
    page.fill("#id_steps-1-min_amount", "10000")
    screenshot(page, "approvals_flow_form")
    with page.expect_navigation():
        page.click("[data-testid=flow-save]")
    expect(ui.flash(page)).to_contain_text("通用审批流程")
    expect(page.locator("[data-testid=flow-row]")).to_contain_text("财务会签")
    screenshot(page, "approvals_flow_list")
    flow = ApprovalFlow.objects.get()
    assert [s.name for s in flow.steps.order_by("order")] == ["直属上级审批", "财务会签"]
    assert not page.console_errors

    document = Department.objects.get(parent__isnull=True)
    request = services.submit(actor=sales, document=document, kind="general")
    ui.logout(page)
    ui.login(page, "zhaomin", USER_PASSWORD)
    page.click("[data-nav=approvals]")
    row = page.locator("[data-testid=approval-row]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("孙丽")
    screenshot(page, "approvals_mine_todo")
    row.locator("textarea[name=comment]").fill("同意，注意回款节点")
    with page.expect_navigation():
        row.locator("[data-testid=approve]").click()
    request.refresh_from_db()
    # no amount on this document: the 财务会签 step (amount ≥ 10000) is skipped
    assert request.status == ApprovalRequest.Status.APPROVED
    assert finance.approval_tasks.count() == 0
    page.goto("/approvals/?tab=done")
    expect(page.locator("[data-testid=approval-row]")).to_contain_text("同意，注意回款节点")
    page.goto(f"/approvals/requests/{request.pk}/")
    expect(page.locator("[data-testid=approval-timeline]")).to_contain_text("赵敏")
    screenshot(page, "approvals_request_detail")
    assert not page.console_errors
