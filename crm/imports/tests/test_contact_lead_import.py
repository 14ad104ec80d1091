"""Importing contacts (linked by customer name) and leads."""

import pytest

from crm.audit.models import OperationLog
from crm.customers.models import Contact, Customer
from crm.leads.models import Lead


@pytest.fixture
def customer(users, run_import):
    run_import(users["sales1"], "customers", [["客户名称", "联系人姓名"], ["深圳市甲科技有限公司", "老王"]])
    return Customer.objects.get()


@pytest.mark.django_db
def test_contacts_are_linked_to_visible_customers(users, run_import, customer):
    rows = [
        ["客户名称", "姓名", "手机", "职务", "首要联系人"],
        ["深圳市甲科技有限公司", "小李", "13800138001", "工程师", "是"],
        ["甲科技有限公司", "小张", "13800138002", "", ""],  # found by the normalised name
        ["不存在公司", "小赵", "", "", ""],
        ["深圳市甲科技有限公司", "", "12", "", ""],
    ]
    job = run_import(users["sales1"], "contacts", rows, run=False)
    errors = {(row, column) for row, column, _m in job.errors}
    assert errors == {(4, "客户名称"), (5, "姓名"), (5, "手机")}
    job = run_import(users["sales1"], "contacts", rows, only_valid=True)
    assert job.status == "done" and job.created_count == 2
    contacts = {c.name: c for c in Contact.objects.filter(customer=customer)}
    assert set(contacts) == {"老王", "小李", "小张"}
    assert contacts["小李"].is_primary and not contacts["老王"].is_primary and not contacts["小张"].is_primary
    assert OperationLog.objects.filter(action="contact.created").count() == 3


@pytest.mark.django_db
def test_contacts_of_someone_elses_customer_are_refused(users, run_import, customer):
    job = run_import(
        users["sales2"], "contacts", [["客户名称", "姓名"], ["深圳市甲科技有限公司", "小李"]], run=False
    )
    assert job.failed_count == 1 and "找不到客户" in job.errors[0][2]


@pytest.mark.django_db
def test_contact_duplicates(users, run_import, customer):
    rows = [
        ["客户名称", "姓名", "职务"],
        ["深圳市甲科技有限公司", "老王", "总经理"],
        ["深圳市甲科技有限公司", "老王", "董事"],
    ]
    job = run_import(users["sales1"], "contacts", rows, dedupe="skip")
    assert (job.created_count, job.skipped_count) == (0, 2)
    job = run_import(users["sales1"], "contacts", rows, dedupe="update")
    assert (job.updated_count, job.skipped_count) == (1, 1)
    assert Contact.objects.get().title == "总经理"


@pytest.mark.django_db
def test_leads_are_created_with_owner_dictionaries_and_code(users, run_import):
    rows = [
        ["公司名称", "联系人姓名", "手机", "线索来源", "负责人"],
        ["乙公司", "小王", "13800138000", "展会", "sales1"],
        ["丙公司", "", "", "不存在", ""],
        ["丁公司", "", "13800138000", "", ""],  # same mobile as row 2
    ]
    job = run_import(users["manager"], "leads", rows, run=False)
    assert [(r, c) for r, c, _m in job.errors] == [(3, "线索来源")]
    assert (job.to_create, job.to_skip) == (1, 1)
    job = run_import(users["manager"], "leads", rows, only_valid=True)
    lead = Lead.objects.get()
    assert (lead.company, lead.owner, lead.source.name) == ("乙公司", users["sales1"], "展会")
    assert lead.code and lead.department_id == users["sales1"].department_id
    assert OperationLog.objects.filter(action="lead.created").count() == 1


@pytest.mark.django_db
def test_lead_required_company_and_formats(users, run_import):
    rows = [["公司名称", "邮箱"], ["", "a@example.com"], ["戊公司", "bad"]]
    job = run_import(users["manager"], "leads", rows, run=False)
    assert [(r, c) for r, c, _m in job.errors] == [(2, "公司名称"), (3, "邮箱")]
    assert not Lead.objects.exists()
