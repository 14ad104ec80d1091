import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from crm.accounts.models import User
from crm.audit.models import OperationLog

HEADER = ["用户名", "姓名", "邮箱", "手机号", "部门", "职位", "直属上级用户名", "角色"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(rows, header=HEADER) -> SimpleUploadedFile:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("员工")
    if header:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("users.xlsx", buffer.getvalue(), content_type=XLSX)


def upload(client, file, password="Import2026ok"):
    return client.post("/org/users/import/", {"file": file, "password": password})


def test_template_downloads_as_a_real_workbook(admin_client):
    response = admin_client.get("/org/users/import/template.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    assert [c for c in next(sheet.iter_rows(values_only=True))] == HEADER


def test_good_file_imports_everyone(admin_client, org):
    response = upload(
        admin_client,
        xlsx(
            [
                [
                    "zhao",
                    "赵一",
                    "zhao@example.com",
                    "13800000011",
                    "华南销售部",
                    "销售代表",
                    "manager",
                    "销售",
                ],
                ["qian", "钱二", "", "", "办公室/销售中心/华东销售部", "", "", "销售, 客服"],
                ["sun", "孙三", None, None, None, None, None, None],
            ]
        ),
    )
    assert response.status_code == 302
    zhao = User.objects.get(username="zhao")
    assert zhao.department == org["south"] and zhao.manager.username == "manager"
    assert [r.name for r in zhao.roles.all()] == ["销售"]
    qian = User.objects.get(username="qian")
    assert qian.department == org["east"]
    assert sorted(r.name for r in qian.roles.all()) == ["客服", "销售"]
    assert User.objects.get(username="sun").department == org["root"]
    assert zhao.check_password("Import2026ok") and zhao.must_change_password
    assert OperationLog.objects.filter(action="user.imported").exists()


def test_bad_rows_are_reported_by_row_number_and_nothing_is_imported(admin_client, users):
    before = User.objects.count()
    response = upload(
        admin_client,
        xlsx(
            [
                ["ok1", "正常", "ok1@example.com", "", "", "", "", ""],
                ["bad", "坏邮箱", "not-an-email", "", "", "", "", ""],
                ["sales1", "重复", "", "", "", "", "", ""],
                ["twin", "甲", "", "", "", "", "", ""],
                ["TWIN", "乙", "", "", "", "", "", ""],
                ["x", "", "", "", "不存在的部门", "", "nobody", "国王"],
            ]
        ),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert User.objects.count() == before
    for row, text in [
        (3, "邮箱“not-an-email”格式不正确"),
        (4, "用户名“sales1”已存在"),
        (6, "用户名“TWIN”与第 5 行重复"),
        (7, "姓名不能为空"),
        (7, "部门“不存在的部门”不存在"),
        (7, "直属上级“nobody”"),
        (7, "角色“国王”不存在"),
    ]:
        assert f"<td>{row}</td><td>{text}" in page, (row, text)


@pytest.mark.parametrize(
    "file, message",
    [
        (SimpleUploadedFile("users.csv", b"a,b", content_type="text/csv"), "请上传 .xlsx"),
        (SimpleUploadedFile("users.xlsx", b"this is not a zip", content_type=XLSX), "无法读取文件"),
        (xlsx([], header=None), "表头不正确"),
        (xlsx([], header=HEADER), "文件里没有员工数据"),
        (xlsx([["a", "b"]], header=["名字", "别的"]), "缺少列：用户名、姓名"),
    ],
)
def test_malformed_spreadsheets_are_rejected(admin_client, users, file, message):
    before = User.objects.count()
    response = upload(admin_client, file)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert User.objects.count() == before


def test_weak_initial_password_is_rejected(admin_client, users):
    response = upload(admin_client, xlsx([["ok", "正常", "", "", "", "", "", ""]]), password="123")
    assert response.status_code == 400
    assert not User.objects.filter(username="ok").exists()


def test_ten_thousand_bad_rows_are_reported_quickly(admin_client, users):
    rows = [[f"u{i}", "", "bad-email", "", "", "", "", ""] for i in range(10_000)]
    started = time.monotonic()
    response = upload(admin_client, xlsx(rows))
    elapsed = time.monotonic() - started
    page = response.content.decode()
    assert response.status_code == 400
    assert "发现 20000 处错误" in page
    assert "仅显示前 200 处错误" in page
    assert elapsed < 20
    assert not User.objects.filter(username="u1").exists()


def test_import_needs_permission(client, users):
    client.force_login(users["manager"])
    assert upload(client, xlsx([["ok", "正常", "", "", "", "", "", ""]])).status_code == 403
    assert not User.objects.filter(username="ok").exists()
