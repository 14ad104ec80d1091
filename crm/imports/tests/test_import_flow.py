"""The import pages and job: permissions, mapping memory, dry run, all-or-nothing, failed rows."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from crm.audit.models import OperationLog
from crm.customers.models import Contact, Customer
from crm.imports import services
from crm.imports.models import ImportJob, ImportMapping
from crm.imports.targets import get_target
from crm.imports.tests.conftest import read_xlsx, upload


def _upload_page(client, rows, target="customers", name="客户.xlsx"):
    return client.post(reverse("imports:upload", args=[target]), {"file": upload(rows, name)})


@pytest.mark.django_db
def test_whole_flow_in_the_browser_pages(client, users, django_capture_on_commit_callbacks):
    client.force_login(users["manager"])
    assert client.get(reverse("imports:home")).status_code == 200
    template = client.get(reverse("imports:template", args=["customers"]))
    header = read_xlsx(template.content)[0]
    assert "客户名称*" in header and "联系人姓名" in header
    response = _upload_page(client, [["公司", "手机"], ["甲公司", "13800138000"], ["乙公司", "123"]])
    job = ImportJob.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("imports:job", args=[job.pk]))
    assert "有 1 列没有自动对应到字段" in page.content.decode()
    # Unmapped required field: refused, nothing changes.
    response = client.post(reverse("imports:mapping", args=[job.pk]), {"col_1": "mobile", "dedupe": "skip"})
    assert response.status_code == 400 and "必填字段“客户名称”没有对应的列" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports:mapping", args=[job.pk]), {"col_0": "name", "col_1": "mobile", "dedupe": "skip"}
        )
    assert response.status_code == 302
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "请输入有效的 11 位手机号码。" in page and "只导入正确的行" in page
    job.refresh_from_db()
    assert (job.status, job.to_create, job.failed_count) == ("checked", 1, 1)
    assert not Customer.objects.exists()
    # Starting without choosing only_valid is refused while there are errors.
    client.post(reverse("imports:start", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "checked"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:start", args=[job.pk]), {"only_valid": "1"})
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 1 and job.failed_count == 1
    assert list(Customer.objects.values_list("name", flat=True)) == ["甲公司"]
    progress = client.get(reverse("imports:progress", args=[job.pk]))
    assert progress["HX-Redirect"] == reverse("imports:job", args=[job.pk])
    failed = client.get(reverse("imports:failed_rows", args=[job.pk]))
    rows = read_xlsx(b"".join(failed.streaming_content))
    assert rows[0] == ["公司", "手机", "错误原因"]
    assert rows[1][:2] == ["乙公司", "123"] and "手机：请输入有效的 11 位手机号码。" in rows[1][2]
    assert len(rows) == 2
    # The mapping is remembered for the next file of this user and target.
    _upload_page(client, [["公司", "手机"], ["丙公司", ""]])
    assert ImportJob.objects.order_by("-pk").first().mapping == {"0": "name", "1": "mobile"}
    assert ImportMapping.objects.filter(user=users["manager"], target="customers").exists()
    jobs_page = client.get(reverse("imports:jobs")).content.decode()
    assert "客户.xlsx" in jobs_page


@pytest.mark.django_db
def test_without_permission_403_and_nothing_changes(client, users):
    client.force_login(users["finance"])
    assert client.get(reverse("imports:upload", args=["customers"])).status_code == 403
    assert _upload_page(client, [["客户名称"], ["甲公司"]]).status_code == 403
    assert client.get(reverse("imports:template", args=["customers"])).status_code == 403
    assert not ImportJob.objects.exists() and not Customer.objects.exists()


@pytest.mark.django_db
def test_another_users_job_answers_404(client, users):
    job = services.job_create(
        user=users["sales1"], target_key="customers", upload=upload([["客户名称"], ["甲"]])
    )
    client.force_login(users["sales2"])
    for name in ("imports:job", "imports:progress", "imports:failed_rows"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("imports:start", args=[job.pk])).status_code == 404
    assert client.post(reverse("imports:mapping", args=[job.pk]), {"col_0": "name"}).status_code == 404


@pytest.mark.django_db
def test_broken_file_gets_a_clear_message(client, users):
    client.force_login(users["manager"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("imports:upload", args=["customers"]), {"file": SimpleUploadedFile("a.xlsx", b"not a sheet")}
    )
    assert response.status_code == 400
    assert not ImportJob.objects.exists()
    response = client.post(
        reverse("imports:upload", args=["customers"]), {"file": SimpleUploadedFile("a.pdf", b"%PDF")}
    )
    assert "请上传 .xlsx 或 .csv 文件。" in response.content.decode()


@pytest.mark.django_db
def test_file_too_large_is_refused(client, users, settings):
    settings.IMPORT_MAX_BYTES = 100
    client.force_login(users["manager"])
    response = _upload_page(client, [["客户名称"], *[[f"公司{i}"] for i in range(50)]])
    assert response.status_code == 400 and "文件太大" in response.content.decode()


@pytest.mark.django_db
def test_ten_thousand_bad_rows_are_reported_and_nothing_written(users, run_import):
    rows = [["客户名称", "手机"], *[[f"公司{i}", "12345"] for i in range(10_000)]]
    job = run_import(users["manager"], "customers", rows, name="big.csv")
    assert job.status == "checked" and job.failed_count == 10_000
    assert len(job.errors) == 10_000 and job.errors[-1][0] == 10_001
    with pytest.raises(Exception, match="请修改后重新上传"):
        services.job_start(job=job, user=users["manager"], only_valid=False)
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_database_error_in_the_second_batch_leaves_nothing(users, run_import, monkeypatch):
    target = get_target("customers")
    monkeypatch.setattr(target, "batch_size", 2)
    original = type(target).write
    calls = []

    def failing_write(self, ctx, outcomes):
        calls.append(len(outcomes))
        if len(calls) == 2:
            from django.db import DatabaseError

            raise DatabaseError("disk full")
        return original(self, ctx, outcomes)

    monkeypatch.setattr(type(target), "write", failing_write)
    rows = [["客户名称", "联系人姓名"], *[[f"公司{i}", f"人{i}"] for i in range(5)]]
    job = run_import(users["manager"], "customers", rows)
    assert job.status == "failed"
    assert "未写入任何数据" in job.error_message and "disk full" in job.error_message
    assert Customer.objects.count() == 0 and Contact.objects.count() == 0
    assert not OperationLog.objects.filter(action__in=["customer.created", "contact.created"]).exists()
    assert calls == [2, 2]


@pytest.mark.django_db
def test_row_that_became_invalid_after_the_dry_run_cancels_the_whole_file(users):
    job = services.job_create(
        user=users["manager"],
        target_key="customers",
        upload=upload([["客户名称", "客户状态"], ["甲", "意向客户"], ["乙", "正式客户"]]),
    )
    services.job_configure(job=job, user=users["manager"], mapping=job.mapping, dedupe="skip")
    job = services.job_check(job_id=job.pk)
    assert job.failed_count == 0
    from crm.customers.models import DictionaryItem

    DictionaryItem.objects.filter(kind="status", name="正式客户").update(is_active=False)
    services.job_start(job=job, user=users["manager"], only_valid=False)
    job = services.job_run(job_id=job.pk)
    assert job.status == "failed" and "第 3 行" in job.error_message
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_running_job_without_heartbeat_is_shown_failed(client, users):
    job = services.job_create(
        user=users["manager"], target_key="customers", upload=upload([["客户名称"], ["甲"]])
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", heartbeat_at=timezone.now() - timedelta(minutes=5), started_at=timezone.now()
    )
    cache.clear()
    client.force_login(users["manager"])
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "导入任务已中断，未写入任何数据" in page
    # A live job shows its progress bar, polled every second.
    services.progress_set(job.pk, phase="run", processed=1, total=2)
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and "50%" in page


@pytest.mark.django_db
def test_queued_job_waits_for_a_busy_worker_without_being_called_failed(client, users):
    job = services.job_create(
        user=users["manager"], target_key="customers", upload=upload([["客户名称"], ["甲"]])
    )
    # Queued five minutes ago (the web process sets no heartbeat); no worker has picked it up yet.
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", heartbeat_at=None, started_at=timezone.now() - timedelta(minutes=5)
    )
    services.progress_set(job.pk, phase="run", processed=0, total=1, beat=False)
    client.force_login(users["manager"])
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "导入任务已中断" not in page and 'hx-trigger="every 1s"' in page


@pytest.mark.django_db
def test_gb18030_csv_is_read(users, run_import):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crm.imports.tests.conftest import csv_bytes

    content = csv_bytes([["客户名称", "地址"], ["华南公司", "广州市天河区"]], encoding="gb18030")
    job = services.job_create(
        user=users["manager"], target_key="customers", upload=SimpleUploadedFile("gbk.csv", content)
    )
    services.job_configure(job=job, user=users["manager"], mapping=job.mapping, dedupe="skip")
    job = services.job_check(job_id=job.pk)
    services.job_start(job=job, user=users["manager"], only_valid=False)
    services.job_run(job_id=job.pk)
    assert Customer.objects.get().address == "广州市天河区"


@pytest.mark.django_db
def test_lists_issue_a_bounded_number_of_queries(client, users, run_import, django_assert_max_num_queries):
    for _i in range(3):
        run_import(
            users["manager"],
            "customers",
            [["客户名称", "手机"], *[[f"公司{i}", "1"] for i in range(120)]],
            run=False,
        )
    job = ImportJob.objects.first()
    client.force_login(users["manager"])
    client.get(reverse("imports:jobs"))  # warm the session / policy caches
    with django_assert_max_num_queries(12):
        assert client.get(reverse("imports:jobs")).status_code == 200
    with django_assert_max_num_queries(12):
        page = client.get(reverse("imports:job", args=[job.pk]) + "?page=3")
    assert page.status_code == 200 and "第 3 / 3 页" in page.content.decode()


@pytest.mark.django_db
def test_import_buttons_follow_permissions(client, users):
    client.force_login(users["manager"])
    page = client.get(reverse("customers:list")).content.decode()
    assert (
        reverse("imports:upload", args=["customers"]) in page
        and reverse("imports:upload", args=["contacts"]) in page
    )
    assert reverse("imports:upload", args=["leads"]) in client.get(reverse("leads:list")).content.decode()
    client.force_login(users["finance"])
    response = client.get(reverse("customers:list"))
    assert reverse("imports:upload", args=["customers"]) not in response.content.decode()
    assert client.get(reverse("imports:home")).status_code == 403


@pytest.mark.django_db
def test_interrupted_dry_run_is_shown_failed(client, users):
    job = services.job_create(
        user=users["manager"], target_key="customers", upload=upload([["客户名称"], ["甲"]])
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status="checking", heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    client.force_login(users["manager"])
    assert "检查任务已中断" in client.get(reverse("imports:job", args=[job.pk])).content.decode()
