"""Read an uploaded .xlsx or .csv file as a header row plus a stream of text rows.

Interface (the import machinery codes against it):

    open_table(path, filename) -> Table
        Checks the whole file first and raises SpreadsheetError (str(exc) is a translated,
        user-facing message naming the problem and the fix) before any row is handed out:
        too large, empty, not a spreadsheet (signature, not extension), old .xls, zip bomb,
        merged cells, formulas (the first few cells are listed: "第 5 行 C 列是公式…"), wrong
        encoding, no header row, an empty or duplicate header, too many columns or rows.
        Table.headers: the header texts (the first non-empty row; trailing empty cells dropped).
        Table.rows: an iterator of (row number as Excel shows it, [cell texts]) for the data rows;
        texts are stripped, "" when empty, padded/truncated to len(headers); fully empty rows are
        skipped. It streams (the file is never loaded whole); call Table.close() (or exhaust it)
        to release the file. Should the iteration still meet a formula cell that the pre-check
        missed, it raises SpreadsheetError too.

    count_rows(path, filename) -> int
        The number of data rows, cheaply (xlsx: the sheet's declared dimension, else a fast pass
        over the sheet XML; csv: a pass with the csv module). An estimate for xlsx files with
        blank rows; use it for progress bars, not for logic.

Cell values become text: integral floats without ".0", no scientific notation (phone numbers
stored as numbers stay whole), dates "YYYY-MM-DD" (a datetime at midnight counts as a date),
datetimes "YYYY-MM-DD HH:MM:SS", times "HH:MM:SS", booleans "是"/"否".
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET  # noqa: N817, S405 - small workbook parts, after the zip checks

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from crm.core.spreadsheets import FORMULA_TRIGGERS

MAX_COLUMNS = 200
MAX_ROWS = 1_000_000
# 50 MB of .xlsx inflates to ~5-15x that; rows are streamed, so this bounds time, not memory
MAX_UNCOMPRESSED = 1024 * 1024 * 1024
MAX_RATIO = 100
RATIO_MIN_SIZE = 1024 * 1024  # tiny parts compress extremely well without being bombs
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
FORMULAS_LISTED = 5
CHUNK = 1024 * 1024

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls / .doc / .msg
OTHER_MAGICS = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",
    b"MZ",
    b"\x7fELF",
    b"BM",
    b"{\\rtf",
)


class SpreadsheetError(Exception):
    """The file cannot be imported; str(exc) is a translated message for the user."""


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


# ---------------------------------------------------------------------------------------------
# public functions


def open_table(path: Path, filename: str) -> Table:
    path = Path(path)
    kind = _detect(path, filename)
    if kind == "xlsx":
        return _open_xlsx(path)
    return _open_csv(path, kind)


def count_rows(path: Path, filename: str) -> int:
    path = Path(path)
    kind = _detect(path, filename)
    if kind == "xlsx":
        with _zip(path) as archive:
            sheet = _first_sheet_path(archive)
            dimension = _declared_rows(archive, sheet)
            if dimension is None:
                dimension = _scan_sheet(archive, sheet).rows
        return max(dimension - 1, 0)
    encoding, delimiter = kind.split("|", 1)
    count = -1
    with _csv_text(path, encoding) as handle:
        for row in csv.reader(handle, delimiter=delimiter):
            if any(cell.strip() for cell in row):
                count += 1
    return max(count, 0)


def unneutralised(text: str) -> str:
    """Our exports prefix text that a spreadsheet would run as a formula with an apostrophe
    (crm/core/spreadsheets.safe_cell); reading it back gives the original text, so an exported
    list imports as the same records. The text is only ever stored, never evaluated."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_TRIGGERS:
        return text[1:]
    return text


def cell_text(value: object) -> str:
    """One cell value as the text the import sees."""
    if value is None:
        return ""
    if isinstance(value, str):
        return unneutralised(value.strip())
    if isinstance(value, bool):
        return "是" if value else "否"  # data, not UI text: the targets parse 是/否 in any language
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):  # noqa: PLR0124
            return ""
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return _plain(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0) and value.tzinfo is None:
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        seconds = abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return str(value).strip()


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


# ---------------------------------------------------------------------------------------------
# detection


