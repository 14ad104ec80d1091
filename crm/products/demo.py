"""Demo products for seed_demo: categories, ~15 products, suppliers, price policies and
registrations on demo customers. Idempotent: records are found by code or name, never duplicated."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from crm.customers.models import Customer
from crm.products.models import (
    PricePolicy,
    Product,
    ProductCategory,
    ProductRegistration,
    ProductSupplier,
    Supplier,
)

CATEGORIES = [("软件", None), ("服务", None), ("硬件", None), ("智能门锁", "硬件")]
# code, name, category, unit, list price, cost, stock, points, grade
PRODUCTS = [
    ("SW-ENT", "企业版软件授权", "软件", "套", "28800.00", "2000.00", "0", 288, "A"),
    ("SW-STD", "标准版软件授权", "软件", "套", "9800.00", "800.00", "0", 98, "B"),
    ("SW-USER", "用户许可（每用户/年）", "软件", "个", "680.00", "50.00", "0", 7, "B"),
    ("SW-MOB", "移动端模块", "软件", "套", "3600.00", "300.00", "0", 36, "B"),
    ("SV-IMPL", "实施服务(人天)", "服务", "人天", "2500.00", "1200.00", "0", 25, "A"),
    ("SV-TRAIN", "培训服务(人天)", "服务", "人天", "1800.00", "800.00", "0", 18, "B"),
    ("SV-MAINT", "年度维保服务", "服务", "年", "12000.00", "4000.00", "0", 120, "A"),
    ("SV-CUSTOM", "定制开发(人天)", "服务", "人天", "3000.00", "1500.00", "0", 30, "A"),
    ("HW-X1", "智能门锁 X1", "智能门锁", "台", "1299.00", "650.00", "320", 13, "A"),
    ("HW-X2", "智能门锁 X2 Pro", "智能门锁", "台", "1999.00", "980.00", "150", 20, "A"),
    ("HW-GW", "智能网关 G1", "硬件", "台", "499.00", "210.00", "500", 5, "B"),
    ("HW-CARD", "门禁卡（10张装）", "硬件", "包", "80.00", "25.00", "2000", 1, "C"),
    ("HW-SCAN", "扫码枪 S200", "硬件", "台", "399.00", "180.00", "260", 4, "B"),
    ("HW-PRN", "热敏打印机 P80", "硬件", "台", "699.00", "330.00", "90", 7, "B"),
    ("HW-OLD", "门禁读卡器 R1（停产）", "硬件", "台", "299.00", "120.00", "12", 3, "C"),
]
SUPPLIERS = [
    ("深圳安居智能科技有限公司", "周经理", "0755-86001234", "sales@anju.example.com", "深圳市南山区科技园"),
    ("上海云启信息技术有限公司", "吴工", "021-50801234", "bd@yunqi.example.com", "上海市浦东新区张江路"),
]
SUPPLIED = [  # product code, supplier index, supplier code, purchase price
    ("HW-X1", 0, "AJ-L100", "620.00"),
    ("HW-X2", 0, "AJ-L200", "950.00"),
    ("HW-GW", 0, "AJ-G1", "200.00"),
    ("HW-SCAN", 1, "YQ-S200", "170.00"),
    ("HW-PRN", 1, "YQ-P80", "310.00"),
]


def _policies(today: date, customers: list[Customer]) -> list[dict]:
    rows = [
        {
            "code": "HW-X1",
            "kind": "quantity",
            "name": "满50台",
            "min_quantity": Decimal(50),
            "discount_percent": Decimal(8),
        },
        {
            "code": "HW-X1",
            "kind": "quantity",
            "name": "满200台",
            "min_quantity": Decimal(200),
            "price": Decimal("1099.00"),
        },
        {
            "code": "SW-ENT",
            "kind": "payment_term",
            "name": "预付优惠",
            "payment_term": "prepaid",
            "discount_percent": Decimal(5),
        },
        {
            "code": "HW-X2",
            "kind": "seasonal",
            "name": "双十一促销",
            "starts_on": date(today.year, 11, 1),
            "ends_on": date(today.year, 11, 30),
            "price": Decimal("1699.00"),
        },
        {
            "code": "SV-IMPL",
            "kind": "quantity",
            "name": "20人天以上",
            "min_quantity": Decimal(20),
            "price": Decimal("2200.00"),
        },
    ]
    if customers:
        rows.append(
            {
                "code": "SW-ENT",
                "kind": "customer",
                "name": "老客户协议价",
                "customer": customers[0],
                "price": Decimal("25800.00"),
            }
        )
    return rows


@transaction.atomic
def seed_products(*, today: date | None = None) -> int:
    """Create the demo catalogue once; returns how many products were created."""
    today = today or date.today()  # noqa: DTZ011 - demo dates only
    categories: dict[str, ProductCategory] = {}
    for name, parent_name in CATEGORIES:
        parent = categories.get(parent_name) if parent_name else None
        category = ProductCategory.objects.filter(name=name, parent=parent).first()
        if category is None:
            category = ProductCategory.objects.create(name=name, parent=parent)
            category.path = f"{parent.path if parent else '/'}{category.pk}/"
            category.save(update_fields=["path"])
        categories[name] = category
    created = 0
    products: dict[str, Product] = {}
    for code, name, category, unit, price, cost, stock, points, grade in PRODUCTS:
        product, new = Product.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "category": categories[category],
                "unit": unit,
                "list_price": Decimal(price),
                "cost": Decimal(cost),
                "stock": Decimal(stock),
                "points": points,
                "grade": grade,
                "is_active": code != "HW-OLD",
            },
        )
        created += new
        products[code] = product
    suppliers = []
    for name, contact, phone, email, address in SUPPLIERS:
        supplier, _new = Supplier.objects.get_or_create(
            name=name, defaults={"contact": contact, "phone": phone, "email": email, "address": address}
        )
        suppliers.append(supplier)
    for code, index, supplier_code, purchase in SUPPLIED:
        ProductSupplier.objects.get_or_create(
            product=products[code],
            supplier=suppliers[index],
            defaults={"supplier_code": supplier_code, "purchase_price": Decimal(purchase)},
        )
    customers = list(Customer.objects.filter(deleted_at__isnull=True, owner__isnull=False).order_by("pk")[:4])
    for row in _policies(today, customers):
        values = dict(row)
        product = products[values.pop("code")]
        if not PricePolicy.objects.filter(product=product, name=values["name"]).exists():
            PricePolicy.objects.create(product=product, **values)
    for index, customer in enumerate(customers):
        for code in ("HW-X1", "SW-ENT") if index % 2 == 0 else ("HW-X2",):
            serial = f"{code}-{2026000 + customer.pk:08d}"
            registered = today - timedelta(days=30 * (index + 1))
            ProductRegistration.objects.get_or_create(
                product=products[code],
                serial_number=serial,
                defaults={
                    "customer": customer,
                    "registered_on": registered,
                    "warranty_ends_on": registered + timedelta(days=365),
                },
            )
    return created
