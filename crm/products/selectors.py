"""Reads for products. Products, categories, suppliers and policies are company-wide catalogue data
(products.view sees them all); registrations belong to customers and are shown only for customers
the user may see (crm.customers.selectors.customers_visible)."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from crm.access import policy
from crm.customers.selectors import customers_visible
from crm.products.models import PricePolicy, Product, ProductCategory, ProductRegistration, Supplier


def _require_view(user) -> None:
    if not policy.can(user, "products.view"):
        raise Http404


def products_visible(user) -> QuerySet[Product]:
    if not policy.can(user, "products.view"):
        return Product.objects.none()
    return Product.objects.select_related("category")


def products_search(
    user, *, q: str = "", category: ProductCategory | None = None, active: str = ""
) -> QuerySet[Product]:
    """The product list: text in name or code, a category with its sub-categories, 上架/下架."""
    products = products_visible(user)
    q = (q or "").strip()
    if q:
        products = products.filter(Q(name__icontains=q) | Q(code__icontains=q))
    if category is not None:
        products = products.filter(category__path__startswith=category.path)
    if active in ("1", "0"):
        products = products.filter(is_active=active == "1")
    return products.order_by("code", "pk")


def _get(queryset: QuerySet, pk):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def product_get_for_user(*, user, product_id) -> Product:
    return _get(products_visible(user), product_id)


def categories_visible(user) -> QuerySet[ProductCategory]:
    if not policy.can(user, "products.view"):
        return ProductCategory.objects.none()
    return ProductCategory.objects.all()


def category_get_for_user(*, user, category_id) -> ProductCategory:
    return _get(categories_visible(user), category_id)


def category_tree(user, *, active_only: bool = False) -> list[ProductCategory]:
    """Every category in tree order (parents before children), with `product_count`."""
    categories = categories_visible(user).annotate(product_count=Count("products"))
    if active_only:
        categories = categories.filter(is_active=True)
    by_parent: dict[int | None, list[ProductCategory]] = {}
    for category in categories.order_by("sort_order", "name", "pk"):
        by_parent.setdefault(category.parent_id, []).append(category)
    ordered: list[ProductCategory] = []

    def walk(parent_id, depth):
        for category in by_parent.get(parent_id, []):
            category.level = depth
            category.indent = "\u3000" * depth
            ordered.append(category)
            walk(category.pk, depth + 1)

    walk(None, 0)
    return ordered


def suppliers_visible(user) -> QuerySet[Supplier]:
    if not policy.can(user, "products.view"):
        return Supplier.objects.none()
    return Supplier.objects.all()


def supplier_get_for_user(*, user, supplier_id) -> Supplier:
    return _get(suppliers_visible(user), supplier_id)


def policies_visible(user) -> QuerySet[PricePolicy]:
    if not policy.can(user, "products.view"):
        return PricePolicy.objects.none()
    return PricePolicy.objects.select_related("product", "customer")


def policy_get_for_user(*, user, policy_id) -> PricePolicy:
    return _get(policies_visible(user), policy_id)


def registrations_visible(user) -> QuerySet[ProductRegistration]:
    """Registrations of customers the user may see (pool customers included)."""
    if not policy.can(user, "products.view"):
        return ProductRegistration.objects.none()
    return ProductRegistration.objects.filter(
        customer__in=customers_visible(user, include_pool=True).values("pk")
    ).select_related("product", "customer")


def registration_get_for_user(*, user, registration_id) -> ProductRegistration:
    return _get(registrations_visible(user), registration_id)


def customer_names_visible(user, customer_ids) -> dict[int, str]:
    """{id: name} of those of `customer_ids` the user may see (one query)."""
    ids = {pk for pk in customer_ids if pk}
    if not ids:
        return {}
    return dict(customers_visible(user, include_pool=True).filter(pk__in=ids).values_list("pk", "name"))
