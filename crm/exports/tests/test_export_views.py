"""Exporting lists from the browser: what the file holds, who may export what, small exports
answered directly, large ones as a background job with progress, notification and download."""

from decimal import Decimal

import pytest

from crm.audit.models import OperationLog
from crm.exports.models import ExportJob
from crm.exports.tests.conftest import content_of, csv_rows, xlsx_rows
from crm.messaging.models import Notification

pytestmark = pytest.mark.django_db


def post_export(client, list_key="customers", **data):
    payload = {"list": list_key, "format": "xlsx", "scope": "all", "columns": "visible", "params": ""}
    payload.update(data)
    return client.post("/exports/new/", payload)


def test_manager_exports_the_filtered_customer_list_to_xlsx(client, users, make_customer):
    make_customer(name="深圳甲科技有限公司", actor=users["sales1"])
    make_customer(name="上海乙贸易有限公司", actor=users["sales2"])
    make_customer(name="深圳丙电子有限公司", actor=users["sales2"])
    client.force_login(users["manager"])
    response = post_export(client, params="q=深圳&sort=name")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    rows = xlsx_rows(content_of(response))
    assert rows[0][:2] == ["客户名称", "客户编号"]
    assert sorted(r[0] for r in rows[1:]) == ["深圳丙电子有限公司", "深圳甲科技有限公司"]
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE and job.total == 2 and job.user == users["manager"]
    log = OperationLog.objects.get(action="export.created")
    assert "客户" in log.message and "2" in log.message and "xlsx" in log.message.lower()


def test_salesperson_exports_only_own_customers(client, users, make_customer):
    make_customer(name="我的客户", actor=users["sales1"])
    make_customer(name="别人的客户", actor=users["sales2"])
    client.force_login(users["sales1"])
    rows = xlsx_rows(content_of(post_export(client)))
    assert [r[0] for r in rows[1:]] == ["我的客户"]
    client.force_login(users["manager"])
    rows = xlsx_rows(content_of(post_export(client)))
    assert sorted(r[0] for r in rows[1:]) == ["別人的客户".replace("別", "别"), "我的客户"]


def test_csv_has_bom_plain_values_and_neutralised_formulas(client, users, make_customer):
    make_customer(name='=HYPERLINK("http://evil")', remark="+1 公式", credit_limit=Decimal("1234.50"))
    client.force_login(users["sales1"])
    response = post_export(client, format="csv", columns="all")
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(content_of(response))
    header, row = rows[0], rows[1]
    cell = dict(zip(header, row, strict=True))
    assert cell["客户名称"] == '\'=HYPERLINK("http://evil")'
    assert cell["备注"] == "'+1 公式"
    assert cell["信用额度"] == "1234.50"
    assert cell["负责人"] == users["sales1"].display_name
    assert cell["客户类型"] == "企业客户" or cell["客户类型"]  # a choice's label, never its code
    assert cell["客户类型"] != "enterprise"
    assert len(cell["创建时间"]) == 19 and cell["创建时间"][4] == "-"


def test_xlsx_cells_are_neutralised_too(client, users, make_customer):
    make_customer(name="@SUM(A1)")
    client.force_login(users["sales1"])
    rows = xlsx_rows(content_of(post_export(client)))
    assert rows[1][0] == "'@SUM(A1)"


def test_hidden_fields_are_left_out_and_masked_ones_masked(client, users, make_customer):
    from crm.customers.tests.test_field_permissions import restrict

    make_customer(name="字段权限客户", mobile="13812345678", email="boss@example.com", remark="机密")
    user = restrict(users["sales1"], {"customers.remark": "hidden", "customers.mobile": "mask_list"})
    client.force_login(user)
    rows = csv_rows(content_of(post_export(client, format="csv", columns="all")))
    header = rows[0]
    assert "备注" not in header and "机密" not in ",".join(rows[1])
    cell = dict(zip(header, rows[1], strict=True))
    assert cell["手机"] == "138****5678"
    assert cell["邮箱"] == "boss@example.com"


def test_selected_ids_outside_the_users_scope_are_ignored(client, users, make_customer):
    mine = make_customer(name="我的客户", actor=users["sales1"])
    make_customer(name="另一个我的客户", actor=users["sales1"])
    other = make_customer(name="别人的客户", actor=users["sales2"])
    client.force_login(users["sales1"])
    response = client.post(
        "/exports/new/?list=customers&scope=selected&format=csv&columns=visible", {"ids": [mine.pk, other.pk]}
    )
    rows = csv_rows(content_of(response))
    assert [r[0] for r in rows[1:]] == ["我的客户"]
    assert ExportJob.objects.get().ids == [mine.pk, other.pk]


def test_visible_columns_follow_the_column_chooser(client, users, make_customer):
    make_customer(name="列选择客户")
    client.force_login(users["sales1"])
    rows = xlsx_rows(content_of(post_export(client, params="cc_set=1&cols=owner")))
    assert rows[0] == ["客户名称", "负责人"]
    assert rows[1] == ["列选择客户", users["sales1"].display_name]


