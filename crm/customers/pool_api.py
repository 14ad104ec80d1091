"""REST endpoints of the public customer pool (公海): the same services, messages and access policy
as the pages. A customer or application outside what the caller may see answers 404."""

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.access import policy
from crm.accounts.models import User
from crm.api.ordering import OrderingParamMixin
from crm.api.serializers import StrictSerializer
from crm.core.mixins import client_ip
from crm.customers import pool_selectors, pool_services, recycle
from crm.customers.models import ClaimRequest, Customer, Pool, RecycleRule
from crm.customers.selectors import pools_visible

ERROR_RESPONSE = inline_serializer("PoolErrorResponse", {"detail": serializers.ListField()})


def _request_user(serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


# ---------------------------------------------------------------- output


class PoolCustomerSerializer(serializers.ModelSerializer):
    pool_name = serializers.CharField(source="pool.name", read_only=True, default=None, allow_null=True)
    owner_name = serializers.CharField(
        source="owner.display_name", read_only=True, default=None, allow_null=True
    )
    previous_owner_name = serializers.CharField(
        source="previous_owner.display_name", read_only=True, default=None, allow_null=True
    )
    is_public = serializers.BooleanField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "code",
            "name",
            "pool",
            "pool_name",
            "is_public",
            "owner",
            "owner_name",
            "claimed_at",
            "previous_owner",
            "previous_owner_name",
            "released_at",
            "release_reason",
            "created_at",
        ]


class ClaimRequestSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    applicant_name = serializers.CharField(source="applicant.display_name", read_only=True)

    class Meta:
        model = ClaimRequest
        fields = [
            "id",
            "customer",
            "customer_name",
            "pool",
            "applicant",
            "applicant_name",
            "reason",
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
            "created_at",
        ]


class ClaimResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=["claimed", "applied"])
    customer = PoolCustomerSerializer()
    application = ClaimRequestSerializer(allow_null=True)


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


# ---------------------------------------------------------------- input


class ClaimInputSerializer(StrictSerializer):
    customer_id = serializers.IntegerField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class DecisionInputSerializer(StrictSerializer):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CustomerIdsField(serializers.ListField):
    child = serializers.IntegerField(min_value=1)

    def __init__(self, **kwargs):
        super().__init__(min_length=1, max_length=pool_services.MAX_BATCH, **kwargs)


class AssignInputSerializer(StrictSerializer):
    customer_ids = CustomerIdsField()
    to_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _request_user(self)
        # People outside the caller's scope do not exist for them; disabled ones get the
        # service's clear refusal.
        self.fields["to_user"].queryset = policy.visible_users(user) if user else User.objects.none()