def _max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _detect(path: Path, filename: str) -> str:
    """Return "xlsx" or "<encoding>|<delimiter>" for a CSV, or raise SpreadsheetError."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SpreadsheetError(_("上传的文件已丢失，请重新上传。")) from exc
    limit = _max_bytes()
    if size > limit:
        raise SpreadsheetError(
            _("文件有 %(size)s MB，超过了 %(limit)s MB 的上限，请拆分成几个文件分别导入。")
            % {"size": _mb(size), "limit": _mb(limit)}
        )
    if size == 0:
        raise SpreadsheetError(_("文件是空的，请在第一行填写表头，从第二行起填写数据。"))
    with path.open("rb") as handle:
        head = handle.read(8192)
    suffix = Path(filename or "").suffix.lower()
    if head.startswith(OLE_MAGIC):
        raise SpreadsheetError(
            _("这是旧的 Excel 97-2003 (.xls) 文件，请在 Excel 中“另存为” .xlsx 格式后再上传。")
        )
    if head.startswith(ZIP_MAGIC):
        _check_zip(path)
        return "xlsx"
    if suffix in (".xlsx", ".xlsm", ".xls") or _looks_binary(head):
        raise SpreadsheetError(
            _("“%(name)s”不是有效的 Excel 或 CSV 文件（可能只是改了扩展名），请上传 .xlsx 或 .csv 文件。")
            % {"name": filename or path.name}
        )
    encoding = _csv_encoding(path, head)
    return f"{encoding}|{_csv_delimiter(path, encoding)}"


def _mb(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value >= 10 or value.is_integer() else f"{value:.1f}"


def _looks_binary(head: bytes) -> bool:
    if head.startswith(OTHER_MAGICS):
        return True
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in head


# ---------------------------------------------------------------------------------------------
# xlsx


def _zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SpreadsheetError(_("文件已损坏，无法作为 .xlsx 打开，请在 Excel 中重新保存后再上传。")) from exc


def _check_zip(path: Path) -> None:
    with _zip(path) as archive:
        infos = archive.infolist()
        total = 0
        for info in infos:
            total += info.file_size
            compressed = max(info.compress_size, 1)
            if info.file_size > RATIO_MIN_SIZE and info.file_size / compressed > MAX_RATIO:
                raise _bomb()
        if total > MAX_UNCOMPRESSED:
            raise _bomb()
        names = {info.filename for info in infos}
        if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
            raise SpreadsheetError(
                _("这是一个压缩文件，但不是 Excel 工作簿（.xlsx），请上传 .xlsx 或 .csv 文件。")
            )
        _first_sheet_path(archive)


def _bomb() -> SpreadsheetError:
    return SpreadsheetError(
        _(
            "文件解压后异常巨大（超过 %(limit)s MB 或压缩比超过 %(ratio)s 倍），"
            "已拒绝处理；请上传正常的 Excel 文件。"
        )
        % {"limit": MAX_UNCOMPRESSED // (1024 * 1024), "ratio": MAX_RATIO}
    )


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    """The zip member of the workbook's first sheet (the same sheet openpyxl calls worksheets[0])."""
    broken = SpreadsheetError(_("工作簿结构已损坏，找不到工作表，请在 Excel 中重新保存后再上传。"))
    try:
        workbook = ET.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    except (KeyError, ET.ParseError, zipfile.BadZipFile, OSError) as exc:
        raise broken from exc
    rel_id = None
    for element in workbook.iter():
        if element.tag.rsplit("}", 1)[-1] == "sheet":
            for key, value in element.attrib.items():
                if key.rsplit("}", 1)[-1] == "id":
                    rel_id = value
            break
    if rel_id is None:
        raise SpreadsheetError(_("工作簿里没有工作表，请在第一个工作表中填写数据。"))
    for rel in rels:
        if rel.attrib.get("Id") == rel_id:
            target = rel.attrib.get("Target", "")
            member = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
            if member in archive.namelist():
                return member
    raise broken


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]*)(\d*)(?::([A-Z]*)(\d+))?\"")


def _declared_rows(archive: zipfile.ZipFile, sheet: str) -> int | None:
    with archive.open(sheet) as handle:
        head = handle.read(4096)
    match = _DIMENSION.search(head)
    if not match:
        return None
    last = match.group(4) or match.group(2)
    if not last or (match.group(4) is None and last == "1"):
        return None  # "A1" is what some writers put when they did not compute it
    return int(last)


@dataclass
class _SheetScan:
    rows: int
    merged: list[str]
    formulas: list[str]


# xm:f are the list formulas of data validations (dropdowns) in <extLst>, not cell formulas
_FORMULA = re.compile(rb"<(?!xm:)(?:\w+:)?f[\s>/]")
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell[\s>/]")
_PREFIXED_ROW = re.compile(rb"<\w+:row[\s>]")
_CELL_REF = re.compile(rb"<(?:\w+:)?c\s[^>]*?\br=\"([A-Z]+)(\d+)\"")
_MERGE_REF = re.compile(rb"ref=\"([A-Z0-9:]+)\"")


