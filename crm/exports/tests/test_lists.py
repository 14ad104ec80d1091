"""Every registered list exports, through its own list selector, with readable values."""

from decimal import Decimal

import pytest

from crm.exports import registry, services
from crm.exports.models import ExportJob
from crm.exports.tests.conftest import csv_rows, xlsx_rows

pytestmark = pytest.mark.django_db


def export(user, list_key, **kwargs) -> list[list]:
    job = services.export_create(actor=user, list_key=list_key, **kwargs)
    assert job.status == ExportJob.Status.DONE, job.error
    data = services.file_path(job).read_bytes()
    return csv_rows(data) if job.format == "csv" else xlsx_rows(data)


@pytest.mark.parametrize("list_key", sorted(registry.LISTS))
@pytest.mark.parametrize("columns", ["visible", "all"])
def test_every_list_exports_its_headers(users, list_key, columns):
    rows = export(users["admin"], list_key, columns=columns, format="csv")
    assert rows[0] and all(rows[0])
    assert "password" not in ",".join(rows[0]).lower() and "密码" not in rows[0]


def test_leads_export_the_filtered_leads_with_labels(users):
    from crm.customers.models import DictionaryItem
    from crm.leads import services as lead_services

    source, _ = DictionaryItem.objects.get_or_create(kind="source", name="展会", parent=None)
    lead_services.lead_create(actor=users["sales1"], values={"company": "星辰科技", "source": source})
    lead_services.lead_create(actor=users["sales1"], values={"company": "月亮贸易"})
    lead_services.lead_create(actor=users["sales2"], values={"company": "星空电子"})
    rows = export(users["sales1"], "leads", params="q=星", columns="all")
    cells = dict(zip(rows[0], rows[1], strict=True))
    assert len(rows) == 2 and cells["公司名称"] == "星辰科技"
    assert cells["线索来源"] == "展会" and cells["负责人"] == users["sales1"].display_name
    assert cells["状态"] and cells["状态"] != "new"
    manager_rows = export(users["manager"], "leads", params="q=星")
    assert sorted(r[1] for r in manager_rows[1:]) == ["星空电子", "星辰科技"]


def test_products_export_numbers_and_the_category_name(users):
    from crm.products import services as product_services

    category = product_services.category_create(actor=users["admin"], name="智能门锁")
    product_services.product_create(
        actor=users["admin"],
        code="HW-X1",
        name="门锁 X1",
        category=category,
        unit="台",
        list_price=Decimal("1299.00"),
    )
    product_services.product_create(
        actor=users["admin"], code="SW-1", name="软件", unit="套", list_price="10"
    )
    rows = export(users["admin"], "products", params=f"category={category.pk}")
    assert rows[0][:5] == ["产品编码", "产品名称", "产品分类", "单位", "标准价格"]
    assert rows[1][:5] == ["HW-X1", "门锁 X1", "智能门锁", "台", 1299]
    assert len(rows) == 2


def test_users_export_names_roles_and_status(users):
    rows = export(users["admin"], "users", params="q=sales1", format="csv")
    assert rows[0] == ["姓名", "用户名", "部门", "直属上级", "角色", "状态"]
    cells = dict(zip(rows[0], rows[1], strict=True))
    assert cells["用户名"] == "sales1" and cells["部门"] == "华南销售部" and cells["状态"] == "在职"
    assert cells["直属上级"] == users["manager"].display_name and cells["角色"]


def test_contacts_export_the_visible_customers_contacts_without_hidden_fields(users, make_customer):
    from crm.customers import services as customer_services
    from crm.customers.tests.test_field_permissions import restrict

    mine = make_customer(name="联系人客户")
    customer_services.contact_create(
        actor=users["sales1"], customer=mine, values={"name": "张三", "email": "z@x.cn"}
    )
    other = make_customer(name="别人的", actor=users["sales2"])
    customer_services.contact_create(actor=users["sales2"], customer=other, values={"name": "李四"})
    user = restrict(users["sales1"], {"contacts.email": "hidden"})
    rows = export(user, "contacts", columns="all")
    assert "邮箱" not in rows[0] and [r[1] for r in rows[1:]] == ["张三"]
    assert rows[1][0] == "联系人客户"
