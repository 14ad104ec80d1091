"""Invoice API (CTR-5): /api/v1/invoices/ — list, retrieve, create (request an invoice on a
contract) and the finance actions issue, mail and void.

The same access rule as the pages (crm/invoices/selectors.py): invoices.view and the contract
visible; an invoice or contract outside the caller's scope answers 404 like a missing one.
Permissions: invoices.view (GET), invoices.create (POST = request), invoices.approve (issue, mail,
void). Business-rule errors answer 400 with the services' Chinese messages.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.ordering import OrderingParamMixin
from crm.api.serializers import StrictSerializer
from crm.contracts.selectors import contract_get_for_user
from crm.core.mixins import client_ip
from crm.invoices import selectors, services
from crm.invoices.models import Invoice

MAX_DB_INT = 2**31 - 1


class InvoiceSerializer(serializers.ModelSerializer):
    contract_code = serializers.CharField(source="contract.code", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Invoice
        fields = (
            "id",
            "code",
            "contract",
            "contract_code",
            "customer",
            "customer_name",
            "owner",
            "owner_name",
            "department",
            "kind",
            "kind_label",
            "title",
            "tax_number",
            "bank_account",
            "address_phone",
            "amount",
            "tax_percent",
            "tax_amount",
            "status",
            "status_label",
            "invoice_number",
            "issued_on",
            "mailed_on",
            "tracking_number",
            "void_reason",
            "note",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class InvoiceRequestSerializer(StrictSerializer):
    contract = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT)
    amount = serializers.DecimalField(max_digits=18, decimal_places=4, help_text="tax-inclusive")
    kind = serializers.ChoiceField(choices=Invoice.Kind.choices, required=False)
    title = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="default: the customer's name"
    )
    tax_number = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="default: the customer's credit code"
    )
    bank_account = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address_phone = serializers.CharField(max_length=200, required=False, allow_blank=True)
    tax_percent = serializers.DecimalField(
        max_digits=9, decimal_places=4, required=False, help_text="default: the contract's"
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class InvoiceIssueSerializer(StrictSerializer):
    invoice_number = serializers.CharField(max_length=32, help_text="8 digits (VAT) or 20 digits (全电)")
    issued_on = serializers.DateField()


class InvoiceMailSerializer(StrictSerializer):
    tracking_number = serializers.CharField(max_length=40)
    mailed_on = serializers.DateField()


class InvoiceVoidSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=200)


def _int_param(request, name):
    value = request.query_params.get(name, "")
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_DB_INT:
        raise exceptions.ValidationError({name: [_("请输入有效的编号。")]})
    return int(value)


LIST_PARAMETERS = [
    OpenApiParameter(
        "q", OpenApiTypes.STR, description="request code or invoice number (exact), customer name"
    ),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Invoice.Status.values),
    OpenApiParameter("customer", OpenApiTypes.INT),
    OpenApiParameter("contract", OpenApiTypes.INT),
]


class InvoiceViewSet(OrderingParamMixin, viewsets.GenericViewSet):
    """Invoices the caller may see (invoices.view and the contract visible), newest first."""

    module = "invoices"
    serializer_class = InvoiceSerializer
    action_permissions = {"issue": "invoices.approve", "mail": "invoices.approve", "void": "invoices.approve"}
    ordering = ("-created_at", "-pk")
    ordering_fields = ("created_at", "code", "amount")  # ?ordering=

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        return selectors.invoices_visible(self.request.user)

    def _get(self, pk):
        return selectors.invoice_get_for_user(user=self.request.user, invoice_id=pk)

    def _answer(self, invoice, code=status.HTTP_200_OK):
        return Response(InvoiceSerializer(self._get(invoice.pk)).data, status=code)

    def _valid(self, serializer_class):
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data

    @extend_schema(parameters=LIST_PARAMETERS, responses={200: InvoiceSerializer(many=True)})
    def list(self, request):
        status_value = request.query_params.get("status", "")
        if status_value and status_value not in Invoice.Status.values:
            raise exceptions.ValidationError({"status": [_("状态无效。")]})
        filters = selectors.InvoiceFilters(
            q=request.query_params.get("q", "")[:100],
            status=status_value,
            customer_id=_int_param(request, "customer"),
            contract_id=_int_param(request, "contract"),
        )
        invoices = selectors.invoice_list(user=request.user, filters=filters).select_related(
            "contract", "customer", "owner"
        )
        page = self.paginate_queryset(invoices)
        return self.get_paginated_response(InvoiceSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(InvoiceSerializer(self._get(pk)).data)

    @extend_schema(request=InvoiceRequestSerializer, responses={201: InvoiceSerializer})
    def create(self, request):
        """Request an invoice on an approved contract (the contract must be visible: else 404)."""
        values = dict(self._valid(InvoiceRequestSerializer))
        contract = contract_get_for_user(user=request.user, contract_id=values.pop("contract"))
        invoice = services.invoice_request(
            actor=request.user, contract=contract, values=values, ip=client_ip(request)
        )
        return self._answer(invoice, status.HTTP_201_CREATED)

    @extend_schema(request=InvoiceIssueSerializer, responses={200: InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        """Finance: the tax invoice was issued (requested → issued)."""
        invoice = self._get(pk)
        data = self._valid(InvoiceIssueSerializer)
        services.invoice_issue(actor=request.user, invoice=invoice, ip=client_ip(request), **data)
        return self._answer(invoice)

    @extend_schema(request=InvoiceMailSerializer, responses={200: InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def mail(self, request, pk=None):
        """Finance: the invoice was mailed (issued → mailed)."""
        invoice = self._get(pk)
        data = self._valid(InvoiceMailSerializer)
        services.invoice_mail(actor=request.user, invoice=invoice, ip=client_ip(request), **data)
        return self._answer(invoice)

    @extend_schema(request=InvoiceVoidSerializer, responses={200: InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Finance: void a non-void invoice; its amount is freed on the contract."""
        invoice = self._get(pk)
        data = self._valid(InvoiceVoidSerializer)
        services.invoice_void(
            actor=request.user, invoice=invoice, reason=data["reason"], ip=client_ip(request)
        )
        return self._answer(invoice)
