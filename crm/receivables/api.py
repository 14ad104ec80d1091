"""REST endpoints for payment plans and receivables (CTR-2), through the same services and access
rule as the pages: a plan or receivable whose contract the caller may not see answers 404 like a
missing one (so does a contract id in the body). Permissions: receivables.view / create / edit /
delete by method; `submit` needs receivables.create, `confirm` receivables.approve."""

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
from crm.receivables import selectors, services
from crm.receivables.models import PaymentMethod, PaymentPlan, Receivable

MAX_DB_INT = 2**31 - 1


class PaymentPlanSerializer(serializers.ModelSerializer):
    contract_code = serializers.CharField(source="contract.code", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    outstanding_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = PaymentPlan
        fields = (
            "id",
            "contract",
            "contract_code",
            "customer",
            "customer_name",
            "number",
            "amount",
            "due_on",
            "method",
            "remind_days_before",
            "reminded_on",
            "overdue_notified_on",
            "received_amount",
            "outstanding_amount",
            "is_overdue",
            "note",
            "created_at",
        )
        read_only_fields = fields


class PaymentPlanWriteSerializer(StrictSerializer):
    contract = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT, help_text="on create only")
    amount = serializers.DecimalField(max_digits=18, decimal_places=4, help_text="rounded half-up to 0.01")
    due_on = serializers.DateField()
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False, allow_blank=True)
    remind_days_before = serializers.IntegerField(
        min_value=0, max_value=services.MAX_REMIND_DAYS, required=False
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ReceivableSerializer(serializers.ModelSerializer):
    contract_code = serializers.CharField(source="contract.code", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    plan_number = serializers.IntegerField(source="plan.number", read_only=True, allow_null=True)

    class Meta:
        model = Receivable
        fields = (
            "id",
            "code",
            "contract",
            "contract_code",
            "customer",
            "customer_name",
            "plan",
            "plan_number",
            "owner",
            "owner_name",
            "department",
            "amount",
            "received_on",
            "method",
            "status",
            "status_label",
            "note",
            "approved_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ReceivableWriteSerializer(StrictSerializer):
    contract = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT, help_text="on create only")
    plan = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT, required=False, allow_null=True)
    amount = serializers.DecimalField(max_digits=18, decimal_places=4, help_text="rounded half-up to 0.01")
    received_on = serializers.DateField(required=False, help_text="default: today")
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


def _int_param(request, name):
    value = request.query_params.get(name, "")
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_DB_INT:
        raise exceptions.ValidationError({name: [_("请输入有效的编号。")]})
    return int(value)


def _no_contract_change(validated: dict, current_contract_id: int) -> None:
    contract_id = validated.pop("contract", None)
    if contract_id is not None and contract_id != current_contract_id:
        raise exceptions.ValidationError({"contract": [_("不能更换所属合同。")]})


PLAN_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="contract code (exact), contract or customer name"),
    OpenApiParameter("due", OpenApiTypes.STR, enum=["upcoming", "overdue"]),
    OpenApiParameter("contract", OpenApiTypes.INT),
]
RECEIVABLE_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="receivable or contract code (exact), names"),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Receivable.Status.values),
    OpenApiParameter("contract", OpenApiTypes.INT),
    OpenApiParameter("customer", OpenApiTypes.INT),
]


