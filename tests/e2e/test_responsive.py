"""Scenario 6: a phone-sized screen collapses the navigation and never scrolls sideways."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, USER_PASSWORD

pytestmark = pytest.mark.e2e

SCROLL_WIDTH = "document.scrollingElement.scrollWidth"


def test_phone_home_collapses_navigation_without_horizontal_scroll(phone_page, make_user, ui, screenshot):
    page = phone_page
    make_user("zhaolei", name="赵磊", roles=["sales_manager"])

    page.goto("/login/")
    assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"] + 1
    screenshot(page, "phone-login")
    ui.login(page, "zhaolei", USER_PASSWORD)
    expect(page.locator("[data-testid=bell]")).to_be_attached()

    toggler = page.locator("#sidebar .navbar-toggler")
    menu = page.locator("#sidebar-menu")
    expect(toggler).to_be_visible()
    expect(menu).to_be_hidden()
    expect(page.locator("[data-nav=users]")).to_be_hidden()
    assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"] + 1
    screenshot(page, "phone-home")

    toggler.click()
    expect(menu).to_be_visible()
    expect(page.locator("[data-nav=users]")).to_be_visible()
    assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"] + 1
    screenshot(page, "phone-menu")

    for url in ("/org/users/", "/org/departments/", "/messages/"):
        page.goto(url)
        assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"] + 1, url