def test_missing_export_permission_is_403_and_creates_nothing(client, users, make_customer):
    make_customer()
    client.force_login(users["service"])
    response = post_export(client)
    assert response.status_code == 403
    assert (
        not ExportJob.objects.exists() and not OperationLog.objects.filter(action="export.created").exists()
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"list": "nonsense"}, "未知的列表"),
        ({"format": "pdf"}, "导出格式只能是"),
        ({"scope": "selected"}, "请先勾选要导出的记录"),
        ({"columns": "some"}, "导出列只能是"),
        ({"params": "f=password&op=is&v=1"}, "筛选条件"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(client, users, make_customer, data, message):
    make_customer()
    client.force_login(users["sales1"])
    response = post_export(client, **data)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert message in page
    assert not ExportJob.objects.exists()


def test_large_export_runs_in_the_background(
    client, users, make_customer, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_SYNC_LIMIT = 3
    for i in range(5):
        make_customer(name=f"后台客户{i}")
    client.force_login(users["sales1"])
    with django_capture_on_commit_callbacks(execute=True):
        response = post_export(client, format="csv")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and job.total == 5 and job.done_rows == 5
    note = Notification.objects.get(recipient=users["sales1"])
    assert "导出完成" in note.title and note.url == f"/exports/{job.pk}/download/"
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert "100%" in page and f"/exports/{job.pk}/download/" in page
    partial = client.get(f"/exports/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-status="done"' in partial and "every 1s" not in partial
    download = client.get(note.url)
    assert download.status_code == 200
    assert len(csv_rows(content_of(download))) == 6
    assert f"/exports/{job.pk}/download/" in client.get("/exports/").content.decode()
    client.force_login(users["sales2"])
    assert client.get(note.url).status_code == 404
    assert client.get(f"/exports/{job.pk}/").status_code == 404
    assert f"/exports/{job.pk}/" not in client.get("/exports/").content.decode()


def test_queued_job_page_polls_every_second(client, users, make_customer, settings):
    settings.EXPORT_SYNC_LIMIT = 1
    make_customer(name="甲")
    make_customer(name="乙")
    client.force_login(users["sales1"])
    response = post_export(client)  # on_commit never runs inside the test transaction
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.QUEUED
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page and "progress-bar" in page


def test_export_queries_are_bounded_regardless_of_rows(
    client, users, make_customer, django_assert_max_num_queries
):
    from crm.exports import services

    def run(count):
        for i in range(count):
            make_customer(name=f"计数客户{count}-{i}")
        with django_assert_max_num_queries(25) as captured:
            job = services.export_create(actor=users["manager"], list_key="customers", columns="all")
        assert job.total == count + (5 if count == 50 else 0)
        return len(captured.captured_queries)

    few = run(5)
    many = run(50)
    assert many <= few  # the same statements for 10x the rows (the first run also warms caches)


def test_files_older_than_seven_days_are_removed(users, make_customer):
    from datetime import timedelta

    from django.utils import timezone

    from crm.exports import services
    from crm.exports.tasks import purge_old_exports

    make_customer()
    old = services.export_create(actor=users["sales1"], list_key="customers")
    new = services.export_create(actor=users["sales1"], list_key="customers", format="csv")
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    old_path = services.file_path(old)
    assert old_path.is_file()
    assert purge_old_exports.call_local() == 1
    old.refresh_from_db()
    assert not old_path.exists() and old.file_path == "" and services.file_path(new) is not None


def test_a_failing_background_job_is_marked_failed_without_a_file(
    client, users, make_customer, settings, monkeypatch, django_capture_on_commit_callbacks, _media
):
    from crm.core import spreadsheets

    settings.EXPORT_SYNC_LIMIT = 1
    make_customer(name="甲")
    make_customer(name="乙")

    def broken(target, headers, rows):
        next(iter(rows))
        raise OSError("磁盘已满")

    monkeypatch.setattr(spreadsheets, "csv_write", broken)
    client.force_login(users["sales1"])
    with django_capture_on_commit_callbacks(execute=True):
        response = post_export(client, format="csv")
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.FAILED and "磁盘已满" in job.error
    assert not any((_media / "exports").iterdir())
    assert "导出失败" in Notification.objects.get(recipient=users["sales1"]).title
    page = client.get(response["Location"]).content.decode()
    assert "磁盘已满" in page and 'data-status="failed"' in page
    assert client.get(f"/exports/{job.pk}/download/").status_code == 404
    assert not OperationLog.objects.filter(action="export.created").exists()


def test_a_failing_direct_export_shows_the_reason(client, users, make_customer, monkeypatch):
    from crm.core import spreadsheets

    make_customer(name="甲")

    def broken(target, headers, rows, title="Sheet1"):
        raise OSError("磁盘已满")

    monkeypatch.setattr(spreadsheets, "xlsx_write", broken)
    client.force_login(users["sales1"])
    response = post_export(client)
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    assert job.status == ExportJob.Status.FAILED
    assert "磁盘已满" in client.get(response["Location"]).content.decode()