class PaymentPlanViewSet(OrderingParamMixin, viewsets.GenericViewSet):
    """Payment plans of contracts the caller may see, by due date."""

    module = "receivables"
    serializer_class = PaymentPlanSerializer
    ordering = ("due_on", "pk")
    ordering_fields = ("due_on", "amount", "created_at")  # ?ordering=

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PaymentPlan.objects.none()
        return selectors.plans_visible(self.request.user)

    def _get(self, pk):
        return selectors.plan_get_for_user(user=self.request.user, plan_id=pk)

    def _answer(self, plan, code=status.HTTP_200_OK):
        return Response(PaymentPlanSerializer(self._get(plan.pk)).data, status=code)

    @extend_schema(parameters=PLAN_PARAMETERS, responses={200: PaymentPlanSerializer(many=True)})
    def list(self, request):
        due = request.query_params.get("due", "")
        if due and due not in ("upcoming", "overdue"):
            raise exceptions.ValidationError({"due": [_("到期筛选无效。")]})
        filters = selectors.PlanFilters(
            q=request.query_params.get("q", "")[:100], due=due, contract_id=_int_param(request, "contract")
        )
        plans = selectors.plan_list(user=request.user, filters=filters).select_related("contract", "customer")
        page = self.paginate_queryset(plans)
        return self.get_paginated_response(PaymentPlanSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(PaymentPlanSerializer(self._get(pk)).data)

    @extend_schema(request=PaymentPlanWriteSerializer, responses={201: PaymentPlanSerializer})
    def create(self, request):
        data = PaymentPlanWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        contract = contract_get_for_user(user=request.user, contract_id=values.pop("contract"))
        plan = services.plan_create(
            actor=request.user, contract=contract, values=values, ip=client_ip(request)
        )
        return self._answer(plan, status.HTTP_201_CREATED)

    def _update(self, request, pk, partial):
        plan = self._get(pk)
        if partial:
            data = PaymentPlanWriteSerializer(data=request.data, partial=True)
        else:
            data = PaymentPlanWriteSerializer(data={"contract": plan.contract_id, **request.data})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        _no_contract_change(values, plan.contract_id)
        plan = services.plan_update(actor=request.user, plan=plan, values=values, ip=client_ip(request))
        return self._answer(plan)

    @extend_schema(request=PaymentPlanWriteSerializer, responses={200: PaymentPlanSerializer})
    def update(self, request, pk=None):
        return self._update(request, pk, partial=False)

    @extend_schema(request=PaymentPlanWriteSerializer, responses={200: PaymentPlanSerializer})
    def partial_update(self, request, pk=None):
        return self._update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        services.plan_delete(actor=request.user, plan=self._get(pk), ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReceivableViewSet(OrderingParamMixin, viewsets.GenericViewSet):
    """Receivables of contracts the caller may see, newest first."""

    module = "receivables"
    serializer_class = ReceivableSerializer
    action_permissions = {"submit": "receivables.create", "confirm": "receivables.approve"}
    ordering = ("-created_at", "-pk")
    ordering_fields = ("created_at", "code", "amount", "received_on")  # ?ordering=

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Receivable.objects.none()
        return selectors.receivables_visible(self.request.user)

    def _get(self, pk):
        return selectors.receivable_get_for_user(user=self.request.user, receivable_id=pk)

    def _answer(self, receivable, code=status.HTTP_200_OK):
        return Response(ReceivableSerializer(self._get(receivable.pk)).data, status=code)

    @extend_schema(parameters=RECEIVABLE_PARAMETERS, responses={200: ReceivableSerializer(many=True)})
    def list(self, request):
        status_value = request.query_params.get("status", "")
        if status_value and status_value not in Receivable.Status.values:
            raise exceptions.ValidationError({"status": [_("状态无效。")]})
        filters = selectors.ReceivableFilters(
            q=request.query_params.get("q", "")[:100],
            status=status_value,
            contract_id=_int_param(request, "contract"),
            customer_id=_int_param(request, "customer"),
        )
        receivables = selectors.receivable_list(user=request.user, filters=filters).select_related(
            "contract", "customer", "owner", "plan"
        )
        page = self.paginate_queryset(receivables)
        return self.get_paginated_response(ReceivableSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(ReceivableSerializer(self._get(pk)).data)

    @extend_schema(request=ReceivableWriteSerializer, responses={201: ReceivableSerializer})
    def create(self, request):
        data = ReceivableWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        contract = contract_get_for_user(user=request.user, contract_id=values.pop("contract"))
        receivable = services.receivable_create(
            actor=request.user, contract=contract, values=values, ip=client_ip(request)
        )
        return self._answer(receivable, status.HTTP_201_CREATED)

    def _update(self, request, pk, partial):
        receivable = self._get(pk)
        if partial:
            data = ReceivableWriteSerializer(data=request.data, partial=True)
        else:
            data = ReceivableWriteSerializer(data={"contract": receivable.contract_id, **request.data})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        _no_contract_change(values, receivable.contract_id)
        receivable = services.receivable_update(
            actor=request.user, receivable=receivable, values=values, ip=client_ip(request)
        )
        return self._answer(receivable)

    @extend_schema(request=ReceivableWriteSerializer, responses={200: ReceivableSerializer})
    def update(self, request, pk=None):
        return self._update(request, pk, partial=False)

    @extend_schema(request=ReceivableWriteSerializer, responses={200: ReceivableSerializer})
    def partial_update(self, request, pk=None):
        return self._update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        services.receivable_delete(actor=request.user, receivable=self._get(pk), ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: ReceivableSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send a draft or rejected receivable into its approval flow."""
        receivable = services.receivable_submit(
            actor=request.user, receivable=self._get(pk), ip=client_ip(request)
        )
        return self._answer(receivable)

    @extend_schema(request=None, responses={200: ReceivableSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm a receivable directly (receivables.approve) when no approval flow applies to it."""
        receivable = services.receivable_confirm(
            actor=request.user, receivable=self._get(pk), ip=client_ip(request)
        )
        return self._answer(receivable)