class RecallInputSerializer(StrictSerializer):
    customer_ids = CustomerIdsField()
    pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.none())
    reason = serializers.CharField(max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _request_user(self)
        self.fields["pool"].queryset = pools_visible(user) if user else Pool.objects.none()


class ReleaseInputSerializer(StrictSerializer):
    customer_id = serializers.IntegerField()
    reason = serializers.CharField(max_length=200)
    pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.none(), required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _request_user(self)
        self.fields["pool"].queryset = pools_visible(user) if user else Pool.objects.none()


def _ids(values) -> QuerySet[Customer]:
    return Customer.objects.filter(pk__in=values)


# ---------------------------------------------------------------- views


@extend_schema(tags=["pool"])
class PoolViewSet(OrderingParamMixin, viewsets.GenericViewSet):
    """The public customer pool (公海): list, claim, apply, assign, recall, release."""

    serializer_class = PoolCustomerSerializer
    ordering = ("-created_at", "-id")
    ordering_fields = ("created_at", "name", "code")  # ?ordering= on GET /pool/customers/
    ordering_actions = ("customers",)
    action_permissions = {
        "customers": "pool.view",
        "claim": "pool.create",
        "apply": "pool.create",
        "assign": "pool.transfer",
        "recall": "pool.transfer",
        "release": None,  # the owner of the customer, checked by the service
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()
        params = self.request.query_params
        return pool_selectors.pool_customer_list(
            user=self.request.user,
            query=params.get("q", "").strip()[:100],
            pool_id=params.get("pool"),
            status="claimed" if params.get("status") == "claimed" else "public",
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="name, code, phone, pinyin or initials"),
            OpenApiParameter("pool", OpenApiTypes.INT, description="one pool"),
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=["public", "claimed"],
                description="public (default) or claimed",
            ),
        ],
        responses={200: PoolCustomerSerializer(many=True)},
    )
    @action(detail=False, methods=["get"])
    def customers(self, request):
        """Public customers of the pools the caller may see, or (status=claimed) claimed ones in scope."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PoolCustomerSerializer(page, many=True).data)

    @extend_schema(
        request=ClaimInputSerializer,
        responses={200: ClaimResultSerializer, 201: ClaimResultSerializer, 400: ERROR_RESPONSE},
    )
    @action(detail=False, methods=["post"])
    def claim(self, request):
        """Claim a public customer; in a pool that needs approval this files an application (201)."""
        data = ClaimInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = pool_selectors.claimable_customer_get(
            user=request.user, customer_id=data.validated_data["customer_id"]
        )
        result = pool_services.pool_claim(
            actor=request.user, customer=customer, reason=data.validated_data["reason"], ip=client_ip(request)
        )
        return self._claim_result(result, customer)

    @extend_schema(request=ClaimInputSerializer, responses={201: ClaimResultSerializer, 400: ERROR_RESPONSE})
    @action(detail=False, methods=["post"])
    def apply(self, request):
        """Apply to claim a customer from a pool that needs approval."""
        data = ClaimInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = pool_selectors.claimable_customer_get(
            user=request.user, customer_id=data.validated_data["customer_id"]
        )
        application = pool_services.pool_apply(
            actor=request.user, customer=customer, reason=data.validated_data["reason"], ip=client_ip(request)
        )
        return self._claim_result(application, customer)

    def _claim_result(self, result, customer):
        fresh = Customer.objects.select_related("pool", "owner", "previous_owner").get(pk=customer.pk)
        if isinstance(result, ClaimRequest):
            body = {"result": "applied", "customer": fresh, "application": result}
            return Response(ClaimResultSerializer(body).data, status=status.HTTP_201_CREATED)
        body = {"result": "claimed", "customer": fresh, "application": None}
        return Response(ClaimResultSerializer(body).data)

    @extend_schema(request=AssignInputSerializer, responses={200: CountSerializer, 400: ERROR_RESPONSE})
    @action(detail=False, methods=["post"])
    def assign(self, request):
        """Assign public customers to an active person in the caller's scope (all or nothing)."""
        data = AssignInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        count = pool_services.pool_assign(
            actor=request.user,
            customers=_ids(data.validated_data["customer_ids"]),
            to_user=data.validated_data["to_user"],
            ip=client_ip(request),
        )
        return Response({"count": count})

    @extend_schema(request=RecallInputSerializer, responses={200: CountSerializer, 400: ERROR_RESPONSE})
    @action(detail=False, methods=["post"])
    def recall(self, request):
        """Recall owned customers in the caller's scope into a pool, with a reason (all or nothing)."""
        data = RecallInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        count = pool_services.pool_recall(
            actor=request.user,
            customers=_ids(data.validated_data["customer_ids"]),
            pool=data.validated_data["pool"],
            reason=data.validated_data["reason"],
            ip=client_ip(request),
        )
        return Response({"count": count})

    @extend_schema(
        request=ReleaseInputSerializer, responses={200: PoolCustomerSerializer, 400: ERROR_RESPONSE}
    )
    @action(detail=False, methods=["post"])
    def release(self, request):
        """The owner gives a customer back to a pool (退回公海)."""
        data = ReleaseInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        customer = pool_selectors.owned_customer_get(
            user=request.user, customer_id=data.validated_data["customer_id"]
        )
        customer = pool_services.pool_release(
            actor=request.user,
            customer=customer,
            reason=data.validated_data["reason"],
            pool=data.validated_data.get("pool"),
            ip=client_ip(request),
        )
        return Response(PoolCustomerSerializer(customer).data)


