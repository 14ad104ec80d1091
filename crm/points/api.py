"""REST endpoints for customer points (CUS-10).

GET /api/v1/points/?customer=<id>: ledger entries of customers the caller may see (customers.view),
newest first; a customer outside the caller's scope answers 404 like a missing one.
POST /api/v1/points/redeem/ and /api/v1/points/adjust/ ({customer, points, note}): need
customers.settings (403 otherwise), through the same services as the customer page.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.serializers import StrictSerializer
from crm.core.mixins import client_ip
from crm.customers.selectors import customers_visible
from crm.points import selectors, services
from crm.points.models import PointsEntry

MAX_DB_INT = 2**31 - 1


class PointsEntrySerializer(serializers.ModelSerializer):
    # A plain string, not an enum: several models have a `kind` (see SPECTACULAR_SETTINGS).
    kind = serializers.CharField(read_only=True, help_text="earn / redeem / adjust / reverse")
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contract_code = serializers.CharField(source="contract.code", read_only=True, allow_null=True)
    created_by_name = serializers.CharField(source="created_by.display_name", read_only=True, allow_null=True)

    class Meta:
        model = PointsEntry
        fields = (
            "id",
            "customer",
            "customer_name",
            "kind",
            "kind_label",
            "points",
            "contract",
            "contract_code",
            "note",
            "created_by",
            "created_by_name",
            "created_at",
        )
        read_only_fields = fields


class PointsWriteSerializer(StrictSerializer):
    customer = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT)
    points = serializers.IntegerField(
        min_value=-services.MAX_POINTS,
        max_value=services.MAX_POINTS,
        help_text="redeem: points to take (> 0); adjust: points to add (< 0 removes)",
    )
    note = serializers.CharField(max_length=services.MAX_NOTE, required=False, allow_blank=True)


class PointsResultSerializer(serializers.Serializer):
    entry = PointsEntrySerializer()
    balance = serializers.IntegerField()


def _visible_customer(user, customer_id):
    customer = customers_visible(user, include_pool=True).filter(pk=customer_id).first()
    if customer is None:
        raise exceptions.NotFound()
    return customer


class PointsEntryViewSet(viewsets.GenericViewSet):
    """Points ledger entries of the customers the caller may see, newest first."""

    permission = "customers.view"
    action_permissions = {"redeem": services.MANAGE_PERMISSION, "adjust": services.MANAGE_PERMISSION}
    serializer_class = PointsEntrySerializer
    ordering = ("-created_at", "-pk")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PointsEntry.objects.none()
        return selectors.points_entries_visible(self.request.user)

    @extend_schema(
        parameters=[OpenApiParameter("customer", OpenApiTypes.INT, description="one customer's entries")],
        responses={200: PointsEntrySerializer(many=True)},
    )
    def list(self, request):
        entries = self.get_queryset()
        raw = request.query_params.get("customer", "")
        if raw:
            if not raw.isdigit() or int(raw) > MAX_DB_INT:
                raise exceptions.ValidationError({"customer": [_("请输入有效的编号。")]})
            entries = entries.filter(customer=_visible_customer(request.user, int(raw)))
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(PointsEntrySerializer(page, many=True).data)

    def _write(self, request, function):
        data = PointsWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = _visible_customer(request.user, data.validated_data["customer"])
        entry = function(
            actor=request.user,
            customer=customer,
            points=data.validated_data["points"],
            note=data.validated_data.get("note", ""),
            ip=client_ip(request),
        )
        entry = selectors.points_entries_visible(request.user).get(pk=entry.pk)
        body = {"entry": entry, "balance": selectors.points_balance(customer)}
        return Response(PointsResultSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PointsWriteSerializer, responses={201: PointsResultSerializer})
    @action(detail=False, methods=["post"])
    def redeem(self, request):
        """Redeem points (customers.settings); refused when the balance is too small."""
        return self._write(request, services.points_redeem)

    @extend_schema(request=PointsWriteSerializer, responses={201: PointsResultSerializer})
    @action(detail=False, methods=["post"])
    def adjust(self, request):
        """Adjust points by hand with a reason (customers.settings)."""
        return self._write(request, services.points_adjust)
