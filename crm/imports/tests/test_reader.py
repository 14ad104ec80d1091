"""The spreadsheet reader: values as text, encodings, and every kind of broken file."""

from __future__ import annotations

import datetime as dt
import io
import types
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.utils import translation
from openpyxl.worksheet.formula import ArrayFormula

from crm.imports import reader
from crm.imports.reader import SpreadsheetError, Table, cell_text, count_rows, open_table


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def _xlsx(tmp_path: Path, rows, name="data.xlsx", setup=None) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if setup:
        setup(workbook, sheet)
    path = tmp_path / name
    workbook.save(path)
    return path


def _read(path: Path, filename: str | None = None) -> tuple[list[str], list[tuple[int, list[str]]]]:
    table = open_table(path, filename or path.name)
    return table.headers, list(table.rows)


def _error(path: Path, filename: str | None = None) -> str:
    with pytest.raises(SpreadsheetError) as info:
        table = open_table(path, filename or path.name)
        list(table.rows)
    return str(info.value)


# --- values -----------------------------------------------------------------------------------


def test_xlsx_values_become_text_as_excel_shows_them(tmp_path):
    path = _xlsx(
        tmp_path,
        [
            ["名称", "电话", "金额", "日期", "时间", "重点", "备注"],
            [
                " 华为 ",
                13800138000,
                12.5,
                dt.date(2026, 1, 31),
                dt.datetime(2026, 1, 31, 8, 5, 9),  # noqa: DTZ001 - Excel has no zones
                True,
                None,
            ],
            ["中兴", 13800138001.0, 1e-7, dt.datetime(2026, 2, 1), None, False, "  "],  # noqa: DTZ001
        ],
    )
    headers, rows = _read(path)
    assert headers == ["名称", "电话", "金额", "日期", "时间", "重点", "备注"]
    assert rows == [
        (2, ["华为", "13800138000", "12.5", "2026-01-31", "2026-01-31 08:05:09", "是", ""]),
        (3, ["中兴", "13800138001", "0.0000001", "2026-02-01", "", "否", ""]),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (0, "0"),
        (13800138000.0, "13800138000"),
        (1.23e20, "123000000000000000000"),
        (-0.5, "-0.5"),
        (Decimal("1.2300"), "1.23"),
        (Decimal("1E+3"), "1000"),
        (dt.time(9, 30), "09:30:00"),
        (dt.timedelta(hours=25, minutes=1), "25:01:00"),
        (float("nan"), ""),
        ("\t 文本 \n", "文本"),
    ],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_rows_are_padded_truncated_and_empty_rows_skipped_with_excel_row_numbers(tmp_path):
    path = _xlsx(
        tmp_path,
        [
            [],
            ["a", "b", "c"],
            ["1"],
            [None, None, None],
            ["2", "x", "y", "beyond the header"],
            [],
            ["3", "", ""],
        ],
    )
    headers, rows = _read(path)
    assert headers == ["a", "b", "c"]
    assert rows == [(3, ["1", "", ""]), (5, ["2", "x", "y"]), (7, ["3", "", ""])]


def test_trailing_empty_header_cells_are_ignored(tmp_path):
    path = _xlsx(tmp_path, [["a", "b", None, None], ["1", "2"]])
    assert _read(path) == (["a", "b"], [(2, ["1", "2"])])


def test_only_the_first_sheet_is_read(tmp_path):
    def more_sheets(workbook, sheet):
        other = workbook.create_sheet("说明", 1)
        other.append(["这不是数据"])

    path = _xlsx(tmp_path, [["名称"], ["甲"]], setup=more_sheets)
    assert _read(path) == (["名称"], [(2, ["甲"])])


def test_wrong_declared_dimension_does_not_lose_rows(tmp_path):
    path = _xlsx(tmp_path, [["名称"], ["甲"], ["乙"], ["丙"]])
    _rewrite_member(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b'ref="A1:A4"', b'ref="A1:A2"'))
    assert [n for n, _row in _read(path)[1]] == [2, 3, 4]


def test_write_only_workbook_and_count_rows(tmp_path):
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["名称", "电话"])
    for i in range(250):
        sheet.append([f"客户{i}", 13900000000 + i])
    path = tmp_path / "big.xlsx"
    workbook.save(path)
    assert count_rows(path, "big.xlsx") == 250
    table = open_table(path, "big.xlsx")
    assert isinstance(table.rows, types.GeneratorType)  # streamed, not a list
    first = next(table.rows)
    assert first == (2, ["客户0", "13900000000"])
    table.close()


def test_count_rows_without_dimension_scans_the_sheet(tmp_path):
    path = _xlsx(tmp_path, [["a"], ["1"], ["2"]])
    _rewrite_member(
        path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b'<dimension ref="A1:A3"/>', b"")
    )
    assert count_rows(path, "x.xlsx") == 2


