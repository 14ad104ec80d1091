"""Scenarios 2 and 4: lock-out after five failed logins; a disabled account cannot sign in."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, USER_PASSWORD

pytestmark = pytest.mark.e2e


def test_five_failed_logins_lock_the_account_even_for_the_right_password(page, make_user, ui, screenshot):
    make_user("lockme", roles=["sales"])
    page.goto("/login/")
    screenshot(page, "login")

    for attempt in range(1, 5):
        ui.login(page, "lockme", f"wrong-password-{attempt}")
        expect(page.locator("[data-testid=form-error]")).to_contain_text("用户名或密码不正确")
        expect(page.locator("[data-testid=lockout]")).to_have_count(0)

    ui.login(page, "lockme", "wrong-password-5")
    lockout = page.locator("[data-testid=lockout]")
    expect(lockout).to_contain_text("锁定")
    screenshot(page, "login-locked")

    # Now even the right password is refused with the same message, and no session is opened.
    page.fill("#id_username", "lockme")
    page.fill("#id_password", USER_PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/login/") and r.request.method == "POST") as info:
        page.click("form[action='/login/'] button[type=submit]")
    assert info.value.status == 429
    expect(lockout).to_contain_text("锁定")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_user_disabled_from_the_users_list_cannot_log_in(page, admin_user, make_user, ui):
    from crm.accounts.models import User

    make_user("lisi", name="李四", roles=["sales"])
    ui.login(page, "admin", ADMIN_PASSWORD)
    page.click("[data-nav=users]")
    row = page.locator("[data-testid=user-table] tbody tr", has_text="lisi")
    disable = row.locator("button:has-text('停用')")

    # Dismissing the confirm dialog changes nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    disable.click()
    page.wait_for_timeout(300)
    assert User.objects.get(username="lisi").is_active

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        disable.click()
    expect(ui.flash(page)).to_contain_text("已停用 李四")
    assert not User.objects.get(username="lisi").is_active
    # The default filter lists active staff only; the disabled one shows under 已停用.
    expect(page.locator("[data-testid=user-table] tbody tr", has_text="lisi")).to_have_count(0)
    page.goto("/org/users/?status=disabled")
    expect(page.locator("[data-testid=user-table] tbody tr", has_text="lisi")).to_contain_text("已停用")

    ui.logout(page)
    ui.login(page, "lisi", USER_PASSWORD)
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator("[data-testid=form-error]")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
