import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from crm.customers import services as customer_services


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture(autouse=True)
def _immediate_jobs(immediate_jobs):
    """Export jobs run at once in these tests."""


@pytest.fixture
def make_customer(users):
    def make(actor=None, **values):
        values.setdefault("name", "深圳市导出科技有限公司")
        return customer_services.customer_create(actor=actor or users["sales1"], values=values)

    return make


def content_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def xlsx_rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [[("" if v is None else v) for v in row] for row in sheet.iter_rows(values_only=True)]


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
