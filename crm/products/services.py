"""Every write on products, categories, suppliers, price policies and registrations (PRD-1, PRD-2).

Each function checks the actor's permission, validates (ValidationError with a Chinese message,
nothing saved), saves in one transaction and writes the operation log. Products, categories,
suppliers and policies are deactivated, never deleted: quotes and contracts will point at them.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import diff, log_action
from crm.core.money import to_decimal, to_fen
from crm.products.models import (
    PricePolicy,
    Product,
    ProductCategory,
    ProductRegistration,
    ProductSupplier,
    Supplier,
)

MAX_MONEY = Decimal("999999999999.99")
PRODUCT_FIELDS = (
    "code",
    "name",
    "category",
    "unit",
    "list_price",
    "cost",
    "stock",
    "points",
    "grade",
    "description",
)
SUPPLIER_FIELDS = ("name", "contact", "phone", "email", "address")
POLICY_FIELDS = (
    "kind",
    "name",
    "customer",
    "min_quantity",
    "payment_term",
    "starts_on",
    "ends_on",
    "price",
    "discount_percent",
)
MAX_CATEGORY_DEPTH = 5


def _require(actor, permission: str) -> None:
    if not policy.can(actor, permission):
        raise PermissionRequiredError(permission)


def _text(value, field: str, label: str, *, required: bool = False, max_length: int = 255) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("请填写%(label)s。") % {"label": label}})
    if len(value) > max_length:
        raise ValidationError(
            {field: _("%(label)s最多 %(max)s 个字符。") % {"label": label, "max": max_length}}
        )
    return value


def _money(value, field: str, label: str, *, required: bool = True) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: _("请填写%(label)s。") % {"label": label}})
        return None
    try:
        amount = to_fen(value)
    except ValueError as exc:
        raise ValidationError({field: _("%(label)s必须是数字。") % {"label": label}}) from exc
    if amount < 0:
        raise ValidationError({field: _("%(label)s不能为负数。") % {"label": label}})
    if amount > MAX_MONEY:
        raise ValidationError({field: _("%(label)s过大。") % {"label": label}})
    return amount


def _log(actor, action: str, target, changes: dict, ip: str | None) -> None:
    log_action(actor=actor, action=action, target=target, changes=changes, ip_address=ip)


# ---------------------------------------------------------------- categories


def _check_category_name(name: str, parent: ProductCategory | None, exclude_pk: int | None = None) -> None:
    same = ProductCategory.objects.filter(parent=parent, name=name)
    if exclude_pk:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
        raise ValidationError({"name": _("同一上级下已有名为「%(name)s」的分类。") % {"name": name}})


def _check_parent(parent: ProductCategory | None, category: ProductCategory | None = None) -> None:
    if parent is None:
        return
    if not parent.is_active:
        raise ValidationError({"parent": _("上级分类已停用。")})
    if category is not None and category.path and parent.path.startswith(category.path):
        raise ValidationError({"parent": _("不能把分类移到它自己或它的下级分类之下。")})
    if parent.depth + 1 >= MAX_CATEGORY_DEPTH:
        raise ValidationError({"parent": _("分类最多 %(depth)s 级。") % {"depth": MAX_CATEGORY_DEPTH}})


@transaction.atomic
def category_create(
    *, actor, name: str, parent: ProductCategory | None = None, sort_order: int = 0, ip: str | None = None
) -> ProductCategory:
    _require(actor, "products.settings")
    name = _text(name, "name", _("分类名称"), required=True, max_length=64)
    _check_parent(parent)
    _check_category_name(name, parent)
    category = ProductCategory.objects.create(name=name, parent=parent, sort_order=max(sort_order or 0, 0))
    category.path = f"{parent.path if parent else '/'}{category.pk}/"
    category.save(update_fields=["path"])
    _log(actor, "product_category.created", category, diff({}, {"name": name, "parent": parent}), ip)
    return category


@transaction.atomic
def category_update(
    *,
    actor,
    category: ProductCategory,
    name: str,
    parent: ProductCategory | None = None,
    sort_order: int = 0,
    ip: str | None = None,
) -> ProductCategory:
    _require(actor, "products.settings")
    category = ProductCategory.objects.select_for_update().get(pk=category.pk)
    old = {"name": category.name, "parent": category.parent, "sort_order": category.sort_order}
    name = _text(name, "name", _("分类名称"), required=True, max_length=64)
    _check_parent(parent, category)
    _check_category_name(name, parent, exclude_pk=category.pk)
    old_path = category.path
    category.name, category.parent, category.sort_order = name, parent, max(sort_order or 0, 0)
    category.path = f"{parent.path if parent else '/'}{category.pk}/"
    category.save(update_fields=["name", "parent", "sort_order", "path", "updated_at"])
    if old_path != category.path:
        for child in ProductCategory.objects.filter(path__startswith=old_path).exclude(pk=category.pk):
            child.path = category.path + child.path[len(old_path) :]
            child.save(update_fields=["path"])
    new = {"name": name, "parent": parent, "sort_order": category.sort_order}
    _log(actor, "product_category.updated", category, diff(old, new), ip)
    return category


@transaction.atomic
def category_set_active(*, actor, category: ProductCategory, active: bool, ip: str | None = None):
    _require(actor, "products.settings")
    if not active and ProductCategory.objects.filter(parent=category, is_active=True).exists():
        raise ValidationError(_("请先停用它的下级分类。"))
    if active and category.parent_id and not category.parent.is_active:
        raise ValidationError(_("上级分类已停用，请先启用上级分类。"))
    if category.is_active != active:
        category.is_active = active
        category.save(update_fields=["is_active", "updated_at"])
        action = "product_category.activated" if active else "product_category.deactivated"
        _log(actor, action, category, {}, ip)
    return category


# ---------------------------------------------------------------- products


def _clean_product(values: dict, *, exclude_pk: int | None = None) -> dict:
    clean = {
        "code": _text(values.get("code"), "code", _("产品编码"), required=True, max_length=40),
        "name": _text(values.get("name"), "name", _("产品名称"), required=True, max_length=200),
        "unit": _text(values.get("unit"), "unit", _("单位"), required=True, max_length=16),
        "grade": _text(values.get("grade"), "grade", _("产品等级"), max_length=32),
        "description": _text(values.get("description"), "description", _("产品说明"), max_length=10000),
        "list_price": _money(values.get("list_price"), "list_price", _("标准价格")),
        "cost": _money(values.get("cost") if values.get("cost") not in (None, "") else 0, "cost", _("成本")),
    }
    stock = values.get("stock")
    try:
        clean["stock"] = to_decimal(0 if stock in (None, "") else stock).quantize(Decimal("0.01"))
    except ValueError as exc:
        raise ValidationError({"stock": _("库存必须是数字。")}) from exc
    if clean["stock"] < 0:
        raise ValidationError({"stock": _("库存不能为负数。")})
    points = values.get("points") or 0
    if not isinstance(points, int) or isinstance(points, bool) or points < 0 or points > 1_000_000:
        raise ValidationError({"points": _("单位积分必须是 0 到 1000000 之间的整数。")})
    clean["points"] = points
    category = values.get("category")
    if category is not None and not category.is_active:
        raise ValidationError({"category": _("产品分类「%(name)s」已停用。") % {"name": category.name}})
    clean["category"] = category
    same = Product.objects.filter(code=clean["code"])
    if exclude_pk:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
        raise ValidationError({"code": _("产品编码「%(code)s」已被使用。") % {"code": clean["code"]}})
    return clean


def _product_snapshot(product: Product) -> dict:
    return {field: getattr(product, field) for field in PRODUCT_FIELDS}


@transaction.atomic
def product_create(*, actor, ip: str | None = None, **values) -> Product:
    _require(actor, "products.create")
    clean = _clean_product(values)
    product = Product.objects.create(created_by=actor if getattr(actor, "pk", None) else None, **clean)
    _log(actor, "product.created", product, diff({}, _product_snapshot(product)), ip)
    return product


@transaction.atomic
def product_update(*, actor, product: Product, ip: str | None = None, **values) -> Product:
    _require(actor, "products.edit")
    product = Product.objects.select_for_update().get(pk=product.pk)
    old = _product_snapshot(product)
    merged = old | values
    kept = merged.get("category")
    if kept is not None and kept.pk == product.category_id and not kept.is_active:
        # keeping a category that was deactivated later is allowed; choosing it anew is not
        clean = _clean_product(merged | {"category": None}, exclude_pk=product.pk) | {"category": kept}
    else:
        clean = _clean_product(merged, exclude_pk=product.pk)
    for field, value in clean.items():
        setattr(product, field, value)
    product.save()
    changes = diff(old, _product_snapshot(product))
    if changes:
        _log(actor, "product.updated", product, changes, ip)
    return product


@transaction.atomic
def product_set_active(*, actor, product: Product, active: bool, ip: str | None = None) -> Product:
    """上架/下架: an inactive product is no longer offered on quotes; its history stays."""
    _require(actor, "products.edit" if active else "products.delete")
    if product.is_active != active:
        product.is_active = active
        product.save(update_fields=["is_active", "updated_at"])
        _log(actor, "product.activated" if active else "product.deactivated", product, {}, ip)
    return product


# ---------------------------------------------------------------- suppliers


def _clean_supplier(values: dict, exclude_pk: int | None = None) -> dict:
    clean = {
        "name": _text(values.get("name"), "name", _("供应商名称"), required=True, max_length=200),
        "contact": _text(values.get("contact"), "contact", _("联系人"), max_length=64),
        "phone": _text(values.get("phone"), "phone", _("电话"), max_length=32),
        "email": _text(values.get("email"), "email", _("电子邮箱"), max_length=254),
        "address": _text(values.get("address"), "address", _("地址"), max_length=255),
    }
    if clean["email"] and "@" not in clean["email"]:
        raise ValidationError({"email": _("请输入有效的电子邮箱。")})
    same = Supplier.objects.filter(name=clean["name"])
    if exclude_pk:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
        raise ValidationError({"name": _("供应商「%(name)s」已存在。") % {"name": clean["name"]}})
    return clean


@transaction.atomic
def supplier_create(*, actor, ip: str | None = None, **values) -> Supplier:
    _require(actor, "products.settings")
    supplier = Supplier.objects.create(**_clean_supplier(values))
    _log(
        actor, "supplier.created", supplier, diff({}, {f: getattr(supplier, f) for f in SUPPLIER_FIELDS}), ip
    )
    return supplier


@transaction.atomic
def supplier_update(*, actor, supplier: Supplier, ip: str | None = None, **values) -> Supplier:
    _require(actor, "products.settings")
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    old = {f: getattr(supplier, f) for f in SUPPLIER_FIELDS}
    for field, value in _clean_supplier(old | values, exclude_pk=supplier.pk).items():
        setattr(supplier, field, value)
    supplier.save()
    changes = diff(old, {f: getattr(supplier, f) for f in SUPPLIER_FIELDS})
    if changes:
        _log(actor, "supplier.updated", supplier, changes, ip)
    return supplier


@transaction.atomic
def supplier_set_active(*, actor, supplier: Supplier, active: bool, ip: str | None = None) -> Supplier:
    _require(actor, "products.settings")
    if supplier.is_active != active:
        supplier.is_active = active
        supplier.save(update_fields=["is_active", "updated_at"])
        _log(actor, "supplier.activated" if active else "supplier.deactivated", supplier, {}, ip)
    return supplier


@transaction.atomic
def product_supplier_link(
    *,
    actor,
    product: Product,
    supplier: Supplier,
    supplier_code: str = "",
    purchase_price=None,
    ip: str | None = None,
) -> ProductSupplier:
    """Add (or change) a supplier of a product, with its own code and purchase price."""
    _require(actor, "products.edit")
    if not supplier.is_active:
        raise ValidationError({"supplier": _("供应商「%(name)s」已停用。") % {"name": supplier.name}})
    values = {
        "supplier_code": _text(supplier_code, "supplier_code", _("供应商产品编码"), max_length=64),
        "purchase_price": _money(purchase_price, "purchase_price", _("采购价"), required=False),
    }
    link, created = ProductSupplier.objects.update_or_create(
        product=product, supplier=supplier, defaults=values
    )
    _log(actor, "product.supplier_linked", product, diff({}, {"supplier": supplier, **values}), ip)
    return link


@transaction.atomic
def product_supplier_unlink(*, actor, product: Product, supplier: Supplier, ip: str | None = None) -> None:
    _require(actor, "products.edit")
    deleted, _rows = ProductSupplier.objects.filter(product=product, supplier=supplier).delete()
    if not deleted:
        raise ValidationError(_("该供应商不是这个产品的供应商。"))
    _log(actor, "product.supplier_unlinked", product, {"supplier": [str(supplier), None]}, ip)


# ---------------------------------------------------------------- price policies


def _clean_policy(values: dict) -> dict:
    kind = values.get("kind")
    if kind not in PricePolicy.Kind.values:
        raise ValidationError({"kind": _("请选择策略类型。")})
    clean = {
        "kind": kind,
        "name": _text(values.get("name"), "name", _("策略名称"), max_length=64),
        "customer": values.get("customer"),
        "payment_term": values.get("payment_term") or "",
        "starts_on": values.get("starts_on"),
        "ends_on": values.get("ends_on"),
        "price": _money(values.get("price"), "price", _("特价"), required=False),
        "min_quantity": None,
        "discount_percent": None,
    }
    minimum = values.get("min_quantity")
    if minimum not in (None, ""):
        try:
            clean["min_quantity"] = to_decimal(minimum).quantize(Decimal("0.01"))
        except ValueError as exc:
            raise ValidationError({"min_quantity": _("起订数量必须是数字。")}) from exc
        if clean["min_quantity"] <= 0:
            raise ValidationError({"min_quantity": _("起订数量必须大于 0。")})
    discount = values.get("discount_percent")
    if discount not in (None, ""):
        try:
            clean["discount_percent"] = to_decimal(discount).quantize(Decimal("0.01"))
        except ValueError as exc:
            raise ValidationError({"discount_percent": _("折扣必须是数字。")}) from exc
        if not Decimal(0) <= clean["discount_percent"] <= Decimal(100):
            raise ValidationError({"discount_percent": _("折扣必须在 0 到 100 之间。")})
    if (clean["price"] is None) == (clean["discount_percent"] is None):
        raise ValidationError(_("特价和折扣请填写且只填写一项。"))
    if clean["payment_term"] and clean["payment_term"] not in PricePolicy.PaymentTerm.values:
        raise ValidationError({"payment_term": _("未知的付款条件。")})
    if kind == PricePolicy.Kind.CUSTOMER and clean["customer"] is None:
        raise ValidationError({"customer": _("客户专属价需要选择客户。")})
    if kind == PricePolicy.Kind.QUANTITY and clean["min_quantity"] is None:
        raise ValidationError({"min_quantity": _("数量阶梯价需要填写起订数量。")})
    if kind == PricePolicy.Kind.PAYMENT_TERM and not clean["payment_term"]:
        raise ValidationError({"payment_term": _("付款条件价需要选择付款条件。")})
    if kind == PricePolicy.Kind.SEASONAL and (clean["starts_on"] is None or clean["ends_on"] is None):
        raise ValidationError({"starts_on": _("季节促销需要填写开始日期和结束日期。")})
    starts_on, ends_on = clean["starts_on"], clean["ends_on"]
    if isinstance(starts_on, date) and isinstance(ends_on, date) and ends_on < starts_on:
        raise ValidationError({"ends_on": _("结束日期不能早于开始日期。")})
    return clean


def _policy_snapshot(price_policy: PricePolicy) -> dict:
    return {field: getattr(price_policy, field) for field in POLICY_FIELDS}


@transaction.atomic
def price_policy_create(*, actor, product: Product, ip: str | None = None, **values) -> PricePolicy:
    _require(actor, "products.settings")
    clean = _clean_policy(values)
    _check_customer_visible(actor, clean["customer"])
    price_policy = PricePolicy.objects.create(product=product, **clean)
    _log(actor, "price_policy.created", price_policy, diff({}, _policy_snapshot(price_policy)), ip)
    return price_policy


@transaction.atomic
def price_policy_update(*, actor, price_policy: PricePolicy, ip: str | None = None, **values) -> PricePolicy:
    _require(actor, "products.settings")
    price_policy = PricePolicy.objects.select_for_update().get(pk=price_policy.pk)
    old = _policy_snapshot(price_policy)
    clean = _clean_policy(old | values)
    if clean["customer"] != old["customer"]:
        _check_customer_visible(actor, clean["customer"])
    for field, value in clean.items():
        setattr(price_policy, field, value)
    price_policy.save()
    changes = diff(old, _policy_snapshot(price_policy))
    if changes:
        _log(actor, "price_policy.updated", price_policy, changes, ip)
    return price_policy


@transaction.atomic
def price_policy_set_active(*, actor, price_policy: PricePolicy, active: bool, ip: str | None = None):
    _require(actor, "products.settings")
    if price_policy.is_active != active:
        price_policy.is_active = active
        price_policy.save(update_fields=["is_active", "updated_at"])
        action = "price_policy.activated" if active else "price_policy.deactivated"
        _log(actor, action, price_policy, {}, ip)
    return price_policy


# ---------------------------------------------------------------- registrations


def _clean_registration(values: dict, *, product: Product, exclude_pk: int | None = None) -> dict:
    clean = {
        "serial_number": _text(
            values.get("serial_number"), "serial_number", _("序列号"), required=True, max_length=64
        ),
        "note": _text(values.get("note"), "note", _("备注"), max_length=255),
        "customer": values.get("customer"),
        "registered_on": values.get("registered_on"),
        "warranty_ends_on": values.get("warranty_ends_on"),
    }
    if clean["customer"] is None:
        raise ValidationError({"customer": _("请选择客户。")})
    if clean["registered_on"] is None:
        raise ValidationError({"registered_on": _("请填写注册日期。")})
    if clean["warranty_ends_on"] is not None and clean["warranty_ends_on"] < clean["registered_on"]:
        raise ValidationError({"warranty_ends_on": _("保修截止日期不能早于注册日期。")})
    same = ProductRegistration.objects.filter(product=product, serial_number=clean["serial_number"])
    if exclude_pk:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
        raise ValidationError(
            {"serial_number": _("序列号「%(sn)s」已注册过这个产品。") % {"sn": clean["serial_number"]}}
        )
    return clean


def _check_customer_visible(actor, customer) -> None:
    from crm.customers.selectors import customers_visible

    if (
        customer is not None
        and not customers_visible(actor, include_pool=True).filter(pk=customer.pk).exists()
    ):
        raise ValidationError({"customer": _("客户不存在或无权查看。")})


@transaction.atomic
def registration_create(*, actor, product: Product, ip: str | None = None, **values) -> ProductRegistration:
    _require(actor, "products.edit")
    clean = _clean_registration(values, product=product)
    _check_customer_visible(actor, clean["customer"])
    registration = ProductRegistration.objects.create(
        product=product, created_by=actor if getattr(actor, "pk", None) else None, **clean
    )
    snapshot = {"product": product, **clean}
    _log(actor, "product_registration.created", registration, diff({}, snapshot), ip)
    return registration


@transaction.atomic
def registration_update(
    *, actor, registration: ProductRegistration, ip: str | None = None, **values
) -> ProductRegistration:
    _require(actor, "products.edit")
    registration = ProductRegistration.objects.select_for_update().get(pk=registration.pk)
    fields = ("serial_number", "note", "customer", "registered_on", "warranty_ends_on")
    old = {f: getattr(registration, f) for f in fields}
    clean = _clean_registration(old | values, product=registration.product, exclude_pk=registration.pk)
    _check_customer_visible(actor, clean["customer"])
    for field, value in clean.items():
        setattr(registration, field, value)
    registration.save()
    changes = diff(old, {f: getattr(registration, f) for f in fields})
    if changes:
        _log(actor, "product_registration.updated", registration, changes, ip)
    return registration


@transaction.atomic
def registration_delete(*, actor, registration: ProductRegistration, ip: str | None = None) -> None:
    _require(actor, "products.delete")
    _log(actor, "product_registration.deleted", registration, {}, ip)
    registration.delete()
