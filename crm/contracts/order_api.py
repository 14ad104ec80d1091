"""POST /api/v1/contracts/<id>/order/<action>/ (action = paid / ship / complete): the order flow of
product orders (CTR-3) through crm.contracts.orders, like the contract page. contracts.edit is
needed (403); a contract outside the caller's scope answers 404; a step out of order answers 400
with its message and changes nothing."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.serializers import StrictSerializer
from crm.contracts import orders
from crm.contracts.models import Contract
from crm.contracts.selectors import contract_get_for_user
from crm.core.mixins import client_ip


class OrderStepSerializer(StrictSerializer):
    allow_negative = serializers.BooleanField(
        required=False,
        default=False,
        help_text="ship only: allow stock below zero (needs products.settings)",
    )


class OrderStateSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    order_status_label = serializers.CharField(source="get_order_status_display", read_only=True)

    class Meta:
        model = Contract
        fields = ("id", "code", "status", "status_label", "order_status", "order_status_label", "shipped_at")
        read_only_fields = fields


class OrderStepView(APIView):
    """Move a product order one step: paid (已付款), ship (已发货, takes stock), complete (已完成)."""

    permission = orders.EDIT_PERMISSION

    @extend_schema(
        request=OrderStepSerializer, responses={200: OrderStateSerializer}, operation_id="order_step"
    )
    def post(self, request, pk: int, action: str):
        if action not in orders.ACTIONS:
            raise exceptions.NotFound()
        contract = contract_get_for_user(user=request.user, contract_id=pk)
        data = OrderStepSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        kwargs = {"actor": request.user, "contract": contract, "ip": client_ip(request)}
        if action == "ship":
            kwargs["allow_negative"] = data.validated_data["allow_negative"]
        orders.ACTIONS[action](**kwargs)
        return Response(OrderStateSerializer(contract_get_for_user(user=request.user, contract_id=pk)).data)
