"""Importing customers: the rows written, validation like the form, duplicates, all-or-nothing."""

import pytest

from crm.audit.models import OperationLog
from crm.customers.models import Contact, Customer, CustomerPolicy, DictionaryItem
from crm.customfields.services import customfield_create

HEADER = ["客户名称", "客户状态", "行业", "手机", "邮箱", "负责人", "联系人姓名", "联系人手机", "联系人职位"]


@pytest.mark.django_db
def test_customers_are_created_with_owner_dictionaries_search_columns_and_contact(users, run_import):
    rows = [
        HEADER,
        [
            "深圳市中兴通讯股份有限公司",
            "意向客户",
            "信息技术",
            "13800138000",
            "a@zte.com",
            "sales1",
            "张三",
            "13900139000",
            "采购经理",
        ],
        ["北京示例科技有限公司", "", "", "", "", "", "", "", ""],
    ]
    job = run_import(users["manager"], "customers", rows)
    assert job.status == "done", job.error_message
    assert (job.created_count, job.failed_count) == (2, 0)
    zte = Customer.objects.get(name="深圳市中兴通讯股份有限公司")
    assert zte.owner == users["sales1"]
    assert zte.department_id == users["sales1"].department_id
    assert zte.status.name == "意向客户" and zte.industry.name == "信息技术"
    assert zte.mobile == "13800138000" and zte.email == "a@zte.com"
    assert "zhongxing" in zte.name_pinyin and "zx" in zte.name_initials
    assert zte.name_key == "中兴通讯" and "中兴" in zte.name_grams.split()
    assert zte.code.startswith("KH") and zte.created_by == users["manager"]
    contact = Contact.objects.get(customer=zte)
    assert (contact.name, contact.mobile, contact.title, contact.is_primary) == (
        "张三",
        "13900139000",
        "采购经理",
        True,
    )
    other = Customer.objects.get(name="北京示例科技有限公司")
    assert other.owner == users["manager"] and not other.contacts.exists()
    assert OperationLog.objects.filter(action="customer.created").count() == 2
    assert OperationLog.objects.filter(action="contact.created").count() == 1
    codes = set(Customer.objects.values_list("code", flat=True))
    assert len(codes) == 2


@pytest.mark.django_db
def test_customer_type_is_read_as_people_type_it(users, run_import):
    rows = [
        ["客户名称", "客户类型"],
        ["张伟", "个人"],
        ["李娜", "Individual customer"],
        ["甲公司", "企业客户"],
        ["乙公司", ""],
    ]
    job = run_import(users["manager"], "customers", rows)
    assert job.status == "done", job.error_message
    kinds = dict(Customer.objects.values_list("name", "kind"))
    assert kinds == {
        "张伟": "individual",
        "李娜": "individual",
        "甲公司": "enterprise",
        "乙公司": "enterprise",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "value", "column", "message"),
    [
        ("客户名称", "", "客户名称", "该字段是必填项。"),
        ("手机", "12345", "手机", "请输入有效的 11 位手机号码。"),
        ("邮箱", "not-mail", "邮箱", "请输入有效的邮箱地址。"),
        ("邮编", "12", "邮编", "邮编应为 6 位数字。"),
        (
            "客户状态",
            "不存在的状态",
            "客户状态",
            "“不存在的状态”不是有效的客户状态（应为字典中已有的选项）。",
        ),
        ("负责人", "nobody", "负责人", "找不到员工“nobody”"),
        ("统一社会信用代码", "123", "统一社会信用代码", "统一社会信用代码“123”不正确"),
        ("联系人手机", "13900139000", "联系人姓名", "请同时填写联系人姓名"),
    ],
)
def test_each_rule_is_reported_with_row_column_and_reason(users, run_import, header, value, column, message):
    rows = [["客户名称", header], ["好公司", value]]
    if header == "客户名称":
        rows = [["客户名称", "手机"], ["", "13800138000"]]
    job = run_import(users["manager"], "customers", rows, run=False)
    assert job.status == "checked"
    assert job.failed_count == 1
    row, col, text = job.errors[0]
    assert row == 2 and col == column and message in text, job.errors
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_owner_outside_the_importers_scope_is_refused(users, run_import):
    job = run_import(users["sales1"], "customers", [["客户名称", "负责人"], ["甲公司", "sales2"]], run=False)
    assert job.failed_count == 1 and "找不到员工“sales2”" in job.errors[0][2]


@pytest.mark.django_db
def test_custom_fields_required_and_choice(users, run_import):
    customfield_create(
        actor=users["admin"],
        target="customers",
        values={
            "key": "intent",
            "label": "合作意向",
            "field_type": "choice",
            "options": ["强烈", "一般"],
            "required": True,
        },
    )
    rows = [["客户名称", "合作意向"], ["甲公司", "强烈"], ["乙公司", "随便"], ["丙公司", ""]]
    job = run_import(users["manager"], "customers", rows, run=False)
    assert job.failed_count == 2
    by_row = {row: (col, text) for row, col, text in job.errors}
    assert by_row[3][0] == "合作意向"
    assert by_row[4] == ("合作意向", "请填写“合作意向”。")
    job = run_import(users["manager"], "customers", rows, only_valid=True)
    assert job.status == "done" and job.created_count == 1
    assert Customer.objects.get().custom_data == {"intent": "强烈"}