# --- csv ----------------------------------------------------------------------------------------


CSV_TEXT = (
    "客户名称,手机,地址\r\n"
    '深圳市腾飞科技有限公司,13800138000,"广东省深圳市南山区\n科技园"\r\n'
    "\r\n"
    ",,\r\n"
    "北京中关村𠀋,13900139000\r\n"
)
CSV_ROWS = [
    (2, ["深圳市腾飞科技有限公司", "13800138000", "广东省深圳市南山区\n科技园"]),
    (5, ["北京中关村𠀋", "13900139000", ""]),
]


@pytest.mark.parametrize(
    "data",
    [
        CSV_TEXT.encode("utf-8"),
        CSV_TEXT.encode("utf-8-sig"),
        CSV_TEXT.encode("gb18030"),
        CSV_TEXT.replace("𠀋", "").encode("gbk"),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "gbk"],
)
def test_csv_encodings(tmp_path, data):
    path = tmp_path / "客户.csv"
    path.write_bytes(data)
    headers, rows = _read(path)
    assert headers == ["客户名称", "手机", "地址"]
    expected = CSV_ROWS if "𠀋".encode("gb18030") in data or "𠀋".encode() in data else None
    if expected is None:
        expected = [CSV_ROWS[0], (5, ["北京中关村", "13900139000", ""])]
    assert rows == expected
    assert count_rows(path, "客户.csv") == 2


def test_utf16_tab_separated_text_from_excel(tmp_path):
    path = tmp_path / "unicode.csv"
    path.write_bytes("名称\t电话\r\n甲\t138\r\n".encode("utf-16"))
    assert _read(path) == (["名称", "电话"], [(2, ["甲", "138"])])


