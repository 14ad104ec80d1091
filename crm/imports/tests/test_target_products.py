"""Importing products: rules of the product form and service, categories by name, codes as duplicates."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.audit.models import OperationLog
from crm.imports import services
from crm.imports.targets import get_target
from crm.products import services as product_services
from crm.products.models import Product

HEADER = [
    "产品编码",
    "产品名称",
    "产品分类",
    "单位",
    "标准价格",
    "成本",
    "库存",
    "单位积分",
    "产品等级",
    "产品说明",
    "上架",
]


@pytest.fixture
def categories(users):
    admin = users["admin"]
    hardware = product_services.category_create(actor=admin, name="硬件")
    locks = product_services.category_create(actor=admin, name="智能门锁", parent=hardware)
    software = product_services.category_create(actor=admin, name="软件")
    # the same name under two parents: only the path tells them apart
    spare_hw = product_services.category_create(actor=admin, name="配件", parent=hardware)
    spare_sw = product_services.category_create(actor=admin, name="配件", parent=software)
    old = product_services.category_create(actor=admin, name="停产系列")
    product_services.category_set_active(actor=admin, category=old, active=False)
    return {
        "hardware": hardware,
        "locks": locks,
        "software": software,
        "spare_hw": spare_hw,
        "spare_sw": spare_sw,
    }


@pytest.mark.django_db
def test_products_are_created_with_category_unit_prices_and_log(users, categories, run_import):
    rows = [
        HEADER,
        ["HW-X1", "智能门锁 X1", "智能门锁", "台", 1299, "650.5", 100, 13, "A", "指纹识别", "是"],
        ["SW-ENT", "企业版软件授权", "软件/配件", "", "28800", "", "", "", "", "", "否"],
        ["HW-CAB", "连接线", "硬件 > 配件", "根", "9.9", "", "", "", "", "", ""],
    ]
    job = run_import(users["manager"], "products", rows)
    assert job.status == "done", (job.error_message, job.errors)
    assert (job.created_count, job.failed_count) == (3, 0)
    lock = Product.objects.get(code="HW-X1")
    assert lock.name == "智能门锁 X1" and lock.category == categories["locks"] and lock.unit == "台"
    assert (lock.list_price, lock.cost, lock.stock, lock.points) == (
        Decimal("1299.00"),
        Decimal("650.50"),
        Decimal("100.00"),
        13,
    )
    assert lock.grade == "A" and lock.description == "指纹识别" and lock.is_active
    assert lock.created_by == users["manager"]
    licence = Product.objects.get(code="SW-ENT")
    assert licence.category == categories["spare_sw"] and licence.unit == "个" and not licence.is_active
    assert (licence.cost, licence.stock, licence.points) == (0, 0, 0)
    assert Product.objects.get(code="HW-CAB").category == categories["spare_hw"]
    logs = OperationLog.objects.filter(action="product.created")
    assert logs.count() == 3
    assert logs.get(target_id=str(lock.pk)).changes["name"] == [None, "智能门锁 X1"]


@pytest.mark.django_db
def test_english_headers_are_matched(users, categories, run_import):
    rows = [["Code", "Name", "Category", "List price"], ["E-1", "English", "硬件", "5"]]
    job = run_import(users["manager"], "products", rows)
    assert job.status == "done", job.errors
    assert Product.objects.get(code="E-1").category == categories["hardware"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("产品编码", "", "必填"),
        ("产品编码", "X" * 41, "40"),
        ("标准价格", "", "必填"),
        ("标准价格", "abc", "数字"),
        ("标准价格", "-1", "大于或等于0"),
        ("标准价格", "1.234", "小数不超过 2 位"),
        ("成本", "-5", "大于或等于0"),
        ("单位积分", "1.5", "整数"),
        ("单位积分", "2000000", "小于或等于"),
        ("产品分类", "不存在的分类", "产品分类“不存在的分类”不存在或已停用"),
        ("产品分类", "停产系列", "不存在或已停用"),
        ("产品分类", "配件", "有多个名为“配件”的产品分类，请填写完整路径"),
        ("上架", "也许", "请填“是”或“否”"),
    ],
)
def test_each_rule_is_reported_and_nothing_is_written(users, categories, run_import, column, value, message):
    good = {"产品编码": "OK-1", "产品名称": "好产品", "标准价格": "10"}
    rows = [list(good), list(good.values())]
    if column in good:
        rows[1][rows[0].index(column)] = value
    else:
        rows[0].append(column)
        rows[1].append(value)
    job = run_import(users["manager"], "products", rows, run=False)
    assert job.status == "checked"
    assert job.failed_count == 1, job.errors
    row, header, text = job.errors[0]
    assert row == 2 and header == column and message in text, job.errors
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_existing_code_is_skipped_by_default(users, categories, run_import):
    product_services.product_create(
        actor=users["admin"], code="HW-X1", name="旧名", unit="台", list_price="1"
    )
    rows = [["产品编码", "产品名称", "标准价格"], ["hw-x1", "新名", "2"], ["HW-X2", "新品", "3"]]
    job = run_import(users["manager"], "products", rows)
    assert job.status == "done"
    assert (job.created_count, job.skipped_count) == (1, 1)
    assert Product.objects.get(code="HW-X1").name == "旧名"


@pytest.mark.django_db
def test_existing_code_updates_only_the_filled_cells(users, categories, run_import):
    product = product_services.product_create(
        actor=users["admin"],
        code="HW-X1",
        name="旧名",
        unit="台",
        list_price="1",
        category=categories["locks"],
        stock=Decimal(7),
    )
    rows = [
        ["产品编码", "产品名称", "标准价格", "库存", "产品分类", "上架"],
        ["HW-X1", "新名", "2", "", "", "否"],
    ]
    job = run_import(users["manager"], "products", rows, dedupe="update")
    assert job.status == "done", job.errors
    assert (job.created_count, job.updated_count) == (0, 1)
    product.refresh_from_db()
    assert (product.name, product.list_price, product.stock, product.unit) == (
        "新名",
        Decimal("2.00"),
        7,
        "台",
    )
    assert product.category == categories["locks"] and not product.is_active
    log = OperationLog.objects.get(action="product.updated", target_id=str(product.pk))
    assert log.changes["name"] == ["旧名", "新名"]
    assert "stock" not in log.changes


@pytest.mark.django_db
def test_update_needs_products_edit(users, categories, run_import):
    from crm.accounts.models import Role

    role = Role.objects.create(name="产品导入员", code="product_importer", permissions=["products.import"])
    users["norole"].roles.set([role])
    target = get_target("products")
    assert target.allowed_dedupe_modes(users["norole"]) == ["skip"]
    assert "update" in target.allowed_dedupe_modes(users["manager"])


@pytest.mark.django_db
def test_code_twice_in_the_file_is_an_error_on_the_second_row(users, categories, run_import):
    rows = [
        ["产品编码", "产品名称", "标准价格"],
        ["A-1", "甲", "1"],
        ["B-1", "乙", "1"],
        ["a-1", "甲二", "1"],
    ]
    job = run_import(users["manager"], "products", rows, run=False)
    assert job.failed_count == 1
    assert job.errors[0][0] == 4 and "与第 2 行重复" in job.errors[0][2]


@pytest.mark.django_db
def test_file_with_errors_is_all_or_nothing(users, categories, run_import):
    rows = [["产品编码", "产品名称", "标准价格"], ["A-1", "甲", "1"], ["B-1", "乙", "-3"]]
    job = run_import(users["manager"], "products", rows, run=False)
    assert job.status == "checked" and job.failed_count == 1
    with pytest.raises(ValidationError, match="只导入正确的行"):
        services.job_start(job=job, user=users["manager"], only_valid=False)
    assert not Product.objects.exists()
    job = run_import(users["manager"], "products", rows, only_valid=True)
    assert job.status == "done" and job.created_count == 1
    assert list(Product.objects.values_list("code", flat=True)) == ["A-1"]


@pytest.mark.django_db
def test_without_products_import_the_target_is_refused(users, categories):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.target_for(users["sales1"], "products")
    assert "products" not in [t.key for t in services.targets_for(users["sales1"])]
    assert "products" in [t.key for t in services.targets_for(users["manager"])]


@pytest.mark.django_db
def test_check_uses_a_bounded_number_of_queries(users, categories, django_assert_max_num_queries):
    target = get_target("products")
    ctx = target.start(users["manager"], {"dedupe": "skip"})
    values = {"code": "", "name": "x", "list_price": "1", "category": "智能门锁"}
    with django_assert_max_num_queries(60):
        for i in range(50):
            outcome = target.check(ctx, i + 2, values | {"code": f"Q-{i}"})
            assert outcome.ok, outcome.errors


@pytest.mark.django_db
def test_pages_template_and_broken_upload(client, users, categories, run_import):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import load_workbook

    from crm.imports.models import ImportJob

    client.force_login(users["manager"])
    page = client.get("/imports/products/")
    assert page.status_code == 200
    assert "产品编码" in page.content.decode()
    template = client.get("/imports/products/template.xlsx")
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.content))
    headers = [c.value for c in book.worksheets[0][1]]
    assert headers[:3] == ["产品编码*", "产品名称*", "产品分类"]
    # the template, filled in, imports as it is
    sheet = book.worksheets[0]
    sheet.append(["T-1", "模板产品", "智能门锁", "台", 88])
    buffer = io.BytesIO()
    book.save(buffer)
    job = services.job_create(
        user=users["manager"],
        target_key="products",
        upload=SimpleUploadedFile("模板.xlsx", buffer.getvalue()),
    )
    services.job_configure(job=job, user=users["manager"], mapping=job.mapping, dedupe="skip")
    job = services.job_check(job_id=job.pk)
    assert (job.status, job.to_create, job.failed_count) == ("checked", 1, 0), job.errors
    # a renamed picture is refused with a message, and no job is made
    jobs = ImportJob.objects.count()
    response = client.post(
        "/imports/products/", {"file": SimpleUploadedFile("产品.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)}
    )
    assert response.status_code == 400
    assert "不是有效的 Excel 或 CSV 文件" in response.content.decode()
    assert ImportJob.objects.count() == jobs
    assert not Product.objects.exists()