def _scan_sheet(archive: zipfile.ZipFile, sheet: str, *, stop_rows: int | None = None) -> _SheetScan:
    """One streaming pass over the sheet XML: count rows, find merged ranges and formula cells."""
    scan = _SheetScan(rows=0, merged=[], formulas=[])
    last_cell = b""
    carry = b""
    read = 0
    with archive.open(sheet) as handle:
        while True:
            chunk = handle.read(CHUNK)
            read += len(chunk)
            if read > MAX_UNCOMPRESSED:
                raise _bomb()
            buffer = carry + chunk
            if chunk:
                cut = buffer.rfind(b"<")
                if cut <= 0:
                    carry = buffer
                    continue
                piece, carry = buffer[:cut], buffer[cut:]
            else:
                piece, carry = buffer, b""
            # bytes.count/`in` run at C speed; the regular expressions only where a hit is possible
            scan.rows += piece.count(b"<row ") + piece.count(b"<row>")
            if b":row" in piece:
                scan.rows += len(_PREFIXED_ROW.findall(piece))
            if b"<f" in piece or b":f" in piece:
                for match in _FORMULA.finditer(piece):
                    if len(scan.formulas) < FORMULAS_LISTED:
                        start = piece.rfind(b"<c ", 0, match.start())
                        cell = _CELL_REF.match(piece, start) if start >= 0 else None
                        ref = (cell.group(1) + b"|" + cell.group(2)) if cell else last_cell
                        scan.formulas.append(ref.decode("ascii", "replace"))
                    else:
                        scan.formulas.append("")
            if b"mergeCell" in piece:
                for match in _MERGE.finditer(piece):
                    ref = _MERGE_REF.search(piece, match.end(), match.end() + 200)
                    scan.merged.append(ref.group(1).decode("ascii", "replace") if ref else "?")
            last = piece.rfind(b"<c ")
            if last >= 0:
                cell = _CELL_REF.match(piece, last)
                if cell:
                    last_cell = cell.group(1) + b"|" + cell.group(2)
            if stop_rows is not None and scan.rows > stop_rows:
                break
            if not chunk:
                break
    return scan


def _open_xlsx(path: Path) -> Table:
    with _zip(path) as archive:
        sheet = _first_sheet_path(archive)
        scan = _scan_sheet(archive, sheet, stop_rows=MAX_ROWS + 1)
    if scan.merged:
        raise SpreadsheetError(
            _("工作表中有合并单元格（%(ranges)s），请取消合并，每个单元格各填一个值后再上传。")
            % {"ranges": "、".join(scan.merged[:FORMULAS_LISTED])}
        )
    if scan.formulas:
        cells = []
        for ref in scan.formulas[:FORMULAS_LISTED]:
            column, _sep, row = ref.partition("|")
            cells.append(_("第 %(row)s 行 %(column)s 列") % {"row": row or "?", "column": column or "?"})
        message = _("%(cells)s是公式，请把这些单元格复制后“选择性粘贴为数值”再上传。") % {
            "cells": "、".join(cells)
        }
        if len(scan.formulas) > FORMULAS_LISTED:
            message += _("（共 %(count)s 个公式单元格）") % {"count": len(scan.formulas)}
        raise SpreadsheetError(message)
    if scan.rows > MAX_ROWS + 1:
        raise _too_many_rows()

    import openpyxl  # noqa: PLC0415 - heavy import, only when needed

    # a file object, not the path: openpyxl judges a path by its extension, we by the signature
    handle = path.open("rb")
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on broken parts
        handle.close()
        raise SpreadsheetError(_("文件已损坏，无法作为 .xlsx 打开，请在 Excel 中重新保存后再上传。")) from exc
    try:
        if not workbook.worksheets:
            raise SpreadsheetError(_("工作簿里没有工作表，请在第一个工作表中填写数据。"))
        worksheet = workbook.worksheets[0]
        worksheet.reset_dimensions()  # declared dimensions are often wrong: read what is there
        source = enumerate(worksheet.iter_rows(values_only=True), start=1)
        number, headers = _header(((n, [cell_text(v) for v in values]) for n, values in source))
    except BaseException:
        workbook.close()
        handle.close()
        raise
    return Table(headers=headers, rows=_xlsx_rows(workbook, handle, source, len(headers)))


