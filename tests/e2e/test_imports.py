"""Importing customers in a real browser (SYS-3): template → upload → mapping → dry run → import
with the progress bar → failed rows. Screenshots go to /tmp/shots/imports_*.png."""

import io
import threading
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import USER_PASSWORD

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots")


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SHOTS / f"imports_{name}.png"), full_page=True)


@pytest.fixture
def jobs_in_a_worker_thread(monkeypatch):
    """Queued import jobs run in a thread beside the live server (like a Huey worker), slowly
    enough that the progress bar is seen moving."""
    from django.db import connection

    from crm.imports import services, tasks
    from crm.imports.targets import get_target

    monkeypatch.setattr(services, "PROGRESS_EVERY", 1)
    target = get_target("customers")
    original = type(target).check

    def slow_check(self, ctx, row_number, values):
        time.sleep(0.4)
        return original(self, ctx, row_number, values)

    monkeypatch.setattr(type(target), "check", slow_check)

    def in_thread(function):
        def queue(job_id):
            def work():
                try:
                    function(job_id=job_id)
                finally:
                    connection.close()

            threading.Thread(target=work, daemon=True).start()

        return queue

    monkeypatch.setattr(tasks, "import_check", in_thread(services.job_check))
    monkeypatch.setattr(tasks, "import_run", in_thread(services.job_run))


def test_manager_imports_customers_with_a_few_bad_rows(page, make_user, ui, jobs_in_a_worker_thread):
    from crm.customers.models import Customer

    make_user("manager", roles=["sales_manager"], name="王经理")
    ui.login(page, "manager", USER_PASSWORD)
    page.goto("/customers/")
    with page.expect_navigation():
        page.click("[data-testid=import-button]")
        page.click("[data-testid=import-button-customers]")
    _shot(page, "1_upload")

    # The template: current fields, required ones marked.
    with page.expect_download() as download_info:
        page.click("[data-testid=import-template]")
    template = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    headers = [c.value for c in template.active[1]]
    assert "客户名称*" in headers and "联系人姓名" in headers and "负责人" in headers

    # Fill it: one column renamed so that it is not auto-matched, two bad rows.
    sheet = template.active
    sheet.delete_rows(1)
    sheet.append(["客户名称*", "客户状态", "手机号码", "联系人姓名", "联系人手机"])
    rows = [
        ["深圳市星辰科技有限公司", "意向客户", "13800138001", "张三", "13900139001"],
        ["广州博雅贸易有限公司", "正式客户", "13800138002", "李四", ""],
        ["杭州云帆软件有限公司", "不存在的状态", "13800138003", "", ""],
        ["南京长江电子有限公司", "", "12345", "", ""],
        ["上海浦江物流有限公司", "", "", "", ""],
    ]
    for row in rows:
        sheet.append(row)
    filled = SHOTS / "imports_filled.xlsx"
    SHOTS.mkdir(parents=True, exist_ok=True)
    template.save(filled)
    page.set_input_files("[data-testid=import-file]", str(filled))
    with page.expect_navigation():
        page.click("[data-testid=import-upload]")

    # Mapping: 手机号码 was not matched; map it to 手机.
    assert "有 1 列没有自动对应到字段" in page.locator("[data-testid=import-unmatched]").inner_text()
    assert page.locator("[data-testid=import-col-2]").input_value() == ""
    page.select_option("[data-testid=import-col-2]", "mobile")
    _shot(page, "2_mapping")
    with page.expect_navigation():
        page.click("[data-testid=import-check]")

    # Dry run (a job: the progress bar first, then the result).
    page.wait_for_selector("[data-testid=import-start-card]", timeout=20_000)
    assert page.locator("[data-testid=count-create]").inner_text() == "3"
    assert page.locator("[data-testid=count-failed]").inner_text() == "2"
    errors = page.locator("[data-testid=import-error-row]").all_inner_texts()
    assert len(errors) == 2
    assert "4" in errors[0] and "客户状态" in errors[0] and "不存在的状态" in errors[0]
    assert "5" in errors[1] and "手机号码" in errors[1] and "11 位手机号码" in errors[1]
    assert not Customer.objects.exists()
    _shot(page, "3_dryrun")

    # Import the good rows; watch the progress bar.
    with page.expect_navigation():
        page.click("[data-testid=import-start]")
    assert page.locator("[data-testid=import-progress]").count() == 1
    page.wait_for_function(
        "() => { const bar = document.querySelector('[data-testid=import-progress] .progress-bar');"
        " return !bar || parseInt(bar.style.width) > 0; }"
    )
    if page.locator("[data-testid=import-progress]").count():
        _shot(page, "4_progress")
    page.wait_for_selector("[data-testid=import-done]", timeout=20_000)
    _shot(page, "5_done")
    assert page.locator("[data-testid=count-create]").inner_text() == "3"
    assert sorted(Customer.objects.values_list("name", flat=True)) == sorted(
        ["深圳市星辰科技有限公司", "广州博雅贸易有限公司", "上海浦江物流有限公司"]
    )

    # The failed rows, with the original columns and the reason, ready to fix and re-upload.
    with page.expect_download() as download_info:
        page.click("[data-testid=import-failed-rows]")
    book = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    failed = [[c if c is not None else "" for c in row] for row in book.active.iter_rows(values_only=True)]
    assert failed[0] == ["客户名称*", "客户状态", "手机号码", "联系人姓名", "联系人手机", "错误原因"]
    assert failed[1][:3] == ["杭州云帆软件有限公司", "不存在的状态", "13800138003"]
    assert "客户状态" in failed[1][5]
    assert failed[2][:3] == ["南京长江电子有限公司", "", "12345"] and "手机号码" in failed[2][5]
    assert len(failed) == 3

    page.goto("/imports/jobs/")
    _shot(page, "6_my_imports")
    assert page.locator("[data-testid=import-job-row]").count() == 1
    assert page.console_errors == []


def test_sales_imports_leads_from_a_gbk_csv(page, make_user, ui, jobs_in_a_worker_thread):
    from crm.leads.models import Lead

    sales = make_user("sales1", roles=["sales"], name="李娜")
    ui.login(page, "sales1", USER_PASSWORD)
    page.goto("/leads/")
    with page.expect_navigation():
        page.click("[data-testid=import-button-leads]")
    SHOTS.mkdir(parents=True, exist_ok=True)
    csv_path = SHOTS / "imports_leads.csv"
    csv_path.write_bytes(
        "公司名称,联系人姓名,手机\n星辰科技,王五,13800138009\n博雅贸易,赵六,\n".encode("gb18030")
    )
    page.set_input_files("[data-testid=import-file]", str(csv_path))
    with page.expect_navigation():
        page.click("[data-testid=import-upload]")
    assert page.locator("[data-testid=import-unmatched]").count() == 0
    _shot(page, "7_leads_mapping")
    with page.expect_navigation():
        page.click("[data-testid=import-check]")
    page.wait_for_selector("[data-testid=import-start-card]", timeout=20_000)
    assert page.locator("[data-testid=count-create]").inner_text() == "2"
    with page.expect_navigation():
        page.click("[data-testid=import-start]")
    page.wait_for_selector("[data-testid=import-done]", timeout=20_000)
    _shot(page, "8_leads_done")
    assert set(Lead.objects.values_list("company", "owner")) == {
        ("星辰科技", sales.pk),
        ("博雅贸易", sales.pk),
    }
    assert page.console_errors == []
