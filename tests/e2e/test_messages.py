"""Scenario 5: the bell shows the unread count; 全部标为已读 clears it."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import USER_PASSWORD

pytestmark = pytest.mark.e2e


def test_bell_counts_unread_messages_and_read_all_clears_it(page, make_user, ui):
    from crm.messaging.models import Notification
    from crm.messaging.services import notification_send

    user = make_user("wangfang", name="王芳", roles=["sales"])
    for title in ("合同待审批：华为云采购", "回款提醒：深圳某科技", "系统通知：周五维护"):
        notification_send(recipient=user, title=title, body=f"{title}，请及时处理。")

    ui.login(page, "wangfang", USER_PASSWORD)
    # htmx loads the bell after the page.
    expect(page.locator("[data-testid=unread-count]")).to_have_text("3")

    page.click("[data-testid=bell]")
    expect(page.locator("#bell .dropdown-menu")).to_be_visible()
    expect(page.locator("#bell .dropdown-menu")).to_contain_text("合同待审批：华为云采购")

    page.click("[data-nav=messages]")
    expect(page.locator("[data-testid=message-list] .list-group-item")).to_have_count(3)
    expect(page.locator("[data-testid=unread-count]")).to_have_text("3")
    with page.expect_navigation():
        page.click("[data-testid=read-all]")
    expect(ui.flash(page)).to_contain_text("3")
    # Wait for the bell to come back from htmx, then check it has no count.
    expect(page.locator("[data-testid=bell]")).to_be_attached()
    expect(page.locator("[data-testid=unread-count]")).to_have_count(0)
    assert not Notification.objects.filter(recipient=user, is_read=False).exists()
    page.reload()
    expect(page.locator("[data-testid=bell]")).to_be_attached()
    expect(page.locator("[data-testid=unread-count]")).to_have_count(0)
