"""Import products (PRD-1) from a spreadsheet.

Each cell goes through the product form's own fields (lengths, decimals, ranges), then the
product service's own rules (`_clean_product`: required unit and price, money limits, active
category, unique code). The category is given by name, or by its path of names when the name is
ambiguous ("硬件/智能门锁"); only active categories are accepted (importing never creates
categories: that is the product settings' job, permission products.settings).

Duplicates are found by product code, in the database and earlier in the file. A code already
used is skipped or, with "更新已有记录" (permission products.edit), updates that product: only
the cells the file fills change it. A code twice in the file is an error on the second row.
Writes are set-based: one bulk INSERT (or UPDATE) and one log INSERT per batch.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access import policy as access_policy
from crm.audit.services import diff, log_actions_bulk
from crm.imports.targets import register
from crm.imports.targets.base import Dedupe, ImportContext, ImportField, ImportTarget, RowOutcome
from crm.imports.targets.common import clean_with, first_message
from crm.products import services as product_services
from crm.products.forms import ProductForm
from crm.products.models import Product, ProductCategory

FORM_FIELDS = ("code", "name", "unit", "list_price", "cost", "stock", "points", "grade", "description")
ENGLISH = {
    "code": "Code",
    "name": "Name",
    "category": "Category",
    "unit": "Unit",
    "list_price": "List price",
    "cost": "Cost",
    "stock": "Stock",
    "points": "Points",
    "grade": "Grade",
    "description": "Description",
    "is_active": "Active",
}
EXTRA_ALIASES = {
    "code": ("编码", "产品代码", "物料编码", "SKU"),
    "name": ("名称", "品名"),
    "category": ("分类", "类别"),
    "list_price": ("价格", "单价", "售价", "Price"),
    "is_active": ("状态", "上架状态"),
}
HELP = {
    "category": gettext_lazy("已启用的产品分类名称；重名时填写完整路径，如 硬件/智能门锁"),
    "unit": gettext_lazy("不填默认为“个”"),
    "list_price": gettext_lazy("不小于 0 的金额，最多两位小数"),
    "is_active": gettext_lazy("填“是”或“否”，不填为上架"),
}
EXAMPLES = {
    "code": "HW-X1",
    "name": "智能门锁 X1",
    "category": "硬件/智能门锁",
    "unit": "台",
    "list_price": "1299.00",
    "cost": "650",
    "stock": "100",
    "points": "13",
    "is_active": "是",
}
TRUE_WORDS = {"是", "上架", "启用", "有效", "y", "yes", "true", "1", "√"}
FALSE_WORDS = {"否", "下架", "停用", "无效", "n", "no", "false", "0", "×"}
DEFAULT_UNIT = "个"


def parse_bool(raw: str) -> bool | None:
    text = raw.strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def category_lookup() -> tuple[dict[str, ProductCategory | None], dict[str, ProductCategory]]:
    """Active categories by name (None when two share the name) and by path of names ("a/b")."""
    categories = list(ProductCategory.objects.order_by("path"))
    by_id = {c.pk: c for c in categories}
    by_name: dict[str, ProductCategory | None] = {}
    by_path: dict[str, ProductCategory] = {}
    for category in categories:
        if not category.is_active:
            continue
        key = category.name.strip().lower()
        by_name[key] = None if key in by_name else category
        ids = [int(i) for i in category.path.strip("/").split("/") if i.isdigit()]
        names = [by_id[i].name.strip().lower() for i in ids if i in by_id]
        by_path["/".join(names)] = category
    return by_name, by_path


def category_value(lookups, raw: str) -> ProductCategory:
    by_name, by_path = lookups
    text = raw.strip().lower()
    for separator in (">", "＞", "\\", "／"):
        text = text.replace(separator, "/")
    text = "/".join(part.strip() for part in text.strip("/").split("/"))
    if "/" in text:
        found = by_path.get(text)
    else:
        found = by_name.get(text) or by_path.get(text)
    if found is not None:
        return found
    if text in by_name:  # the name is used twice
        raise ValidationError(
            _("有多个名为“%(name)s”的产品分类，请填写完整路径，如 上级分类/%(name)s。")
            % {"name": raw.strip()}
        )
    raise ValidationError(
        _("产品分类“%(name)s”不存在或已停用，请先在产品设置中创建，或填写已有分类的名称。")
        % {"name": raw.strip()}
    )


class ProductImportTarget(ImportTarget):
    key = "products"
    label = gettext_lazy("产品")
    permission = "products.import"
    dedupe_modes = (Dedupe.SKIP, Dedupe.UPDATE)
    batch_size = 500

    # ------------------------------------------------------------ fields

    def fields(self, user) -> list[ImportField]:
        form = ProductForm()
        result = []
        for name in ("code", "name", "category", *FORM_FIELDS[2:]):
            field = form.fields[name]
            result.append(
                ImportField(
                    key=name,
                    label=field.label,
                    required=name in ("code", "name", "list_price"),
                    aliases=(ENGLISH[name], *EXTRA_ALIASES.get(name, ())),
                    help=HELP.get(name, ""),
                    example=EXAMPLES.get(name, ""),
                )
            )
        result.append(
            ImportField(
                key="is_active",
                label=gettext_lazy("上架"),
                aliases=(ENGLISH["is_active"], *EXTRA_ALIASES["is_active"]),
                help=HELP["is_active"],
                example=EXAMPLES["is_active"],
            )
        )
        return result

    # ------------------------------------------------------------ per run

    def start(self, user, options: dict[str, Any]) -> ImportContext:
        ctx = super().start(user, options)
        ctx.extra.update(
            form_fields=ProductForm().fields,
            categories=category_lookup(),
            codes={code.lower(): pk for code, pk in Product.objects.values_list("code", "pk")},
            can_edit=access_policy.can(user, "products.edit"),
            can_deactivate=access_policy.can(user, "products.delete"),
        )
        return ctx

    def check(self, ctx: ImportContext, row_number: int, values: dict[str, str]) -> RowOutcome:
        out = RowOutcome(row_number=row_number)
        form_fields = ctx.extra["form_fields"]
        data: dict[str, Any] = {}
        filled: set[str] = set()
        # 1. The form's own fields: lengths, decimals, ranges, required.
        for name in FORM_FIELDS:
            raw = (values.get(name) or "").strip()
            if raw:
                filled.add(name)
            if name == "unit" and not raw:
                raw = DEFAULT_UNIT
            field = form_fields[name]
            try:
                value = clean_with(field, raw)
            except ValidationError as exc:
                out.error(name, first_message(exc))
                continue
            if value is not None and value != "":
                data[name] = value
            elif name in ("cost", "stock"):
                data[name] = 0
            elif name == "points":
                data[name] = 0
            else:
                data[name] = ""
        raw_category = (values.get("category") or "").strip()
        data["category"] = None
        if raw_category:
            filled.add("category")
            try:
                data["category"] = category_value(ctx.extra["categories"], raw_category)
            except ValidationError as exc:
                out.error("category", first_message(exc))
        active = True
        raw_active = (values.get("is_active") or "").strip()
        if raw_active:
            parsed = parse_bool(raw_active)
            if parsed is None:
                out.error("is_active", _("“%(value)s”无效，请填“是”或“否”。") % {"value": raw_active})
            else:
                active = parsed
                filled.add("is_active")
        if out.errors:
            return out
        # 2. Duplicates by code: earlier in this file, then in the database.
        code_key = str(data["code"]).lower()
        earlier = ctx.seen.get(code_key)
        if earlier is not None:
            out.error(
                "code", _("产品编码“%(code)s”与第 %(row)s 行重复。") % {"code": data["code"], "row": earlier}
            )
            return out
        ctx.seen[code_key] = row_number
        existing_id = ctx.extra["codes"].get(code_key)
        if existing_id is not None and ctx.dedupe != Dedupe.UPDATE:
            out.action = "skip"
            out.existing_id = existing_id
            out.data["reason"] = _("产品编码“%(code)s”已存在。") % {"code": data["code"]}
            return out
        # 3. The service's own rules (the same as the product form).
        if existing_id is None:
            try:
                clean = product_services._clean_product(data)
            except ValidationError as exc:
                self._errors(out, exc)
                return out
            out.action = "create"
            out.data = {"values": clean, "is_active": active}
            return out
        if not ctx.extra["can_edit"]:
            out.error("code", _("产品编码“%(code)s”已存在，您没有修改产品的权限。") % {"code": data["code"]})
            return out
        product = Product.objects.select_related("category").get(pk=existing_id)
        old = product_services._product_snapshot(product)
        merged = old | {k: v for k, v in data.items() if k in filled or k == "code"}
        kept = merged.get("category")
        try:
            if kept is not None and kept.pk == product.category_id and not kept.is_active:
                clean = product_services._clean_product(merged | {"category": None}, exclude_pk=product.pk)
                clean["category"] = kept
            else:
                clean = product_services._clean_product(merged, exclude_pk=product.pk)
        except ValidationError as exc:
            self._errors(out, exc)
            return out
        if "is_active" in filled and product.is_active and not active and not ctx.extra["can_deactivate"]:
            out.error("is_active", _("您没有下架产品的权限。"))
            return out
        out.action = "update"
        out.existing_id = product.pk
        out.data = {"values": clean, "is_active": active if "is_active" in filled else product.is_active}
        return out

    @staticmethod
    def _errors(out: RowOutcome, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for key, messages in exc.message_dict.items():
                out.error(key, messages[0])
        else:
            out.error("code", first_message(exc))

    # ------------------------------------------------------------ write

    def create_rows(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        actor = ctx.user
        now = timezone.now()
        products = [
            Product(
                **outcome.data["values"],
                is_active=outcome.data["is_active"],
                created_by=actor if getattr(actor, "pk", None) else None,
                created_at=now,
                updated_at=now,
            )
            for outcome in outcomes
        ]
        Product.objects.bulk_create(products, batch_size=500)
        for product in products:
            ctx.extra["codes"][product.code.lower()] = product.pk
        log_actions_bulk(
            actor=actor,
            action="product.created",
            targets=products,
            changes_by_target={
                p.pk: diff({}, product_services._product_snapshot(p) | {"is_active": p.is_active})
                for p in products
            },
            message=str(_("导入")),
        )

    def update_rows(self, ctx: ImportContext, outcomes: list[RowOutcome]) -> None:
        actor = ctx.user
        by_pk = {
            p.pk: p
            for p in Product.objects.select_for_update(of=("self",))
            .select_related("category")
            .filter(pk__in=[o.existing_id for o in outcomes])
        }
        changed: list[Product] = []
        changes_by_target: dict[int, dict] = {}
        now = timezone.now()
        for outcome in outcomes:
            product = by_pk.get(outcome.existing_id)
            if product is None:
                raise ValidationError(_("第 %(row)s 行要更新的产品已不存在。") % {"row": outcome.row_number})
            old = product_services._product_snapshot(product) | {"is_active": product.is_active}
            for field, value in outcome.data["values"].items():
                setattr(product, field, value)
            product.is_active = outcome.data["is_active"]
            changes = diff(
                old, product_services._product_snapshot(product) | {"is_active": product.is_active}
            )
            if changes:
                product.updated_at = now
                changed.append(product)
                changes_by_target[product.pk] = changes
        if changed:
            Product.objects.bulk_update(
                changed, [*product_services.PRODUCT_FIELDS, "is_active", "updated_at"], batch_size=500
            )
            log_actions_bulk(
                actor=actor,
                action="product.updated",
                targets=changed,
                changes_by_target=changes_by_target,
                message=str(_("导入")),
            )


register(ProductImportTarget())
