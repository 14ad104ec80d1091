"""REST endpoints for contracts (CTR-1, CTR-2): CRUD with nested lines (written through the services,
which price and check every line and recompute the totals), and the actions submit, withdraw,
revise, void and from-quote.

Same services and access policy as the pages: a contract whose owner is outside the caller's scope
or whose customer the caller may not see answers 404 like a missing one. Permissions: contracts.view
/ create / edit / delete by method; submit, withdraw, revise and void need contracts.edit (voiding
an approved contract also contracts.approve); from-quote needs contracts.create. Approving itself
happens only through the approval engine (/api/v1/approval-tasks/), by the entitled approver.
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
from crm.contracts import selectors, services
from crm.contracts.models import Contract, ContractLine
from crm.core.mixins import client_ip
from crm.customers.models import Contact, Customer
from crm.opportunities.models import Opportunity
from crm.quotes.api import QuoteLineWriteSerializer
from crm.quotes.models import Quote
from crm.quotes.selectors import quote_get_for_user

MAX_DB_INT = 2**31 - 1


class ContractLineSerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = ContractLine
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
            "points",
        )
        read_only_fields = fields


class ContractSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    outstanding_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    lines = ContractLineSerializer(many=True, read_only=True)

    class Meta:
        model = Contract
        fields = (
            "id",
            "code",
            "name",
            "kind",
            "kind_label",
            "customer",
            "customer_name",
            "contact",
            "opportunity",
            "quote",
            "owner",
            "owner_name",
            "department",
            "status",
            "status_label",
            "order_status",
            "signed_on",
            "start_on",
            "end_on",
            "customer_signatory",
            "our_signatory",
            "payment_term",
            "tax_percent",
            "terms",
            "note",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "received_amount",
            "invoiced_amount",
            "outstanding_amount",
            "credit_exceeded",
            "submitted_at",
            "approved_at",
            "voided_at",
            "created_at",
            "updated_at",
            "lines",
        )
        read_only_fields = fields


class ContractWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Contract.Kind.choices, required=False)
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.filter(deleted_at__isnull=True))
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True
    )
    opportunity = serializers.PrimaryKeyRelatedField(
        queryset=Opportunity.objects.all(), required=False, allow_null=True
    )
    signed_on = serializers.DateField(required=False, help_text="default: today")
    start_on = serializers.DateField(required=False, allow_null=True)
    end_on = serializers.DateField(required=False, allow_null=True)
    customer_signatory = serializers.CharField(max_length=64, required=False, allow_blank=True)
    our_signatory = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    payment_term = serializers.ChoiceField(
        choices=Quote.PaymentTerm.choices, required=False, allow_blank=True
    )
    tax_percent = serializers.DecimalField(max_digits=9, decimal_places=4, required=False)
    terms = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, help_text="default: the caller"
    )
    lines = QuoteLineWriteSerializer(many=True, required=False, help_text="replaces every line")


class VoidSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class FromQuoteSerializer(StrictSerializer):
    quote = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT)


def _int_param(request, name):
    value = request.query_params.get(name, "")
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_DB_INT:
        raise exceptions.ValidationError({name: [_("请输入有效的编号。")]})
    return int(value)


LIST_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="contract code (exact), name or customer name"),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Contract.Status.values),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=Contract.Kind.values),
    OpenApiParameter("customer", OpenApiTypes.INT),
]


def _service_values(validated: dict) -> tuple[dict, list[dict] | None, object]:
    values = dict(validated)
    lines = values.pop("lines", None)
    owner = values.pop("owner", None)
    return values, lines, owner


class ContractTransferSerializer(StrictSerializer):
    contract_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), min_length=1, max_length=500
    )
    to_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))


class ContractTransferResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="how many contracts changed owner")
    not_found = serializers.ListField(
        child=serializers.IntegerField(), help_text="posted ids that do not exist or are outside the scope"
    )


class ContractViewSet(OrderingParamMixin, viewsets.GenericViewSet):
    """Contracts the caller may see (owner in scope and customer visible), newest first."""

    module = "contracts"
    serializer_class = ContractSerializer
    action_permissions = {
        "submit": "contracts.edit",
        "withdraw": "contracts.edit",
        "revise": "contracts.edit",
        "void": "contracts.edit",
        "from_quote": "contracts.create",
        "transfer": "contracts.transfer",
    }
    ordering = ("-created_at", "-pk")
    ordering_fields = ("created_at", "code", "name", "signed_on", "total")  # ?ordering=

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contract.objects.none()
        return selectors.contracts_visible(self.request.user)

    def _get(self, pk):
        return selectors.contract_get_for_user(user=self.request.user, contract_id=pk)

    def _answer(self, contract, code=status.HTTP_200_OK):
        return Response(ContractSerializer(self._get(contract.pk)).data, status=code)

    @extend_schema(parameters=LIST_PARAMETERS, responses={200: ContractSerializer(many=True)})
    def list(self, request):
        status_value = request.query_params.get("status", "")
        if status_value and status_value not in Contract.Status.values:
            raise exceptions.ValidationError({"status": [_("状态无效。")]})
        kind = request.query_params.get("kind", "")
        if kind and kind not in Contract.Kind.values:
            raise exceptions.ValidationError({"kind": [_("合同类型无效。")]})
        filters = selectors.ContractFilters(
            q=request.query_params.get("q", "")[:100],
            status=status_value,
            kind=kind,
            customer_id=_int_param(request, "customer"),
        )
        contracts = (
            selectors.contract_list(user=request.user, filters=filters)
            .select_related("customer", "owner")
            .prefetch_related("lines__product")
        )
        page = self.paginate_queryset(contracts)
        return self.get_paginated_response(ContractSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(ContractSerializer(self._get(pk)).data)

    @extend_schema(request=ContractWriteSerializer, responses={201: ContractSerializer})
    def create(self, request):
        data = ContractWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values, lines, owner = _service_values(data.validated_data)
        contract = services.contract_create(
            actor=request.user, values=values, lines=lines or [], owner=owner, ip=client_ip(request)
        )
        return self._answer(contract, status.HTTP_201_CREATED)

    def _update(self, request, pk, partial):
        contract = self._get(pk)
        data = ContractWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values, lines, owner = _service_values(data.validated_data)
        if owner is not None:
            raise exceptions.ValidationError({"owner": [_("合同的负责人不能在这里修改。")]})
        contract = services.contract_update(
            actor=request.user, contract=contract, values=values, lines=lines, ip=client_ip(request)
        )
        return self._answer(contract)

    @extend_schema(request=ContractWriteSerializer, responses={200: ContractSerializer})
    def update(self, request, pk=None):
        return self._update(request, pk, partial=False)

    @extend_schema(request=ContractWriteSerializer, responses={200: ContractSerializer})
    def partial_update(self, request, pk=None):
        return self._update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        services.contract_delete(actor=request.user, contract=self._get(pk), ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: ContractSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send a draft or rejected contract into approval (credit approval first when over limit)."""
        contract = services.contract_submit(actor=request.user, contract=self._get(pk), ip=client_ip(request))
        return self._answer(contract)

    @extend_schema(request=None, responses={200: ContractSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The applicant takes the contract back from approval (it becomes a draft)."""
        contract = services.contract_withdraw(
            actor=request.user, contract=self._get(pk), ip=client_ip(request)
        )
        return self._answer(contract)

    @extend_schema(request=None, responses={200: ContractSerializer})
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        """Reopen an approved contract as a draft (a new approval follows)."""
        contract = services.contract_revise(actor=request.user, contract=self._get(pk), ip=client_ip(request))
        return self._answer(contract)

    @extend_schema(request=VoidSerializer, responses={200: ContractSerializer})
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Void a draft, rejected or approved contract with nothing received or invoiced."""
        contract = self._get(pk)
        data = VoidSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contract = services.contract_void(
            actor=request.user, contract=contract, reason=data.validated_data["reason"], ip=client_ip(request)
        )
        return self._answer(contract)

    @extend_schema(request=FromQuoteSerializer, responses={201: ContractSerializer})
    @action(detail=False, methods=["post"], url_path="from-quote")
    def from_quote(self, request):
        """A draft contract from a quote the caller may see (the quote becomes accepted)."""
        data = FromQuoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quote = quote_get_for_user(user=request.user, quote_id=data.validated_data["quote"])
        contract = services.contract_from_quote(actor=request.user, quote=quote, ip=client_ip(request))
        return self._answer(contract, status.HTTP_201_CREATED)

    @extend_schema(request=ContractTransferSerializer, responses={200: ContractTransferResultSerializer})
    @action(detail=False, methods=["post"])
    def transfer(self, request):
        """Give contracts to a colleague in the caller's scope; one log entry per contract."""
        data = ContractTransferSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        requested = set(data.validated_data["contract_ids"])
        rows = selectors.contracts_visible(request.user).filter(pk__in=requested)
        found = set(rows.values_list("pk", flat=True))
        count = services.contracts_transfer(
            actor=request.user, contracts=rows, to_user=data.validated_data["to_user"], ip=client_ip(request)
        )
        return Response({"count": count, "not_found": sorted(requested - found)})