def _xlsx_rows(workbook, handle, source, width: int) -> Iterator[tuple[int, list[str]]]:
    try:
        for number, values in source:
            if number > MAX_ROWS + 1:
                raise _too_many_rows()
            texts = []
            for index, value in enumerate(values[:width]):
                if isinstance(value, str) and value.startswith("="):
                    raise SpreadsheetError(
                        _("第 %(row)s 行 %(column)s 列是公式，请粘贴为数值后再上传。")
                        % {"row": number, "column": get_column_letter(index + 1)}
                    )
                texts.append(cell_text(value))
            if not any(texts):
                continue
            if len(texts) < width:
                texts.extend([""] * (width - len(texts)))
            yield number, texts
    finally:
        workbook.close()
        handle.close()


def _too_many_rows() -> SpreadsheetError:
    return SpreadsheetError(
        _("文件超过 %(limit)s 行，请拆分成几个文件分别导入。") % {"limit": f"{MAX_ROWS:,}"}
    )


def _header(source: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    for number, texts in source:  # noqa: B007
        if any(texts):
            break
    else:
        raise SpreadsheetError(_("文件里没有表头，请在第一行填写列名，从第二行起填写数据。"))
    while texts and not texts[-1]:
        texts.pop()
    if len(texts) > MAX_COLUMNS:
        raise SpreadsheetError(
            _("表头有 %(count)s 列，最多支持 %(limit)s 列，请删除不需要导入的列。")
            % {"count": len(texts), "limit": MAX_COLUMNS}
        )
    empty = [get_column_letter(i + 1) for i, text in enumerate(texts) if not text]
    if empty:
        raise SpreadsheetError(
            _("第 %(row)s 行表头的 %(columns)s 列是空的，请为每一列填写列名，或删除该列。")
            % {"row": number, "columns": "、".join(empty)}
        )
    seen: dict[str, str] = {}
    duplicates: list[str] = []
    for text in texts:
        key = text.casefold()
        if key in seen and text not in duplicates:
            duplicates.append(text)
        seen.setdefault(key, text)
    if duplicates:
        raise SpreadsheetError(
            _("表头中有重复的列名：%(names)s，请改名或删除重复的列。")
            % {"names": "、".join(f"“{d}”" for d in duplicates)}
        )
    return number, texts


# ---------------------------------------------------------------------------------------------
# csv


def _csv_encoding(path: Path, head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        if _decodes(path, encoding):
            return encoding
    raise SpreadsheetError(
        _(
            "无法识别文件的文字编码（既不是 UTF-8 也不是 GBK/GB18030），"
            "请在 Excel 中“另存为” .xlsx 或“CSV UTF-8”后再上传。"
        )
    )


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                text = decoder.decode(chunk)
                if "\x00" in text:
                    return False
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _csv_delimiter(path: Path, encoding: str) -> str:
    with _csv_text(path, encoding) as handle:
        first = handle.readline()
    if "\t" in first and "," not in first:
        return "\t"
    if ";" in first and "," not in first:
        return ";"
    return ","


def _csv_text(path: Path, encoding: str) -> io.TextIOWrapper:
    return path.open("r", encoding=encoding, newline="")


def _open_csv(path: Path, kind: str) -> Table:
    encoding, delimiter = kind.split("|", 1)
    handle = _csv_text(path, encoding)
    try:
        reader = csv.reader(handle, delimiter=delimiter, strict=False)
        source = _csv_source(reader)
        number, headers = _header(source)
        rows = 0
        with _csv_text(path, encoding) as counter:
            for rows, _row in enumerate(csv.reader(counter, delimiter=delimiter), start=1):  # noqa: B007
                if rows > MAX_ROWS + 1:
                    raise _too_many_rows()
    except csv.Error as exc:
        handle.close()
        raise SpreadsheetError(
            _("CSV 文件格式有误（%(error)s），请在 Excel 中重新保存为 CSV 或 .xlsx 后再上传。")
            % {"error": exc}
        ) from exc
    except BaseException:
        handle.close()
        raise
    return Table(headers=headers, rows=_csv_rows(handle, source, len(headers)))


def _csv_source(reader) -> Iterator[tuple[int, list[str]]]:
    # one record is one row in Excel, even when a quoted cell holds line breaks
    for number, values in enumerate(reader, start=1):
        yield number, [unneutralised(value.strip()) for value in values]


def _csv_rows(handle, source, width: int) -> Iterator[tuple[int, list[str]]]:
    number = 0
    try:
        for number, texts in source:  # noqa: B007
            if not any(texts):
                continue
            if len(texts) < width:
                texts.extend([""] * (width - len(texts)))
            yield number, texts[:width]
    except csv.Error as exc:
        raise SpreadsheetError(
            _("CSV 文件第 %(row)s 行格式有误（%(error)s），请检查引号是否成对。")
            % {"row": number + 1, "error": exc}
        ) from exc
    finally:
        handle.close()
