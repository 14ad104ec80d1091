"""REST endpoints for products, categories, suppliers, price policies and registrations.

Same services, selectors and permissions as the product pages: products.view reads the catalogue,
products.create/edit add and change products (products.delete takes one off sale: 下架),
products.settings keeps categories, suppliers and price policies; registrations are read for the
customers the caller may see and written with products.edit (deleted with products.delete).
GET /products/{id}/price/ answers which price a customer pays (crm/products/pricing.py).
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.ordering import OrderingParamMixin
from crm.api.serializers import StrictSerializer
from crm.core.mixins import client_ip
from crm.customers.models import Customer
from crm.customers.selectors import customers_visible
from crm.products import pricing, selectors, services
from crm.products.models import (
    PricePolicy,
    Product,
    ProductCategory,
    ProductRegistration,
    ProductSupplier,
    Supplier,
)

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": 0}


def _bad_request(field: str, message: str):
    return exceptions.ValidationError({field: [message]})


class _NamedRef(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


# ---------------------------------------------------------------- categories


class ProductCategorySerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = ProductCategory
        fields = ["id", "name", "parent", "sort_order", "is_active", "created_at", "updated_at"]


class ProductCategoryWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64)
    parent = serializers.PrimaryKeyRelatedField(
        queryset=ProductCategory.objects.all(), required=False, allow_null=True
    )
    sort_order = serializers.IntegerField(min_value=0, max_value=100000, required=False)


class _ActiveMixin:
    """POST …/{id}/activate/ and …/{id}/deactivate/ through `set_active`."""

    def set_active(self, request, obj, active: bool):
        raise NotImplementedError

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        obj = self.set_active(request, self.get_object(), True)
        return Response(self.get_serializer(obj).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        obj = self.set_active(request, self.get_object(), False)
        return Response(self.get_serializer(obj).data)


@extend_schema(tags=["products"])
class ProductCategoryViewSet(_ActiveMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The product category tree (PRD-1); categories are deactivated, never deleted."""

    module = "products"
    serializer_class = ProductCategorySerializer
    action_permissions = {
        "create": "products.settings",
        "partial_update": "products.settings",
        "activate": "products.settings",
        "deactivate": "products.settings",
    }
    ordering = "pk"

    def get_queryset(self):
        return selectors.categories_visible(self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ProductCategorySerializer(page, many=True).data)

    @extend_schema(request=ProductCategoryWriteSerializer, responses={201: ProductCategorySerializer})
    def create(self, request):
        data = ProductCategoryWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_create(actor=request.user, ip=client_ip(request), **data.validated_data)
        return Response(ProductCategorySerializer(category).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProductCategoryWriteSerializer, responses={200: ProductCategorySerializer})
    def partial_update(self, request, pk=None):
        category = self.get_object()
        data = ProductCategoryWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {"name": category.name, "parent": category.parent, "sort_order": category.sort_order}
        values |= data.validated_data
        category = services.category_update(
            actor=request.user, category=category, ip=client_ip(request), **values
        )
        return Response(ProductCategorySerializer(category).data)

    def set_active(self, request, obj, active):
        return services.category_set_active(
            actor=request.user, category=obj, active=active, ip=client_ip(request)
        )


# ---------------------------------------------------------------- suppliers


class SupplierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = [
            "id",
            "name",
            "contact",
            "phone",
            "email",
            "address",
            "is_active",
            "created_at",
            "updated_at",
        ]


class SupplierWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    contact = serializers.CharField(max_length=64, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)