@extend_schema(tags=["pool"])
class ClaimRequestViewSet(viewsets.GenericViewSet):
    """Applications waiting for a decision in the pools the caller sees (pool.edit)."""

    serializer_class = ClaimRequestSerializer
    ordering = ("-created_at", "-id")
    action_permissions = {"list": "pool.edit", "approve": "pool.edit", "reject": "pool.edit"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ClaimRequest.objects.none()
        return pool_selectors.applications_to_decide(self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ClaimRequestSerializer(page, many=True).data)

    def _decide(self, request, pk, service):
        data = DecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = pool_selectors.application_get(user=request.user, application_id=pk)
        application = service(
            actor=request.user,
            application=application,
            note=data.validated_data["note"],
            ip=client_ip(request),
        )
        return Response(ClaimRequestSerializer(application).data)

    @extend_schema(
        request=DecisionInputSerializer, responses={200: ClaimRequestSerializer, 400: ERROR_RESPONSE}
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve: the customer goes to the applicant, who gets a message."""
        return self._decide(request, pk, pool_services.pool_approve)

    @extend_schema(
        request=DecisionInputSerializer, responses={200: ClaimRequestSerializer, 400: ERROR_RESPONSE}
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject: the applicant gets a message."""
        return self._decide(request, pk, pool_services.pool_reject)


# ---------------------------------------------------------------- recycle rules (POOL-4)


class RecycleRuleSerializer(serializers.ModelSerializer):
    days_by_level = serializers.DictField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = RecycleRule
        fields = [
            "id",
            "name",
            "kind",
            "days",
            "days_by_level",
            "statuses",
            "value_levels",
            "departments",
            "exempt_statuses",
            "exempt_scheduled",
            "exempt_open_opportunities",
            "warn_days_before",
            "pool",
            "is_active",
            "last_run_at",
            "last_run_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RecycleRuleInputSerializer(StrictSerializer):
    """Ranges and dictionary kinds are checked by the service, with the same messages as the page."""

    name = serializers.CharField(max_length=200, allow_blank=True)
    kind = serializers.ChoiceField(choices=RecycleRule.Kind.choices)
    days = serializers.IntegerField()
    days_by_level = serializers.DictField(
        child=serializers.IntegerField(allow_null=True), required=False, default=dict
    )
    statuses = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    value_levels = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    departments = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    exempt_statuses = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    exempt_scheduled = serializers.BooleanField(required=False, default=False)
    exempt_open_opportunities = serializers.BooleanField(required=False, default=False)
    warn_days_before = serializers.IntegerField(required=False, default=0)
    pool = serializers.PrimaryKeyRelatedField(
        queryset=Pool.objects.all(), required=False, allow_null=True, default=None
    )
    is_active = serializers.BooleanField(required=False, default=True)


class RecyclePreviewRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    owner = serializers.IntegerField(source="owner_id")
    owner_name = serializers.CharField(source="owner.display_name")
    value_level = serializers.CharField(source="value_level.name", default=None, allow_null=True)
    last_followup_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(source="recycle_due_at")
    reason = serializers.CharField(source="recycle_why")


class RecyclePreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    customers = RecyclePreviewRowSerializer(many=True, source="rows")


def _rule_values(rule: RecycleRule) -> dict:
    return {
        "name": rule.name,
        "kind": rule.kind,
        "days": rule.days,
        "days_by_level": rule.days_by_level,
        "statuses": [s.pk for s in rule.statuses.all()],
        "value_levels": [s.pk for s in rule.value_levels.all()],
        "departments": [d.pk for d in rule.departments.all()],
        "exempt_statuses": [s.pk for s in rule.exempt_statuses.all()],
        "exempt_scheduled": rule.exempt_scheduled,
        "exempt_open_opportunities": rule.exempt_open_opportunities,
        "warn_days_before": rule.warn_days_before,
        "pool": rule.pool,
        "is_active": rule.is_active,
    }


@extend_schema(tags=["pool"])
class RecycleRuleViewSet(viewsets.GenericViewSet):
    """Recycle rules (回收规则): list, create, change, delete, preview and run now (pool.settings)."""

    serializer_class = RecycleRuleSerializer
    permission = "pool.settings"
    ordering = "pk"

    def get_queryset(self):
        return RecycleRule.objects.prefetch_related(
            "statuses", "value_levels", "departments", "exempt_statuses"
        )

    def _rule(self, pk) -> RecycleRule:
        try:
            return recycle.rules_loaded(rule_ids=[int(pk)])[0]
        except (TypeError, ValueError, IndexError) as exc:
            raise Http404 from exc

    @extend_schema(responses={200: RecycleRuleSerializer(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(RecycleRuleSerializer(page, many=True).data)

    @extend_schema(responses={200: RecycleRuleSerializer})
    def retrieve(self, request, pk=None):
        return Response(RecycleRuleSerializer(self._rule(pk)).data)

    @extend_schema(
        request=RecycleRuleInputSerializer, responses={201: RecycleRuleSerializer, 400: ERROR_RESPONSE}
    )
    def create(self, request):
        data = RecycleRuleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = recycle.recycle_rule_save(
            actor=request.user, rule=None, ip=client_ip(request), **data.validated_data
        )
        return Response(RecycleRuleSerializer(self._rule(rule.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RecycleRuleInputSerializer, responses={200: RecycleRuleSerializer, 400: ERROR_RESPONSE}
    )
    def partial_update(self, request, pk=None):
        rule = self._rule(pk)
        data = RecycleRuleInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = _rule_values(rule) | {key: data.validated_data[key] for key in request.data}
        rule = recycle.recycle_rule_save(actor=request.user, rule=rule, ip=client_ip(request), **values)
        return Response(RecycleRuleSerializer(self._rule(rule.pk)).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        recycle.recycle_rule_delete(actor=request.user, rule=self._rule(pk), ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: RecyclePreviewSerializer})
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        """How many customers the rule would recycle now, and the first 50 with the reason."""
        return Response(RecyclePreviewSerializer(recycle.recycle_preview(self._rule(pk))).data)

    @extend_schema(request=None, responses={200: CountSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Run the rule now (立即执行), active or not; returns how many customers were recycled."""
        results = recycle.recycle_run(actor=request.user, rules=[self._rule(pk)], ip=client_ip(request))
        return Response({"count": sum(results.values())})
