"""Product services: validation with clear messages (nothing saved), permissions, operation log."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.access.policy import PermissionRequiredError
from crm.audit.models import OperationLog
from crm.products import services
from crm.products.models import PricePolicy, Product, ProductCategory, ProductRegistration, Supplier

pytestmark = pytest.mark.django_db


def _messages(exc) -> str:
    return " ".join(exc.value.messages)


def test_product_create_saves_and_logs(catalog):
    lock = Product.objects.get(code="HW-X1")

    assert lock.list_price == Decimal("1299.00")
    assert lock.category.name == "智能门锁"
    log = OperationLog.objects.get(action="product.created", target_id=str(lock.pk))
    assert log.changes["code"] == [None, "HW-X1"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"code": "HW-X1"}, "产品编码「HW-X1」已被使用。"),
        ({"code": " "}, "请填写产品编码。"),
        ({"name": ""}, "请填写产品名称。"),
        ({"list_price": "-1"}, "标准价格不能为负数。"),
        ({"list_price": "abc"}, "标准价格必须是数字。"),
        ({"cost": "-0.01"}, "成本不能为负数。"),
        ({"stock": "-3"}, "库存不能为负数。"),
        ({"points": -1}, "单位积分必须是 0 到 1000000 之间的整数。"),
    ],
)
def test_product_create_refuses_bad_input(catalog, users, values, message):
    before = Product.objects.count()
    base = {"code": "NEW-1", "name": "新产品", "unit": "个", "list_price": "10"}

    with pytest.raises(ValidationError) as exc:
        services.product_create(actor=users["admin"], **(base | values))

    assert message in _messages(exc)
    assert Product.objects.count() == before


def test_product_in_a_deactivated_category_is_refused_but_existing_ones_keep_it(catalog, users):
    admin = users["admin"]
    services.category_set_active(actor=admin, category=catalog["software"], active=False)

    with pytest.raises(ValidationError) as exc:
        services.product_create(
            actor=admin, code="SW-2", name="标准版", unit="套", list_price=1, category=catalog["software"]
        )
    assert "已停用" in _messages(exc)
    updated = services.product_update(actor=admin, product=catalog["license"], name="企业版软件授权（新）")
    assert updated.category == catalog["software"]


def test_product_update_logs_the_diff_and_money_rounds_half_up(catalog, users):
    product = services.product_update(actor=users["admin"], product=catalog["lock"], list_price="1199.005")

    assert product.list_price == Decimal("1199.01")
    log = OperationLog.objects.get(action="product.updated")
    assert log.changes == {"list_price": ["1299.00", "1199.01"]}


def test_services_check_permissions(catalog, users):
    with pytest.raises(PermissionRequiredError):
        services.product_create(actor=users["sales1"], code="X", name="X", unit="个", list_price=1)
    with pytest.raises(PermissionRequiredError):
        services.category_create(actor=users["sales1"], name="X")
    with pytest.raises(PermissionRequiredError):
        services.product_set_active(actor=users["sales1"], product=catalog["lock"], active=False)
    assert Product.objects.get(pk=catalog["lock"].pk).is_active


def test_deactivate_and_activate_product(catalog, users):
    services.product_set_active(actor=users["admin"], product=catalog["lock"], active=False)

    assert not Product.objects.get(pk=catalog["lock"].pk).is_active
    assert OperationLog.objects.filter(action="product.deactivated").count() == 1


def test_category_tree_rules(catalog, users):
    admin = users["admin"]
    with pytest.raises(ValidationError) as exc:
        services.category_create(actor=admin, name="智能门锁", parent=catalog["hardware"])
    assert "同一上级下已有名为「智能门锁」的分类。" in _messages(exc)
    with pytest.raises(ValidationError) as exc:
        services.category_update(
            actor=admin, category=catalog["hardware"], name="硬件", parent=catalog["locks"]
        )
    assert "不能把分类移到它自己或它的下级分类之下。" in _messages(exc)
    with pytest.raises(ValidationError) as exc:
        services.category_set_active(actor=admin, category=catalog["hardware"], active=False)
    assert "请先停用它的下级分类。" in _messages(exc)
    assert ProductCategory.objects.filter(is_active=True).count() == 3


def test_moving_a_category_moves_its_subtree(catalog, users):
    moved = services.category_update(
        actor=users["admin"], category=catalog["hardware"], name="硬件", parent=catalog["software"]
    )

    locks = ProductCategory.objects.get(pk=catalog["locks"].pk)
    assert moved.path == f"/{catalog['software'].pk}/{moved.pk}/"
    assert locks.path == f"{moved.path}{locks.pk}/"


def test_supplier_and_link(catalog, users):
    admin = users["admin"]
    supplier = services.supplier_create(actor=admin, name="深圳安居智能科技有限公司", phone="0755-1234")
    with pytest.raises(ValidationError) as exc:
        services.supplier_create(actor=admin, name="深圳安居智能科技有限公司")
    assert "已存在" in _messages(exc)

    link = services.product_supplier_link(
        actor=admin,
        product=catalog["lock"],
        supplier=supplier,
        supplier_code="AJ-1",
        purchase_price="620.555",
    )

    assert link.purchase_price == Decimal("620.56")
    assert list(catalog["lock"].suppliers.all()) == [supplier]
    services.supplier_set_active(actor=admin, supplier=supplier, active=False)
    with pytest.raises(ValidationError):
        services.product_supplier_link(actor=admin, product=catalog["license"], supplier=supplier)
    assert Supplier.objects.get(pk=supplier.pk).product_links.count() == 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kind": "customer", "price": "1"}, "客户专属价需要选择客户。"),
        ({"kind": "quantity", "price": "1"}, "数量阶梯价需要填写起订数量。"),
        ({"kind": "quantity", "min_quantity": "-1", "price": "1"}, "起订数量必须大于 0。"),
        ({"kind": "payment_term", "price": "1"}, "付款条件价需要选择付款条件。"),
        (
            {"kind": "seasonal", "price": "1", "starts_on": date(2026, 1, 1)},
            "季节促销需要填写开始日期和结束日期。",
        ),
        (
            {"kind": "seasonal", "price": "1", "starts_on": date(2026, 2, 1), "ends_on": date(2026, 1, 1)},
            "结束日期不能早于开始日期。",
        ),
        ({"kind": "quantity", "min_quantity": 5}, "特价和折扣请填写且只填写一项。"),
        (
            {"kind": "quantity", "min_quantity": 5, "price": "1", "discount_percent": 5},
            "特价和折扣请填写且只填写一项。",
        ),
        ({"kind": "quantity", "min_quantity": 5, "discount_percent": 101}, "折扣必须在 0 到 100 之间。"),
        ({"kind": "quantity", "min_quantity": 5, "price": "-5"}, "特价不能为负数。"),
        ({"kind": "nonsense", "price": "1"}, "请选择策略类型。"),
    ],
)
def test_price_policy_refuses_bad_input(catalog, users, values, message):
    with pytest.raises(ValidationError) as exc:
        services.price_policy_create(actor=users["admin"], product=catalog["lock"], **values)

    assert message in _messages(exc)
    assert not PricePolicy.objects.exists()


def test_price_policy_for_an_invisible_customer_is_refused(catalog, users, customers):
    # sales_manager-like actor without scope over sales2's customer: use a settings-only role
    from crm.accounts.models import Role
    from crm.accounts.tests.factories import UserFactory

    role = Role.objects.create(
        code="pm", name="产品经理", data_scope="self", permissions=["products.settings"]
    )
    pm = UserFactory(username="pm")
    pm.roles.add(role)

    with pytest.raises(ValidationError) as exc:
        services.price_policy_create(
            actor=pm, product=catalog["lock"], kind="customer", customer=customers["other"], price="1"
        )
    assert "客户不存在或无权查看。" in _messages(exc)


def test_price_policy_update_and_deactivate_are_logged(catalog, users):
    admin = users["admin"]
    found = services.price_policy_create(
        actor=admin, product=catalog["lock"], kind="quantity", min_quantity=10, discount_percent=5
    )
    services.price_policy_update(actor=admin, price_policy=found, discount_percent=7)
    services.price_policy_set_active(actor=admin, price_policy=found, active=False)

    assert PricePolicy.objects.get(pk=found.pk).discount_percent == Decimal("7.00")
    assert list(
        OperationLog.objects.filter(target_id=str(found.pk), action__startswith="price_policy.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["price_policy.created", "price_policy.updated", "price_policy.deactivated"]


def test_registration_rules(catalog, users, customers):
    admin = users["admin"]
    reg = services.registration_create(
        actor=admin,
        product=catalog["lock"],
        serial_number="SN-001",
        customer=customers["mine"],
        registered_on=date(2026, 1, 1),
        warranty_ends_on=date(2027, 1, 1),
    )
    with pytest.raises(ValidationError) as exc:
        services.registration_create(
            actor=admin,
            product=catalog["lock"],
            serial_number="SN-001",
            customer=customers["other"],
            registered_on=date(2026, 1, 1),
        )
    assert "序列号「SN-001」已注册过这个产品。" in _messages(exc)
    with pytest.raises(ValidationError) as exc:
        services.registration_create(
            actor=admin,
            product=catalog["license"],
            serial_number="SN-002",
            customer=customers["mine"],
            registered_on=date(2026, 1, 2),
            warranty_ends_on=date(2026, 1, 1),
        )
    assert "保修截止日期不能早于注册日期。" in _messages(exc)
    # the same serial number on another product is fine
    services.registration_create(
        actor=admin,
        product=catalog["license"],
        serial_number="SN-001",
        customer=customers["mine"],
        registered_on=date(2026, 1, 1),
    )
    assert ProductRegistration.objects.count() == 2
    reg_id = reg.pk
    services.registration_delete(actor=admin, registration=reg)
    assert OperationLog.objects.filter(action="product_registration.deleted", target_id=str(reg_id)).exists()
    assert not ProductRegistration.objects.filter(pk=reg_id).exists()
