"""Exports in a real browser (SYS-3): a manager filters the customer list, exports it to Excel and
the downloaded file holds exactly the filtered customers; a large export goes through the progress
page and its download button."""

import io

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import USER_PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def _immediate_jobs(settings, tmp_path):
    from huey.contrib.djhuey import HUEY

    settings.MEDIA_ROOT = tmp_path / "media"
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


def _names(download) -> list[str]:
    with open(download.path(), "rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read()), read_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "客户名称"
    return sorted(row[0] for row in rows[1:])


def _customers(make_user):
    from crm.customers import services

    manager = make_user("manager", roles=["sales_manager"], name="王经理")
    sales = make_user("sales1", roles=["sales"], name="李娜", manager=manager)
    for name in ("深圳市华强电子有限公司", "深圳市南山软件有限公司", "广州市天河贸易有限公司"):
        services.customer_create(actor=sales, values={"name": name})
    services.customer_create(actor=manager, values={"name": "深圳市福田物流有限公司"})
    return manager


def test_manager_exports_the_filtered_customer_list(page, make_user, ui, screenshot, _immediate_jobs):
    _customers(make_user)
    ui.login(page, "manager", USER_PASSWORD)
    page.goto("/customers/")
    page.fill("[data-testid=quick-search]", "深圳")
    with page.expect_navigation():
        page.press("[data-testid=quick-search]", "Enter")
    assert page.locator("[data-testid=customer-row]").count() == 3
    page.click("[data-testid=export-menu-toggle]")
    screenshot(page, "export-menu")
    with page.expect_download() as info:
        page.click("[data-testid=export-xlsx]")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    assert _names(download) == sorted(
        ["深圳市南山软件有限公司", "深圳市华强电子有限公司", "深圳市福田物流有限公司"]
    )
    assert page.console_errors == []


def test_large_export_shows_progress_and_a_download(
    page, make_user, ui, screenshot, settings, _immediate_jobs
):
    settings.EXPORT_SYNC_LIMIT = 1
    _customers(make_user)
    ui.login(page, "manager", USER_PASSWORD)
    page.goto("/customers/?q=深圳")
    page.click("[data-testid=export-menu-toggle]")
    with page.expect_navigation():
        page.click("[data-testid=export-xlsx]")
    assert "/exports/" in page.url
    page.wait_for_selector("[data-testid=export-progress][data-status=done]")
    page.wait_for_selector("[data-testid=export-download]")
    screenshot(page, "export-progress-done")
    with page.expect_download() as info:
        page.click("[data-testid=export-download]")
    assert len(_names(info.value)) == 3
    page.goto("/messages/")
    assert "导出完成" in page.content()
    page.goto("/exports/")
    screenshot(page, "my-exports")
    assert page.locator("[data-testid=export-row]").count() == 1
    assert page.console_errors == []