@pytest.mark.django_db
def test_duplicates_skip_update_create_and_inside_the_file(users, run_import):
    run_import(users["manager"], "customers", [["客户名称", "手机"], ["深圳市中兴通讯股份有限公司", ""]])
    rows = [
        ["客户名称", "电话"],
        ["中兴通讯有限公司", "0755-1234567"],  # same company as the existing one
        ["华为技术有限公司", ""],
        ["深圳市华为技术有限公司", ""],  # same as the row above, inside the file
    ]
    job = run_import(users["manager"], "customers", rows, dedupe="skip")
    assert (job.created_count, job.skipped_count) == (1, 2)
    assert Customer.objects.count() == 2
    job = run_import(users["manager"], "customers", rows, dedupe="update")
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 2, 1)
    zte = Customer.objects.get(name_key="中兴通讯")
    assert zte.phone == "0755-1234567" and zte.name == "中兴通讯有限公司"
    job = run_import(users["manager"], "customers", rows, dedupe="create")
    assert job.created_count == 3 and Customer.objects.count() == 5


@pytest.mark.django_db
def test_forbid_policy_offers_no_create_and_rejects_duplicates(users, run_import):
    from crm.imports.targets import get_target

    CustomerPolicy.objects.update_or_create(pk=1, defaults={"duplicate_mode": "forbid"})
    run_import(users["manager"], "customers", [["客户名称"], ["中兴通讯有限公司"]])
    assert "create" not in get_target("customers").allowed_dedupe_modes(users["manager"])
    with pytest.raises(Exception, match="不能选择"):
        run_import(users["manager"], "customers", [["客户名称"], ["中兴通讯股份有限公司"]], dedupe="create")


@pytest.mark.django_db
def test_inactive_dictionary_item_is_refused(users, run_import):
    DictionaryItem.objects.filter(kind="status", name="意向客户").update(is_active=False)
    job = run_import(
        users["manager"], "customers", [["客户名称", "客户状态"], ["甲公司", "意向客户"]], run=False
    )
    assert job.failed_count == 1 and job.errors[0][1] == "客户状态"


VALID_CREDIT_CODE = "91350100M000100Y43"


@pytest.mark.django_db
def test_update_keeps_the_customers_own_credit_code_and_refuses_anothers(users, run_import):
    from crm.customers.text import is_valid_credit_code

    assert is_valid_credit_code(VALID_CREDIT_CODE)
    run_import(
        users["manager"],
        "customers",
        [["客户名称", "统一社会信用代码"], ["福州甲有限公司", VALID_CREDIT_CODE]],
    )
    job = run_import(
        users["manager"],
        "customers",
        [
            ["客户名称", "统一社会信用代码", "地址"],
            ["福州甲有限公司", VALID_CREDIT_CODE.lower(), "福州市鼓楼区"],
        ],
        dedupe="update",
    )
    assert job.status == "done" and job.updated_count == 1, job.errors
    assert Customer.objects.get().address == "福州市鼓楼区"
    job = run_import(
        users["manager"],
        "customers",
        [["客户名称", "统一社会信用代码"], ["厦门乙有限公司", VALID_CREDIT_CODE]],
        run=False,
    )
    assert job.failed_count == 1 and "已被其他客户使用" in job.errors[0][2]


@pytest.mark.django_db
def test_keyword_contained_in_a_later_name_is_a_duplicate_inside_the_file(users, run_import):
    rows = [["客户名称", "关键字"], ["中兴通讯股份有限公司", "中兴"], ["中兴软件技术有限公司", ""]]
    job = run_import(users["manager"], "customers", rows, run=False, dedupe="skip")
    assert (job.to_create, job.to_skip) == (1, 1)
    job = run_import(users["manager"], "customers", rows, dedupe="create")
    assert job.created_count == 2


@pytest.mark.django_db
def test_template_lists_the_current_fields_with_custom_ones_and_help(client, users):
    import io

    from django.urls import reverse
    from openpyxl import load_workbook

    customfield_create(
        actor=users["admin"],
        target="customers",
        values={
            "key": "intent",
            "label": "合作意向",
            "field_type": "choice",
            "options": ["强烈", "一般"],
            "required": True,
        },
    )
    client.force_login(users["manager"])
    response = client.get(reverse("imports:template", args=["customers"]))
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert "客户名称*" in headers and "合作意向*" in headers and "联系人手机" in headers
    intent = sheet.cell(row=1, column=headers.index("合作意向*") + 1)
    assert "强烈、一般" in intent.comment.text and "必填" in intent.comment.text
    assert sheet.max_row == 1  # no example row that would be imported by mistake
    assert book.worksheets[1].title == "填写说明"


@pytest.mark.django_db
def test_hidden_and_read_only_fields_cannot_be_imported(users, run_import):
    from crm.accounts.models import Role, User
    from crm.accounts.tests.factories import RoleFactory

    sales = Role.objects.get(code="sales")
    role = RoleFactory(
        data_scope=sales.data_scope,
        permissions=sales.permissions,
        field_permissions={
            "customers.mobile": "readonly",
            "customers.remark": "hidden",
            "contacts.title": "readonly",
        },
    )
    users["sales1"].roles.set([role])
    user = User.objects.get(pk=users["sales1"].pk)
    rows = [
        ["客户名称", "手机", "备注", "联系人姓名", "联系人职务"],
        ["甲公司", "13800138000", "", "", ""],
        ["乙公司", "", "秘密", "张三", "经理"],
        ["丙公司", "", "", "", ""],
    ]
    job = run_import(user, "customers", rows, run=False)
    errors = sorted((row, column) for row, column, _m in job.errors)
    assert errors == [(2, "手机"), (3, "联系人职务")]
    assert "remark" not in job.mapping.values()  # a hidden field is not offered: its column stays unmapped
    assert any("您没有修改“" in message for _r, _c, message in job.errors)
    assert job.to_create == 1
