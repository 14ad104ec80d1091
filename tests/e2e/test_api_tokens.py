"""Personal API tokens in a real browser: create one, copy the secret shown once, use it, revoke it."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import USER_PASSWORD

pytestmark = pytest.mark.e2e


def test_sales_creates_uses_and_revokes_an_api_token(page, make_user, ui, screenshot, live_server):
    from rest_framework.test import APIClient

    make_user("sales1", roles=["sales"], name="李娜")

    ui.login(page, "sales1", USER_PASSWORD)
    page.goto("/account/profile/")
    with page.expect_navigation():
        page.click("[data-testid=profile-api-tokens]")
    assert "还没有 API 令牌" in page.locator("[data-testid=token-table]").inner_text()

    page.fill("#id_name", "ERP 同步")
    with page.expect_navigation():
        page.click("[data-testid=token-create]")
    secret = page.locator("[data-testid=token-secret]").input_value()
    assert len(secret) >= 40
    assert "只显示这一次" in page.locator("[data-testid=token-secret-alert]").inner_text()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("[data-testid=token-copy]")
    # The clipboard write is asynchronous: wait for the label to change.
    expect(page.locator("[data-testid=token-copy]")).to_have_text("已复制")
    screenshot(page, "api-token-created")

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/users/me/").json()["username"] == "sales1"

    page.goto("/account/profile/tokens/")
    assert secret not in page.content()
    row = page.locator("[data-testid=token-row]").first
    assert "ERP 同步" in row.inner_text() and secret[:8] in row.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("[data-testid=token-revoke]")
    assert "已撤销" in page.locator("[data-testid=token-status]").first.inner_text()
    screenshot(page, "api-token-revoked")
    assert client.get("/api/v1/users/me/").status_code == 401
