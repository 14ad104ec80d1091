"""Spreadsheet exports in one place: cells that a spreadsheet would run as a formula are
neutralised, and workbooks are written in openpyxl's write-only (streaming) mode.

Neutralising: a text cell beginning with = + - @, a tab or a carriage return is prefixed with an
apostrophe, so Excel and WPS show it as text instead of evaluating it (CSV/formula injection).
"""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def safe_cell(value):
    """A value ready for a cell: text neutralised, aware datetimes in local time, None → ""."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, (int, float, Decimal, date)) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "Sheet1") -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([str(h) for h in headers])
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=safe_cell(value))
            if isinstance(value, Decimal):
                cell.number_format = "0.00"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "Sheet1"):
    response = HttpResponse(xlsx_bytes(headers, rows, title=title), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


# ---------------------------------------------------------------- streaming writers (SYS-3 exports)


def xlsx_write(target, headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "Sheet1") -> int:
    """Stream `rows` into an .xlsx at `target` (a path or a binary file) in write-only mode: rows
    are written as they come, never held together. Returns the number of data rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([safe_cell(str(h)) for h in headers])
    count = 0
    for row in rows:
        # Plain values are written as they are; only money needs a cell object (its format).
        sheet.append([_money_cell(sheet, v) if isinstance(v, Decimal) else safe_cell(v) for v in row])
        count += 1
    workbook.save(target)
    return count


def _money_cell(sheet, value: Decimal) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "0.00"
    return cell


def _csv_text(value) -> str:
    value = safe_cell(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_write(target, headers: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Stream `rows` as CSV into the binary file `target`: UTF-8 with a BOM (so Chinese Excel
    opens it), every cell neutralised like the .xlsx ones. Returns the number of data rows."""
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow([_csv_text(str(h)) for h in headers])
    count = 0
    for row in rows:
        writer.writerow([_csv_text(value) for value in row])
        count += 1
    text.flush()
    text.detach()
    return count