def test_csv_with_semicolons(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("名称;电话\n甲;138\n", encoding="utf-8")
    assert _read(path) == (["名称", "电话"], [(2, ["甲", "138"])])


def test_wrong_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("name,city\nJosé,Zürich\n".encode("cp1252") + b"\xff\xfe\xfd,x\n")
    message = _error(path)
    assert "编码" in message
    assert "UTF-8" in message


# --- broken files ----------------------------------------------------------------------------


def test_empty_file(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert "文件是空的" in _error(path)


@pytest.mark.parametrize(
    ("name", "data"),
    [("blank.csv", b"\r\n\r\n,,,\r\n"), ("spaces.csv", b"  ,  \n")],
)
def test_no_header_row_in_csv(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    assert "没有表头" in _error(path)


def test_no_header_row_in_xlsx(tmp_path):
    path = _xlsx(tmp_path, [])
    assert "没有表头" in _error(path)


def test_over_the_size_limit(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 300_000)
    message = _error(path)
    assert "超过了 1 MB 的上限" in message
    assert "拆分" in message


def test_default_size_limit_is_50_mb(settings):
    del settings.IMPORT_MAX_BYTES
    assert reader._max_bytes() == 50 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photo.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
        ("report.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
        ("program.xlsx", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),
        ("noise.csv", bytes(range(256)) * 8),
        ("text.xlsx", "名称,电话\n甲,1\n".encode()),
    ],
)
def test_not_a_spreadsheet(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    message = _error(path)
    assert "不是有效的 Excel 或 CSV 文件" in message
    assert name in message


def test_old_xls_format(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(reader.OLE_MAGIC + b"\x00" * 512)
    message = _error(path)
    assert ".xls" in message
    assert "另存为" in message


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "不是 Excel 工作簿" in _error(path)


def test_truncated_xlsx(tmp_path):
    good = _xlsx(tmp_path, [["名称"], ["甲"]])
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good.read_bytes()[:600])
    assert "文件已损坏" in _error(path)


def test_xlsx_renamed_to_csv_is_still_read(tmp_path):
    good = _xlsx(tmp_path, [["名称"], ["甲"]])
    path = tmp_path / "renamed.csv"
    path.write_bytes(good.read_bytes())
    assert _read(path) == (["名称"], [(2, ["甲"])])


def test_zip_bomb_by_compression_ratio_is_refused_before_opening(tmp_path, monkeypatch):
    path = _xlsx(tmp_path, [["名称"], ["甲"]])
    _rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</worksheet>", b" " * (30 * 1024 * 1024) + b"</worksheet>"),
    )

    def fail(*args, **kwargs):
        raise AssertionError("openpyxl must not open a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", fail)
    message = _error(path)
    assert "压缩比" in message
    assert "已拒绝" in message


def test_zip_bomb_by_total_declared_size(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_UNCOMPRESSED", 64 * 1024)
    path = _xlsx(tmp_path, [["名称"], ["甲"]])
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/media/noise.bin", bytes(range(256)) * 400)  # 100 KB, incompressible
    assert "异常巨大" in _error(path)


def test_empty_header_cell_names_its_column(tmp_path):
    path = _xlsx(tmp_path, [["名称", None, "电话", "", "地址"], ["甲", "x", "1", "y", "z"]])
    message = _error(path)
    assert "B、D 列是空的" in message
    assert "第 1 行" in message


def test_duplicate_headers_are_named(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("名称,电话,名称,Email,email\n甲,1,乙,a,b\n", encoding="utf-8")
    message = _error(path)
    assert "重复的列名" in message
    assert "“名称”" in message
    assert "“email”" in message


def test_merged_cells(tmp_path):
    path = _xlsx(tmp_path, [["客户导入", None], ["名称", "电话"], ["甲", "1"]], setup=_merge("A1:B1"))
    message = _error(path)
    assert "合并单元格" in message
    assert "A1:B1" in message
    assert "取消合并" in message


def test_formulas_are_listed_with_row_and_column(tmp_path):
    def formulas(workbook, sheet):
        sheet["C5"] = "=A5*2"
        sheet["B7"] = "=SUM(A2:A4)"
        sheet["A8"] = ArrayFormula("A8:A8", "=A2")

    path = _xlsx(tmp_path, [["a", "b", "c"], [1], [2], [3], [4], [5], [6]], setup=formulas)
    message = _error(path)
    assert "第 5 行 C 列" in message
    assert "第 7 行 B 列" in message
    assert "第 8 行 A 列" in message
    assert "粘贴为数值" in message


def test_many_formulas_are_counted(tmp_path):
    def formulas(workbook, sheet):
        for row in range(2, 22):
            sheet[f"B{row}"] = f"=A{row}+1"

    path = _xlsx(tmp_path, [["a", "b"], *[[i] for i in range(20)]], setup=formulas)
    message = _error(path)
    assert "第 2 行 B 列" in message
    assert "共 20 个公式单元格" in message
    assert "第 9 行" not in message


@pytest.mark.filterwarnings("ignore:Data Validation extension:UserWarning")
def test_dropdown_lists_of_data_validations_are_not_formulas(tmp_path):
    ext = (
        b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
        b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        b'<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        b'<x14:dataValidation type="list"><x14:formula1><xm:f>Lists!$A$1:$A$5</xm:f></x14:formula1>'
        b"<xm:sqref>B2:B100</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst></worksheet>"
    )
    path = _xlsx(tmp_path, [["名称", "状态"], ["甲", "意向客户"]])
    _rewrite_member(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"</worksheet>", ext))
    assert _read(path) == (["名称", "状态"], [(2, ["甲", "意向客户"])])


def test_text_starting_with_equals_sign_is_not_a_formula_in_csv(tmp_path):
    path = tmp_path / "eq.csv"
    path.write_text("名称,备注\n甲,=不是公式\n", encoding="utf-8")
    assert _read(path)[1] == [(2, ["甲", "=不是公式"])]


def test_too_many_columns(tmp_path):
    path = _xlsx(tmp_path, [[f"列{i}" for i in range(201)], ["x"]])
    message = _error(path)
    assert "201 列" in message
    assert "最多支持 200 列" in message


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_too_many_rows(tmp_path, monkeypatch, kind):
    monkeypatch.setattr(reader, "MAX_ROWS", 5)
    rows = [["名称"], *[[f"客户{i}"] for i in range(6)]]
    if kind == "xlsx":
        path = _xlsx(tmp_path, rows)
    else:
        path = tmp_path / "rows.csv"
        path.write_text("\n".join(r[0] for r in rows), encoding="utf-8")
    message = _error(path)
    assert "超过 5 行" in message


def test_five_rows_is_still_fine(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_ROWS", 5)
    path = _xlsx(tmp_path, [["名称"], *[[f"客户{i}"] for i in range(5)]])
    assert len(_read(path)[1]) == 5


def test_messages_follow_the_active_language(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with translation.override("en"), pytest.raises(SpreadsheetError) as info:
        open_table(path, "empty.csv")
    assert str(info.value)  # a message in either language; never an empty string


def test_table_close_releases_the_file(tmp_path):
    path = _xlsx(tmp_path, [["名称"], ["甲"], ["乙"]])
    table = open_table(path, "data.xlsx")
    assert isinstance(table, Table)
    next(table.rows)
    table.close()
    with pytest.raises(StopIteration):
        next(table.rows)


# --- helpers ------------------------------------------------------------------------------------


def _merge(cells: str):
    def setup(workbook, sheet):
        sheet.merge_cells(cells)

    return setup


def _rewrite_member(path: Path, member: str, change) -> None:
    with zipfile.ZipFile(path) as archive:
        items = [(info, archive.read(info.filename)) for info in archive.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in items:
            archive.writestr(info.filename, change(data) if info.filename == member else data)
    path.write_bytes(buffer.getvalue())
