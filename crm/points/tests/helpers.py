"""Shared test helpers for points, purchase records and the order flow: products, customers made
through the services, and contracts written straight with the ORM (in any status), so these tests
do not depend on the contract services."""

from datetime import date
from decimal import Decimal
from itertools import count

from crm.contracts.models import Contract, ContractLine
from crm.core.money import line_total
from crm.customers import services as customer_services
from crm.products import services as product_services
from crm.products.models import Product

_codes = count(1)


def make_products(admin) -> dict[str, Product]:
    lock = product_services.product_create(
        actor=admin, code="HW-X1", name="智能门锁 X1", unit="台", list_price=Decimal("1299.00")
    )
    pen = product_services.product_create(
        actor=admin, code="PEN", name="签字笔", unit="支", list_price="33.34"
    )
    Product.objects.filter(pk=lock.pk).update(points=7, stock=Decimal("5"))
    Product.objects.filter(pk=pen.pk).update(points=0, stock=Decimal("100"))
    lock.refresh_from_db()
    pen.refresh_from_db()
    return {"lock": lock, "pen": pen}


def make_customers(users) -> dict:
    """One customer of sales1 and one of sales2 (sales1 cannot see the second)."""
    return {
        "mine": customer_services.customer_create(
            actor=users["sales1"], values={"name": "深圳华创科技有限公司"}
        ),
        "other": customer_services.customer_create(
            actor=users["sales2"], values={"name": "上海远航贸易有限公司"}
        ),
    }


def make_contract(
    *,
    owner,
    customer,
    lines,
    status=Contract.Status.APPROVED,
    kind=Contract.Kind.CONTRACT,
    order_status="",
    signed_on: date | None = None,
) -> Contract:
    """`lines`: (product, quantity, unit_price) tuples; each line's points = product points × quantity."""
    number = next(_codes)
    if kind == Contract.Kind.ORDER and status == Contract.Status.APPROVED and not order_status:
        order_status = Contract.OrderStatus.CONFIRMED
    rows = []
    for index, (product, quantity, unit_price) in enumerate(lines):
        amount = line_total(quantity, unit_price, 0, 0)
        rows.append(
            ContractLine(
                order=index,
                product=product,
                quantity=Decimal(str(quantity)),
                unit=product.unit,
                list_price=product.list_price,
                policy_price=product.list_price,
                unit_price=Decimal(str(unit_price)),
                amount=amount,
                points=int(product.points * Decimal(str(quantity))),
            )
        )
    total = sum((row.amount for row in rows), Decimal("0"))
    contract = Contract.objects.create(
        code=f"HT-T{number:04d}",
        name=f"测试合同 {number}",
        kind=kind,
        customer=customer,
        owner=owner,
        status=status,
        order_status=order_status,
        signed_on=signed_on or date(2026, 11, 1),
        subtotal=total,
        total=total,
    )
    for row in rows:
        row.contract = contract
    ContractLine.objects.bulk_create(rows)
    return contract
