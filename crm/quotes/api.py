"""REST endpoints for quotes (QUO-1): CRUD with nested lines (written through the services, which
price and check every line and recompute the totals), status actions and the price history.

Same services and access policy as the pages: a quote whose owner is outside the caller's scope or
whose customer the caller may not see answers 404 like a missing one. Permissions: quotes.view /
create / edit / delete by method; send, accept and reject need quotes.edit.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.accounts.models import User
from crm.api.ordering import OrderingParamMixin
from crm.api.serializers import StrictSerializer
from crm.core.mixins import client_ip
from crm.customers.models import Contact, Customer
from crm.customers.selectors import customers_visible
from crm.opportunities.models import Opportunity
from crm.products.models import Product
from crm.quotes import selectors, services
from crm.quotes.models import Quote, QuoteLine

MAX_DB_INT = 2**31 - 1


class QuoteLineSerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = QuoteLine
        fields = (
            "id",
            "order",
            "product",
            "product_code",
            "product_name",
            "description",
            "quantity",
            "unit",
            "list_price",
            "policy_price",
            "unit_price",
            "discount_percent",
            "tax_percent",
            "amount",
        )
        read_only_fields = fields


class QuoteSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    lines = QuoteLineSerializer(many=True, read_only=True)

    class Meta:
        model = Quote
        fields = (
            "id",
            "code",
            "customer",
            "customer_name",
            "contact",
            "opportunity",
            "owner",
            "owner_name",
            "department",
            "status",
            "status_label",
            "quoted_on",
            "valid_until",
            "payment_term",
            "tax_percent",
            "note",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "sent_at",
            "decided_at",
            "created_at",
            "updated_at",
            "lines",
        )
        read_only_fields = fields


class QuoteLineWriteSerializer(StrictSerializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4)
    unit_price = serializers.DecimalField(
        max_digits=18,
        decimal_places=4,
        required=False,
        allow_null=True,
        help_text="default: the policy price",
    )
    discount_percent = serializers.DecimalField(max_digits=9, decimal_places=4, required=False)
    tax_percent = serializers.DecimalField(
        max_digits=9, decimal_places=4, required=False, help_text="default: the quote's tax_percent"
    )


class QuoteWriteSerializer(StrictSerializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.filter(deleted_at__isnull=True))
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True
    )
    opportunity = serializers.PrimaryKeyRelatedField(
        queryset=Opportunity.objects.all(),
        required=False,
        allow_null=True,
        help_text="an opportunity of the same customer, visible to the caller",
    )
    valid_until = serializers.DateField(required=False, help_text="default: today + 30 days")
    payment_term = serializers.ChoiceField(
        choices=Quote.PaymentTerm.choices, required=False, allow_blank=True
    )
    tax_percent = serializers.DecimalField(max_digits=9, decimal_places=4, required=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, help_text="default: the caller"
    )
    lines = QuoteLineWriteSerializer(many=True, help_text="replaces every line of the quote")


class PriceHistorySerializer(serializers.Serializer):
    source = serializers.CharField(help_text="quote or contract")
    code = serializers.CharField(help_text="the quote's or the contract's code")
    date = serializers.DateField(help_text="quoted_on of the quote / signed_on of the contract")
    product = serializers.IntegerField(source="product_id")
    product_name = serializers.CharField(source="product.name")
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    salesperson = serializers.CharField(source="salesperson.display_name")
    quote = serializers.IntegerField(source="quote_id", allow_null=True)
    quote_code = serializers.CharField(source="quote.code", allow_null=True)
    quote_status = serializers.CharField(source="quote.status", allow_null=True)
    contract = serializers.IntegerField(source="contract_id", allow_null=True)
    contract_code = serializers.CharField(source="contract.code", allow_null=True)


def _int_param(request, name, *, required=False):
    value = request.query_params.get(name, "")
    if not value:
        if required:
            raise exceptions.ValidationError({name: [_("请填写此项。")]})
        return None
    if not value.isdigit() or int(value) > MAX_DB_INT:
        raise exceptions.ValidationError({name: [_("请输入有效的编号。")]})
    return int(value)


LIST_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="quote code (exact) or customer name"),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Quote.Status.values),
    OpenApiParameter("customer", OpenApiTypes.INT),
]
HISTORY_PARAMETERS = [
    OpenApiParameter("customer", OpenApiTypes.INT, required=True),
    OpenApiParameter("product", OpenApiTypes.INT),
]


def _service_values(validated: dict) -> tuple[dict, list[dict] | None, object]:
    values = dict(validated)
    lines = values.pop("lines", None)
    owner = values.pop("owner", None)
    return values, lines, owner


class QuoteViewSet(OrderingParamMixin, viewsets.GenericViewSet):
    """Quotes the caller may see (owner in scope and customer visible), newest first."""

    module = "quotes"
    serializer_class = QuoteSerializer
    action_permissions = {
        "send": "quotes.edit",
        "accept": "quotes.edit",
        "reject": "quotes.edit",
        "price_history": "quotes.view",
    }
    ordering = ("-created_at", "-pk")
    ordering_fields = ("created_at", "code", "quoted_on", "valid_until", "total")  # ?ordering=

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Quote.objects.none()
        return selectors.quotes_visible(self.request.user)

    def _get(self, pk):
        return selectors.quote_get_for_user(user=self.request.user, quote_id=pk)

    def _answer(self, quote, code=status.HTTP_200_OK):
        quote = self._get(quote.pk)
        return Response(QuoteSerializer(quote).data, status=code)

    @extend_schema(parameters=LIST_PARAMETERS, responses={200: QuoteSerializer(many=True)})
    def list(self, request):
        status_value = request.query_params.get("status", "")
        if status_value and status_value not in Quote.Status.values:
            raise exceptions.ValidationError({"status": [_("状态无效。")]})
        filters = selectors.QuoteFilters(
            q=request.query_params.get("q", "")[:100],
            status=status_value,
            customer_id=_int_param(request, "customer"),
        )
        quotes = (
            selectors.quote_list(user=request.user, filters=filters)
            .select_related("customer", "owner")
            .prefetch_related("lines__product")
        )
        page = self.paginate_queryset(quotes)
        return self.get_paginated_response(QuoteSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(QuoteSerializer(self._get(pk)).data)

    @extend_schema(request=QuoteWriteSerializer, responses={201: QuoteSerializer})
    def create(self, request):
        data = QuoteWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values, lines, owner = _service_values(data.validated_data)
        quote = services.quote_create(
            actor=request.user, values=values, lines=lines, owner=owner, ip=client_ip(request)
        )
        return self._answer(quote, status.HTTP_201_CREATED)

    def _update(self, request, pk, partial):
        quote = self._get(pk)
        data = QuoteWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values, lines, owner = _service_values(data.validated_data)
        if owner is not None:
            raise exceptions.ValidationError({"owner": [_("报价单的负责人不能在这里修改。")]})
        quote = services.quote_update(
            actor=request.user, quote=quote, values=values, lines=lines, ip=client_ip(request)
        )
        return self._answer(quote)

    @extend_schema(request=QuoteWriteSerializer, responses={200: QuoteSerializer})
    def update(self, request, pk=None):
        return self._update(request, pk, partial=False)

    @extend_schema(request=QuoteWriteSerializer, responses={200: QuoteSerializer})
    def partial_update(self, request, pk=None):
        return self._update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        services.quote_delete(actor=request.user, quote=self._get(pk), ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: QuoteSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Mark a draft as sent to the customer."""
        return self._answer(
            services.quote_send(actor=request.user, quote=self._get(pk), ip=client_ip(request))
        )

    @extend_schema(request=None, responses={200: QuoteSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The customer accepted a sent quote."""
        return self._answer(
            services.quote_accept(actor=request.user, quote=self._get(pk), ip=client_ip(request))
        )

    @extend_schema(request=None, responses={200: QuoteSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """The customer rejected a sent quote."""
        return self._answer(
            services.quote_reject(actor=request.user, quote=self._get(pk), ip=client_ip(request))
        )

    @extend_schema(parameters=HISTORY_PARAMETERS, responses={200: PriceHistorySerializer(many=True)})
    @action(detail=False, methods=["get"], url_path="price-history", pagination_class=None)
    def price_history(self, request):
        """Every price quoted or contracted to the customer (quotes and effective contracts the caller
        may see), newest first, at most 50."""
        customer_id = _int_param(request, "customer", required=True)
        customer = customers_visible(request.user, include_pool=True).filter(pk=customer_id).first()
        if customer is None:
            raise exceptions.NotFound()
        product_id = _int_param(request, "product")
        product = Product.objects.filter(pk=product_id).first() if product_id else None
        if product_id and product is None:
            raise exceptions.ValidationError({"product": [_("产品不存在。")]})
        rows = selectors.price_history(customer, product, user=request.user)
        return Response(PriceHistorySerializer(rows, many=True).data)
