"""End-to-end fixtures: one headless Chromium per session, a fresh browser context per test.

Playwright's sync API drives an asyncio loop in the main thread, so Django would refuse ORM calls
made from the test body ("SynchronousOnlyOperation") without this switch.
"""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CRM_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000

# Passwords that satisfy every validator in settings (length, letters and digits, not common).
ADMIN_PASSWORD = "Adm1nPass2024"
USER_PASSWORD = "Staff8pass2024"


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright():
    """Only for the end-to-end tests, not for the whole pytest session."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def org_defaults(transactional_db):
    """The default roles and the root department 办公室.

    The data migration creates them, but transactional_db flushes every table after each test,
    so recreate them (ensure_* only create what is missing).
    """
    from crm.accounts.defaults import ensure_default_roles, ensure_root_department
    from crm.accounts.models import Department, Role

    ensure_default_roles(Role)
    ensure_root_department(Department)
    return Department.objects.get(parent__isnull=True)


@pytest.fixture
def make_user(org_defaults):
    """make_user("lisi", roles=["sales"]) → an active user with USER_PASSWORD, no forced change."""
    from crm.accounts.models import Role, User

    def make(username, *, password=USER_PASSWORD, roles=(), name="", department=None, **extra):
        user = User(
            username=username,
            name=name or username,
            email=f"{username}@example.com",
            department=department or org_defaults,
            must_change_password=False,
            **extra,
        )
        user.set_password(password)
        user.save()
        user.roles.set([Role.objects.get(code=code) for code in roles])
        return user

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", password=ADMIN_PASSWORD, roles=["super_admin"], name="系统管理员")


def _new_page(browser, live_server, viewport):
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return context, page


@pytest.fixture
def page(browser, live_server, org_defaults):
    context, page = _new_page(browser, live_server, DESKTOP)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server, org_defaults):
    context, page = _new_page(browser, live_server, PHONE)
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """screenshot(page, "home") → test-artifacts/screenshots/home.png, the full page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        page.wait_for_load_state("networkidle")
        page.evaluate("document.fonts.ready")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


class UI:
    """Small steps every scenario needs."""

    @staticmethod
    def login(page, username, password):
        """Submit the login form (opening /login/ first when needed) and wait for the next page."""
        if "/login/" not in page.url:
            page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("form[action='/login/'] button[type=submit]")

    @staticmethod
    def logout(page):
        page.click("[data-testid=user-menu]")
        with page.expect_navigation():
            page.click("[data-testid=logout]")

    @staticmethod
    def nav_keys(page) -> set[str]:
        """The data-nav keys of the left navigation."""
        return set(
            page.locator("[data-testid=main-nav] [data-nav]").evaluate_all(
                "links => links.map(a => a.dataset.nav)"
            )
        )

    @staticmethod
    def flash(page):
        return page.locator("[data-testid=flash]")


@pytest.fixture
def ui():
    return UI