@extend_schema(tags=["products"])
class SupplierViewSet(_ActiveMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Suppliers (供应商, PRD-2); deactivated, never deleted."""

    module = "products"
    serializer_class = SupplierSerializer
    action_permissions = {
        "create": "products.settings",
        "partial_update": "products.settings",
        "activate": "products.settings",
        "deactivate": "products.settings",
    }
    ordering = "pk"

    def get_queryset(self):
        return selectors.suppliers_visible(self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SupplierSerializer(page, many=True).data)

    @extend_schema(request=SupplierWriteSerializer, responses={201: SupplierSerializer})
    def create(self, request):
        data = SupplierWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        supplier = services.supplier_create(actor=request.user, ip=client_ip(request), **data.validated_data)
        return Response(SupplierSerializer(supplier).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SupplierWriteSerializer, responses={200: SupplierSerializer})
    def partial_update(self, request, pk=None):
        supplier = self.get_object()
        data = SupplierWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        supplier = services.supplier_update(
            actor=request.user, supplier=supplier, ip=client_ip(request), **data.validated_data
        )
        return Response(SupplierSerializer(supplier).data)

    def set_active(self, request, obj, active):
        return services.supplier_set_active(
            actor=request.user, supplier=obj, active=active, ip=client_ip(request)
        )


# ---------------------------------------------------------------- products


class ProductSupplierSerializer(serializers.ModelSerializer):
    supplier = _NamedRef(read_only=True)

    class Meta:
        model = ProductSupplier
        fields = ["supplier", "supplier_code", "purchase_price"]


class ProductSerializer(serializers.ModelSerializer):
    category = _NamedRef(read_only=True, allow_null=True)
    suppliers = ProductSupplierSerializer(source="supplier_links", many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "code",
            "name",
            "category",
            "unit",
            "list_price",
            "cost",
            "stock",
            "points",
            "grade",
            "is_active",
            "description",
            "suppliers",
            "created_at",
            "updated_at",
        ]


class ProductWriteSerializer(StrictSerializer):
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    category = serializers.PrimaryKeyRelatedField(
        queryset=ProductCategory.objects.all(), required=False, allow_null=True
    )
    unit = serializers.CharField(max_length=16)
    list_price = serializers.DecimalField(**MONEY)
    cost = serializers.DecimalField(required=False, **MONEY)
    stock = serializers.DecimalField(required=False, **MONEY)
    points = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    grade = serializers.CharField(max_length=32, required=False, allow_blank=True)
    description = serializers.CharField(max_length=10000, required=False, allow_blank=True)


class PriceSerializer(serializers.Serializer):
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    list_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    policy = _NamedRef(allow_null=True, help_text="the winning price policy, null for the list price")
    explanation = serializers.CharField()


@extend_schema(tags=["products"])
class ProductViewSet(OrderingParamMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Products (PRD-1). DELETE is not offered: POST …/deactivate/ takes a product off sale."""

    module = "products"
    serializer_class = ProductSerializer
    action_permissions = {
        "create": "products.create",
        "partial_update": "products.edit",
        "activate": "products.edit",
        "deactivate": "products.delete",
        "price": "products.view",
    }
    ordering = "pk"
    ordering_fields = ("created_at", "code", "name", "list_price")  # ?ordering=

    def get_queryset(self):
        return selectors.products_visible(self.request.user).prefetch_related("supplier_links__supplier")

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="text in the name or code"),
            OpenApiParameter("category", OpenApiTypes.INT, description="a category and its sub-categories"),
            OpenApiParameter("is_active", OpenApiTypes.BOOL),
        ]
    )
    def list(self, request):
        category = None
        if request.query_params.get("category"):
            try:
                category = selectors.category_get_for_user(
                    user=request.user, category_id=request.query_params["category"]
                )
            except Exception as exc:  # Http404 or a bad id: the same answer
                raise _bad_request("category", _("产品分类不存在。")) from exc
        active = {"true": "1", "false": "0"}.get(request.query_params.get("is_active", ""), "")
        products = selectors.products_search(
            request.user, q=request.query_params.get("q", ""), category=category, active=active
        ).prefetch_related("supplier_links__supplier")
        page = self.paginate_queryset(products)
        return self.get_paginated_response(ProductSerializer(page, many=True).data)

    @extend_schema(request=ProductWriteSerializer, responses={201: ProductSerializer})
    def create(self, request):
        data = ProductWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(actor=request.user, ip=client_ip(request), **data.validated_data)
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProductWriteSerializer, responses={200: ProductSerializer})
    def partial_update(self, request, pk=None):
        product = self.get_object()
        data = ProductWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        product = services.product_update(
            actor=request.user, product=product, ip=client_ip(request), **data.validated_data
        )
        return Response(ProductSerializer(product).data)

    @extend_schema(request=None, responses={200: ProductSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        product = services.product_set_active(
            actor=request.user, product=self.get_object(), active=True, ip=client_ip(request)
        )
        return Response(ProductSerializer(product).data)

    @extend_schema(request=None, responses={200: ProductSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        product = services.product_set_active(
            actor=request.user, product=self.get_object(), active=False, ip=client_ip(request)
        )
        return Response(ProductSerializer(product).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", OpenApiTypes.INT, description="a customer the caller may see"),
            OpenApiParameter("quantity", OpenApiTypes.NUMBER, description="default 1"),
            OpenApiParameter("term", OpenApiTypes.STR, enum=[*PricePolicy.PaymentTerm.values]),
            OpenApiParameter("on", OpenApiTypes.DATE, description="the day to price on (default today)"),
        ],
        responses={200: PriceSerializer},
    )
    @action(detail=True, methods=["get"])
    def price(self, request, pk=None):
        """The unit price this customer pays for this quantity and term (the lowest applicable)."""
        product = self.get_object()
        params = PriceQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        customer = None
        if data.get("customer"):
            customer = customers_visible(request.user, include_pool=True).filter(pk=data["customer"]).first()
            if customer is None:
                raise _bad_request("customer", _("客户不存在或无权查看。"))
        quote = pricing.price_for(
            product,
            customer=customer,
            quantity=data.get("quantity") or 1,
            payment_term=data.get("term") or None,
            on=data.get("on"),
        )
        policy = {"id": quote.policy.pk, "name": str(quote.policy)} if quote.policy else None
        return Response(
            {
                "unit_price": str(quote.unit_price),
                "list_price": str(product.list_price),
                "policy": policy,
                "explanation": quote.explanation,
            }
        )


class PriceQuerySerializer(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    term = serializers.ChoiceField(choices=PricePolicy.PaymentTerm.choices, required=False, allow_blank=True)
    on = serializers.DateField(required=False)


# ---------------------------------------------------------------- price policies


class PricePolicySerializer(serializers.ModelSerializer):
    product = _NamedRef(read_only=True)
    customer = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = PricePolicy
        fields = [
            "id",
            "product",
            "kind",
            "name",
            "customer",
            "min_quantity",
            "payment_term",
            "starts_on",
            "ends_on",
            "price",
            "discount_percent",
            "is_active",
            "created_at",
            "updated_at",
        ]


class PricePolicyWriteSerializer(StrictSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), help_text="create only")
    kind = serializers.ChoiceField(choices=PricePolicy.Kind.choices)
    name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.filter(deleted_at__isnull=True), required=False, allow_null=True
    )
    min_quantity = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    payment_term = serializers.ChoiceField(
        choices=PricePolicy.PaymentTerm.choices, required=False, allow_blank=True
    )
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    price = serializers.DecimalField(required=False, allow_null=True, **MONEY)
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, allow_null=True
    )


@extend_schema(tags=["products"])
class PricePolicyViewSet(_ActiveMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Price policies (PRD-1); the rule that picks the winner is in GET /products/{id}/price/."""

    module = "products"
    serializer_class = PricePolicySerializer
    action_permissions = {
        "create": "products.settings",
        "partial_update": "products.settings",
        "activate": "products.settings",
        "deactivate": "products.settings",
    }
    ordering = "pk"

    def get_queryset(self):
        return selectors.policies_visible(self.request.user)

    @extend_schema(parameters=[OpenApiParameter("product", OpenApiTypes.INT)])
    def list(self, request):
        policies = self.get_queryset()
        product = request.query_params.get("product", "")
        if product:
            if not product.isdigit():
                raise _bad_request("product", _("产品不存在。"))
            policies = policies.filter(product_id=int(product))
        page = self.paginate_queryset(policies)
        return self.get_paginated_response(PricePolicySerializer(page, many=True).data)

    @extend_schema(request=PricePolicyWriteSerializer, responses={201: PricePolicySerializer})
    def create(self, request):
        data = PricePolicyWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        product = values.pop("product")
        found = services.price_policy_create(
            actor=request.user, product=product, ip=client_ip(request), **values
        )
        return Response(PricePolicySerializer(found).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PricePolicyWriteSerializer, responses={200: PricePolicySerializer})
    def partial_update(self, request, pk=None):
        found = self.get_object()
        data = PricePolicyWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "product" in values and values.pop("product").pk != found.product_id:
            raise _bad_request("product", _("价格策略不能改到其他产品上。"))
        found = services.price_policy_update(
            actor=request.user, price_policy=found, ip=client_ip(request), **values
        )
        return Response(PricePolicySerializer(found).data)

    def set_active(self, request, obj, active):
        return services.price_policy_set_active(
            actor=request.user, price_policy=obj, active=active, ip=client_ip(request)
        )


# ---------------------------------------------------------------- registrations


class ProductRegistrationSerializer(serializers.ModelSerializer):
    product = _NamedRef(read_only=True)
    customer = _NamedRef(read_only=True)

    class Meta:
        model = ProductRegistration
        fields = [
            "id",
            "product",
            "serial_number",
            "customer",
            "registered_on",
            "warranty_ends_on",
            "note",
            "created_at",
            "updated_at",
        ]


class ProductRegistrationWriteSerializer(StrictSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), help_text="create only")
    serial_number = serializers.CharField(max_length=64)
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.filter(deleted_at__isnull=True), help_text="a customer the caller may see"
    )
    registered_on = serializers.DateField()
    warranty_ends_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


@extend_schema(tags=["products"])
class ProductRegistrationViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Serial numbers registered to customers (商品注册, PRD-2): only customers the caller sees."""

    module = "products"
    serializer_class = ProductRegistrationSerializer
    action_permissions = {"partial_update": "products.edit", "create": "products.edit"}
    ordering = "pk"

    def get_queryset(self):
        return selectors.registrations_visible(self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter("product", OpenApiTypes.INT),
            OpenApiParameter("customer", OpenApiTypes.INT),
        ]
    )
    def list(self, request):
        rows = self.get_queryset()
        for field in ("product", "customer"):
            value = request.query_params.get(field, "")
            if value:
                if not value.isdigit():
                    raise _bad_request(field, _("请输入有效的编号。"))
                rows = rows.filter(**{f"{field}_id": int(value)})
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ProductRegistrationSerializer(page, many=True).data)

    @extend_schema(request=ProductRegistrationWriteSerializer, responses={201: ProductRegistrationSerializer})
    def create(self, request):
        data = ProductRegistrationWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        product = values.pop("product")
        found = services.registration_create(
            actor=request.user, product=product, ip=client_ip(request), **values
        )
        return Response(ProductRegistrationSerializer(found).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProductRegistrationWriteSerializer, responses={200: ProductRegistrationSerializer})
    def partial_update(self, request, pk=None):
        found = self.get_object()
        data = ProductRegistrationWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "product" in values and values.pop("product").pk != found.product_id:
            raise _bad_request("product", _("产品注册不能改到其他产品上。"))
        found = services.registration_update(
            actor=request.user, registration=found, ip=client_ip(request), **values
        )
        return Response(ProductRegistrationSerializer(found).data)

    def destroy(self, request, pk=None):
        services.registration_delete(
            actor=request.user, registration=self.get_object(), ip=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
