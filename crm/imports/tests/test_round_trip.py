"""Round trip (SYS-3): a list exported with all its fields and imported into an empty database gives
the same records, ids (and numbers the system assigns) aside."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.customers import services as customer_services
from crm.customers.models import Customer, DictionaryItem
from crm.customfields.services import customfield_create
from crm.exports import services as export_services
from crm.exports.models import ExportJob
from crm.imports import services as import_services
from crm.leads import services as lead_services
from crm.leads.models import Lead
from crm.products import services as product_services
from crm.products.models import Product

pytestmark = pytest.mark.django_db

CUSTOMER_FIELDS = (
    "kind", "name", "keyword", "credit_code", "address", "postcode", "phone", "fax", "mobile", "qq",
    "wechat", "email", "legal_representative", "registered_capital", "remark",
)  # fmt: skip
CUSTOMER_LINKS = ("status", "category", "value_level", "stage", "industry", "source")


def _item(kind: str, name: str) -> DictionaryItem:
    return DictionaryItem.objects.get_or_create(kind=kind, name=name, parent=None)[0]


def _export(user, list_key: str, fmt: str) -> bytes:
    job = export_services.export_create(actor=user, list_key=list_key, columns="all", format=fmt)
    assert job.status == ExportJob.Status.DONE, job.error
    return export_services.file_path(job).read_bytes()


def _import(user, target: str, content: bytes, fmt: str):
    job = import_services.job_create(
        user=user, target_key=target, upload=SimpleUploadedFile(f"{target}.{fmt}", content)
    )
    import_services.job_configure(job=job, user=user, mapping=job.mapping, dedupe="skip")
    job = import_services.job_check(job_id=job.pk)
    assert job.status == "checked" and job.failed_count == 0, job.errors
    job = import_services.job_run(job_id=import_services.job_start(job=job, user=user, only_valid=False).pk)
    job.refresh_from_db()
    assert job.status == "done", job.error_message
    return job


def _customers() -> list[dict]:
    rows = []
    for customer in Customer.objects.select_related(*CUSTOMER_LINKS, "owner").order_by("name"):
        row = {field: getattr(customer, field) for field in CUSTOMER_FIELDS}
        row |= {link: str(getattr(customer, link) or "") for link in CUSTOMER_LINKS}
        row |= {"owner": customer.owner.username, "custom": customer.custom_data}
        rows.append(row)
    return rows


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_customers_exported_and_imported_into_an_empty_database_are_the_same(users, fmt):
    admin = users["admin"]
    customfield_create(
        actor=admin,
        target="customers",
        values={"key": "intent", "label": "合作意向", "field_type": "choice", "options": ["强烈", "一般"]},
    )
    customer_services.customer_create(
        actor=admin,
        owner=users["sales1"],
        values={
            "name": "深圳市中兴通讯股份有限公司",
            "keyword": "ZTE",
            "credit_code": "9144030027939873X7",
            "status": _item("status", "意向客户"),
            "industry": _item("industry", "信息技术"),
            "value_level": _item("value_level", "A 类"),
            "address": "深圳市南山区科技南路 55 号",
            "postcode": "518057",
            "phone": "0755-26770000",
            "mobile": "13800138000",
            "email": "contact@zte.com.cn",
            "registered_capital": Decimal("4783.00"),
            "remark": "=SUM(A1:A3) 不是公式",  # neutralised on export, read back as the same text
        },
        custom_values={"intent": "强烈"},
    )
    customer_services.customer_create(
        actor=admin,
        owner=users["sales2"],
        values={"name": "王小明", "kind": Customer.Kind.INDIVIDUAL, "mobile": "13900139000", "qq": "10001"},
    )
    before = _customers()
    content = _export(admin, "customers", fmt)

    Customer.objects.all().delete()
    job = _import(admin, "customers", content, fmt)

    assert job.created_count == 2
    assert _customers() == before


def test_leads_and_products_round_trip(users):
    admin = users["admin"]
    lead_services.lead_create(
        actor=admin,
        values={
            "company": "星辰科技",
            "contact_name": "李雷",
            "mobile": "13700137000",
            "email": "li@xingchen.cn",
            "source": _item("source", "展会"),
            "address": "杭州市西湖区",
        },
    )
    category = product_services.category_create(actor=admin, name="智能门锁")
    product_services.product_create(
        actor=admin, code="HW-X1", name="门锁 X1", category=category, unit="台", list_price=Decimal("1299.00")
    )
    lead_fields = ("company", "contact_name", "mobile", "email", "source_id", "address", "status", "owner_id")
    product_fields = ("code", "name", "category_id", "unit", "list_price", "is_active")
    leads_before = list(Lead.objects.values(*lead_fields))
    products_before = list(Product.objects.values(*product_fields))
    lead_file, product_file = _export(admin, "leads", "xlsx"), _export(admin, "products", "xlsx")

    Lead.objects.all().delete()
    Product.objects.all().delete()
    _import(admin, "leads", lead_file, "xlsx")
    _import(admin, "products", product_file, "xlsx")

    assert list(Lead.objects.values(*lead_fields)) == leads_before
    assert list(Product.objects.values(*product_fields)) == products_before
