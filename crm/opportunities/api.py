"""REST endpoints for opportunities (OPP-1): CRUD, stage moves, win / lose, bulk transfer; stage groups.

Same services and access policy as the pages: an opportunity outside the caller's scope answers 404
like a missing one. Permissions: opportunities.view/create/edit/delete by method; stage, win and
lose need opportunities.edit; transfer needs opportunities.transfer. Stage groups are readable with
opportunities.view and writable with settings.settings.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.access import policy
from crm.accounts.models import User
from crm.api.ordering import OrderingParamMixin
from crm.api.serializers import StrictSerializer
from crm.core.mixins import client_ip
from crm.customers.models import Contact, Customer, DictionaryItem
from crm.opportunities import selectors, services
from crm.opportunities.forms import StatsFilterForm
from crm.opportunities.models import Opportunity, OpportunityLine, Stage, StageGroup
from crm.opportunities.stats import StatsFilters, opportunity_stats
from crm.products.models import Product

MAX_BULK = 5000
MAX_DB_INT = 2**31 - 1


class OpportunityLineSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = OpportunityLine
        fields = ("id", "product", "product_name", "quantity", "unit_price", "discount_percent", "amount")
        read_only_fields = fields


class OpportunitySerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    lines = OpportunityLineSerializer(many=True, read_only=True)

    class Meta:
        model = Opportunity
        fields = (
            "id",
            "code",
            "name",
            "customer",
            "customer_name",
            "contacts",
            "source",
            "expected_amount",
            "expected_close_date",
            "stage_group",
            "stage",
            "stage_name",
            "status",
            "status_label",
            "won_at",
            "lost_at",
            "lost_reason",
            "lost_note",
            "remark",
            "owner",
            "owner_name",
            "department",
            "created_by",
            "created_at",
            "updated_at",
            "lines",
        )
        read_only_fields = fields


class LineWriteSerializer(StrictSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.filter(is_active=True))
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default=1)
    unit_price = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="default: price policy",
    )
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, default=0
    )


class OpportunityWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.filter(deleted_at__isnull=True))
    contacts = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), many=True, required=False)
    source = serializers.PrimaryKeyRelatedField(
        queryset=DictionaryItem.objects.filter(kind=DictionaryItem.Kind.SOURCE),
        required=False,
        allow_null=True,
    )
    expected_amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    remark = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.all(),
        required=False,
        help_text="create only; default: the default group's first stage",
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text="create only; default: the caller",
    )
    lines = LineWriteSerializer(many=True, required=False, help_text="replace the product lines when given")


class StageMoveSerializer(StrictSerializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())


class LoseSerializer(StrictSerializer):
    lost_reason = serializers.PrimaryKeyRelatedField(
        queryset=DictionaryItem.objects.filter(kind=DictionaryItem.Kind.LOST_REASON),
        allow_null=True,
        required=False,
    )
    lost_note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class OpportunityTransferSerializer(StrictSerializer):
    opportunity_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DB_INT), min_length=1, max_length=MAX_BULK
    )
    to_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))


class OpportunityTransferResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="how many opportunities changed owner")
    not_found = serializers.ListField(
        child=serializers.IntegerField(), help_text="posted ids that do not exist or are outside the scope"
    )


LIST_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="name, customer name or code"),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Opportunity.Status.values),
    OpenApiParameter("stage", OpenApiTypes.INT),
    OpenApiParameter("owner", OpenApiTypes.INT),
    OpenApiParameter("customer", OpenApiTypes.INT),
    OpenApiParameter("sort", OpenApiTypes.STR, enum=list(selectors.SORTS)),
]


def _int_param(request, name):
    value = request.query_params.get(name, "")
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_DB_INT:
        raise exceptions.ValidationError({name: [_("请输入有效的编号。")]})
    return int(value)


def _lines(data) -> list[services.LineInput] | None:
    if "lines" not in data:
        return None
    return [
        services.LineInput(
            product=row["product"],
            quantity=row.get("quantity", 1),
            unit_price=row.get("unit_price"),
            discount_percent=row.get("discount_percent", 0),
        )
        for row in data["lines"]
    ]


class _StageFiguresSerializer(serializers.Serializer):
    stage = serializers.IntegerField(source="stage.pk")
    stage_name = serializers.CharField(source="stage.name")
    kind = serializers.CharField(source="stage.kind")
    win_rate = serializers.IntegerField(source="stage.win_rate")
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    weighted = serializers.DecimalField(max_digits=18, decimal_places=2)
    reached = serializers.IntegerField()


class _StatusFiguresSerializer(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)


class _LostReasonSerializer(serializers.Serializer):
    reason = serializers.IntegerField(source="reason.pk", allow_null=True, default=None)
    reason_name = serializers.CharField(source="reason.name", allow_null=True, default=None)
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)


class OpportunityStatsSerializer(serializers.Serializer):
    group = serializers.IntegerField(source="group.pk")
    group_name = serializers.CharField(source="group.name")
    total_count = serializers.IntegerField()
    total_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    win_rate = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    weighted_pipeline = serializers.DecimalField(max_digits=18, decimal_places=2)
    stages = _StageFiguresSerializer(many=True)
    statuses = _StatusFiguresSerializer(many=True)
    lost_reasons = _LostReasonSerializer(many=True)


class OpportunityViewSet(OrderingParamMixin, viewsets.GenericViewSet):
    """Opportunities the caller may see (owner in scope, customer visible), newest first."""

    module = "opportunities"
    serializer_class = OpportunitySerializer
    ordering = ("-created_at", "-pk")
    ordering_fields = ("created_at", "updated_at", "code", "name", "expected_amount")  # ?ordering=
    action_permissions = {
        "transfer": "opportunities.transfer",
        "stage": "opportunities.edit",
        "win": "opportunities.edit",
        "lose": "opportunities.edit",
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Opportunity.objects.none()
        return selectors.opportunities_visible(self.request.user)

    def _get(self, request, pk) -> Opportunity:
        if not str(pk).isdigit() or int(pk) > MAX_DB_INT:
            raise exceptions.NotFound
        return selectors.opportunity_get_for_user(user=request.user, opportunity_id=int(pk))

    @staticmethod
    def _out(opp) -> dict:
        opp = (
            Opportunity.objects.select_related("owner", "customer", "stage")
            .prefetch_related("contacts", "lines__product")
            .get(pk=opp.pk)
        )
        return OpportunitySerializer(opp).data

    @extend_schema(parameters=LIST_PARAMETERS, responses={200: OpportunitySerializer(many=True)})
    def list(self, request):
        status_value = request.query_params.get("status", "")
        if status_value and status_value not in Opportunity.Status.values:
            raise exceptions.ValidationError({"status": [_("状态无效。")]})
        filters = selectors.OpportunityFilters(
            q=request.query_params.get("q", "")[:100],
            status=status_value,
            stage_id=_int_param(request, "stage"),
            owner_id=_int_param(request, "owner"),
            customer_id=_int_param(request, "customer"),
            sort=request.query_params.get("sort", "created"),
        )
        order = selectors.SORTS.get(filters.sort, "created_at")
        rows = (
            selectors.opportunity_list(user=request.user, filters=filters)
            .select_related("owner", "customer", "stage")
            .prefetch_related("contacts", "lines__product")
            .order_by(f"-{order}", "-pk")
        )
        self.ordering = (f"-{order}", "-pk")  # the paginator orders by view.ordering
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(OpportunitySerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self._out(self._get(request, pk)))

    @extend_schema(request=OpportunityWriteSerializer, responses={201: OpportunitySerializer})
    def create(self, request):
        data = OpportunityWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        contacts = values.pop("contacts", [])
        lines = _lines(values)
        values.pop("lines", None)
        opp = services.opportunity_create(
            actor=request.user,
            values=values,
            contacts=contacts,
            lines=lines,
            stage=values.pop("stage", None),
            owner=values.pop("owner", None),
            ip=client_ip(request),
        )
        return Response(self._out(opp), status=status.HTTP_201_CREATED)

    def _update(self, request, pk, partial):
        opp = self._get(request, pk)
        data = OpportunityWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "owner" in values:
            raise exceptions.ValidationError({"owner": [_("请用转移操作更换负责人。")]})
        if "stage" in values:
            raise exceptions.ValidationError({"stage": [_("请用阶段操作推进商机。")]})
        contacts = values.pop("contacts", None)
        lines = _lines(values)
        values.pop("lines", None)
        opp = services.opportunity_update(
            actor=request.user,
            opportunity=opp,
            values=values,
            contacts=contacts,
            lines=lines,
            ip=client_ip(request),
        )
        return Response(self._out(opp))

    @extend_schema(request=OpportunityWriteSerializer, responses={200: OpportunitySerializer})
    def update(self, request, pk=None):
        return self._update(request, pk, partial=False)

    @extend_schema(request=OpportunityWriteSerializer, responses={200: OpportunitySerializer})
    def partial_update(self, request, pk=None):
        return self._update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        services.opportunity_delete(
            actor=request.user, opportunity=self._get(request, pk), ip=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=StageMoveSerializer, responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def stage(self, request, pk=None):
        """Move to another open stage of the same group (赢单/输单 go through win/lose)."""
        opp = self._get(request, pk)
        data = StageMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        opp = services.opportunity_change_stage(
            actor=request.user, opportunity=opp, stage=data.validated_data["stage"], ip=client_ip(request)
        )
        return Response(self._out(opp))

    @extend_schema(request=None, responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def win(self, request, pk=None):
        opp = services.opportunity_win(
            actor=request.user, opportunity=self._get(request, pk), ip=client_ip(request)
        )
        return Response(self._out(opp))

    @extend_schema(request=LoseSerializer, responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        opp = self._get(request, pk)
        data = LoseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        opp = services.opportunity_lose(
            actor=request.user,
            opportunity=opp,
            reason=data.validated_data.get("lost_reason"),
            note=data.validated_data.get("lost_note", ""),
            ip=client_ip(request),
        )
        return Response(self._out(opp))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "group", OpenApiTypes.INT, description="Stage group (default: the default group)"
            ),
            OpenApiParameter("created_from", OpenApiTypes.DATE),
            OpenApiParameter("created_to", OpenApiTypes.DATE),
            OpenApiParameter("owner", OpenApiTypes.INT),
        ],
        responses={200: OpportunityStatsSerializer},
    )
    @action(detail=False, methods=["get"])
    def stats(self, request):
        """OPP-2 figures over the opportunities the caller may see: by stage, by status, win rate,
        funnel and lost reasons."""
        form = StatsFilterForm(request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        data = form.cleaned_data
        group = data.get("group") or selectors.stage_groups_active().first()
        if group is None:
            raise exceptions.NotFound(_("还没有启用的商机阶段组"))
        figures = opportunity_stats(
            user=request.user,
            group=group,
            filters=StatsFilters(
                owner_id=_int_param(request, "owner"),
                created_from=data.get("created_from"),
                created_to=data.get("created_to"),
            ),
        )
        return Response(OpportunityStatsSerializer(figures).data)

    @extend_schema(
        request=OpportunityTransferSerializer, responses={200: OpportunityTransferResultSerializer}
    )
    @action(detail=False, methods=["post"])
    def transfer(self, request):
        """Give opportunities to another owner; one log entry per opportunity."""
        data = OpportunityTransferSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        requested = set(data.validated_data["opportunity_ids"])
        to_user = data.validated_data["to_user"]
        if not policy.visible_users(request.user).filter(pk=to_user.pk).exists():
            raise exceptions.ValidationError({"to_user": [_("只能把商机转移给您的数据范围内的员工。")]})
        rows = selectors.opportunities_visible(request.user).filter(pk__in=requested)
        found = set(rows.values_list("pk", flat=True))
        count = services.opportunities_transfer(
            actor=request.user, opportunities=rows, to_user=to_user, ip=client_ip(request)
        )
        return Response({"count": count, "not_found": sorted(requested - found)})


class StageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ("id", "name", "order", "win_rate", "kind")
        read_only_fields = ("id", "kind")


class StageGroupSerializer(serializers.ModelSerializer):
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = StageGroup
        fields = ("id", "name", "is_default", "is_active", "stages")
        read_only_fields = fields


class StageInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64)
    win_rate = serializers.IntegerField(min_value=0, max_value=100)


class StageGroupWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64)
    is_default = serializers.BooleanField(default=False)
    stages = StageInputSerializer(many=True, help_text="the open stages in order; 赢单 and 输单 are added")


class StageGroupViewSet(viewsets.GenericViewSet):
    """Stage groups with their stages; read with opportunities.view, create with settings.settings."""

    serializer_class = StageGroupSerializer
    permission = "opportunities.view"
    action_permissions = {"create": "settings.settings"}
    pagination_class = None

    def get_queryset(self):
        return StageGroup.objects.prefetch_related("stages").order_by("-is_default", "name", "pk")

    def list(self, request):
        return Response(StageGroupSerializer(self.get_queryset(), many=True).data)

    def retrieve(self, request, pk=None):
        if not str(pk).isdigit() or int(pk) > MAX_DB_INT:
            raise exceptions.NotFound
        group = self.get_queryset().filter(pk=int(pk)).first()
        if group is None:
            raise exceptions.NotFound
        return Response(StageGroupSerializer(group).data)

    @extend_schema(request=StageGroupWriteSerializer, responses={201: StageGroupSerializer})
    def create(self, request):
        data = StageGroupWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.stage_group_create(
            actor=request.user,
            name=data.validated_data["name"],
            stages=[(s["name"], s["win_rate"]) for s in data.validated_data["stages"]],
            is_default=data.validated_data["is_default"],
            ip=client_ip(request),
        )
        return Response(
            StageGroupSerializer(self.get_queryset().get(pk=group.pk)).data, status=status.HTTP_201_CREATED
        )
