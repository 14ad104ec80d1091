"""Helpers for import tests: build .xlsx/.csv files and walk a file through the import flow."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def upload(rows: list[list], name: str = "客户.xlsx") -> SimpleUploadedFile:
    content = csv_bytes(rows) if name.endswith(".csv") else xlsx_bytes(rows)
    return SimpleUploadedFile(name, content)


def read_xlsx(content: bytes) -> list[list]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [["" if v is None else v for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def run_import():
    """upload → auto mapping → dry run → (optionally) run, through the services; returns the job."""
    from crm.imports import services

    def walk(user, target, rows, *, dedupe=None, run=True, only_valid=False, name=None, mapping=None):
        job = services.job_create(user=user, target_key=target, upload=upload(rows, name or f"{target}.xlsx"))
        t = services.target_for(user, target)
        services.job_configure(
            job=job,
            user=user,
            mapping=mapping if mapping is not None else job.mapping,
            dedupe=dedupe or t.allowed_dedupe_modes(user)[0],
        )
        job = services.job_check(job_id=job.pk)
        if run and job.status == "checked" and (only_valid or not job.failed_count):
            job = services.job_start(job=job, user=user, only_valid=only_valid)
            job = services.job_run(job_id=job.pk)
        job.refresh_from_db()
        return job

    return walk


@pytest.fixture(autouse=True)
def _immediate_jobs(immediate_jobs):
    """Import jobs run at once in these tests."""
