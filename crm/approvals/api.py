"""REST endpoints of the approval engine, with the same services and rules as the pages.

/approval-flows/ configures flows (the kind's permission, e.g. contracts.settings or
settings.settings); /approval-tasks/ are the caller's own tasks (approve / reject);
/approval-requests/ are the requests the caller submitted or holds a task on (withdraw /
resubmit for the applicant). Anything else answers 404 like a missing record.
"""

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.accounts.models import Role, User
from crm.api.serializers import StrictSerializer
from crm.approvals import selectors, services
from crm.approvals.models import ApprovalFlow, ApprovalRequest, ApprovalStep, ApprovalTask
from crm.core.mixins import client_ip

ERROR_RESPONSE = inline_serializer("ApprovalErrorResponse", {"detail": serializers.ListField()})
STATUS_HELP = "; ".join(f"{value}" for value in ApprovalRequest.Status.values)
TASK_STATUS_HELP = "; ".join(f"{value}" for value in ApprovalTask.Status.values)


# ---------------------------------------------------------------- output


class ApprovalStepSerializer(serializers.ModelSerializer):
    approver_type = serializers.CharField(read_only=True, help_text="user | role | manager")
    mode = serializers.CharField(read_only=True, help_text="any (one vote) | all (everyone must approve)")

    class Meta:
        model = ApprovalStep
        fields = [
            "id",
            "order",
            "name",
            "approver_type",
            "approver_user",
            "approver_role",
            "mode",
            "min_amount",
            "max_amount",
            "doc_types",
        ]
        read_only_fields = fields


class ApprovalFlowSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(read_only=True)
    steps = ApprovalStepSerializer(many=True, read_only=True)

    class Meta:
        model = ApprovalFlow
        fields = [
            "id",
            "name",
            "kind",
            "kind_label",
            "description",
            "is_active",
            "priority",
            "steps",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ApprovalTaskSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text=TASK_STATUS_HELP)
    mode = serializers.CharField(read_only=True, help_text="any | all")
    approver_name = serializers.CharField(source="approver.display_name", read_only=True)
    request_title = serializers.CharField(source="request.title", read_only=True)
    request_status = serializers.CharField(source="request.status", read_only=True, help_text=STATUS_HELP)
    applicant = serializers.IntegerField(source="request.applicant_id", read_only=True)
    applicant_name = serializers.CharField(source="request.applicant.display_name", read_only=True)

    class Meta:
        model = ApprovalTask
        fields = [
            "id",
            "request",
            "request_title",
            "request_status",
            "applicant",
            "applicant_name",
            "round",
            "step_order",
            "step_name",
            "mode",
            "approver",
            "approver_name",
            "status",
            "comment",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class ApprovalRequestSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    kind_label = serializers.CharField(read_only=True)
    document_type = serializers.SerializerMethodField()
    applicant_name = serializers.CharField(source="applicant.display_name", read_only=True)
    flow_name = serializers.CharField(source="flow.name", read_only=True)
    current_step_name = serializers.CharField(
        source="current_step.name", read_only=True, default=None, allow_null=True
    )
    tasks = ApprovalTaskSerializer(many=True, read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = [
            "id",
            "kind",
            "kind_label",
            "title",
            "document_type",
            "object_id",
            "flow",
            "flow_name",
            "applicant",
            "applicant_name",
            "status",
            "round",
            "current_step",
            "current_step_name",
            "amount",
            "doc_type",
            "submitted_at",
            "decided_at",
            "tasks",
        ]
        read_only_fields = fields

    def get_document_type(self, obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"


# ---------------------------------------------------------------- input


class ApprovalStepInputSerializer(StrictSerializer):
    """Amounts and approvers are checked by the service, with the same messages as the page."""

    name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    approver_type = serializers.ChoiceField(
        choices=ApprovalStep.ApproverType.choices, default=ApprovalStep.ApproverType.USER
    )
    approver_user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, default=None
    )
    approver_role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(), required=False, allow_null=True, default=None
    )
    mode = serializers.ChoiceField(choices=ApprovalStep.Mode.choices, default=ApprovalStep.Mode.ANY)
    min_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, default=None
    )
    max_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, default=None
    )
    doc_types = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list, max_length=50
    )


class ApprovalFlowInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    kind = serializers.CharField(
        max_length=32, help_text="contract | receivable | credit | expense | general"
    )
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(required=False, default=True)
    priority = serializers.IntegerField(required=False, default=0, min_value=-1000, max_value=1000)
    steps = serializers.ListField(child=ApprovalStepInputSerializer(), max_length=services.MAX_STEPS)


class ApprovalDecisionInputSerializer(StrictSerializer):
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# ---------------------------------------------------------------- views


@extend_schema(tags=["approvals"])
class ApprovalFlowViewSet(viewsets.GenericViewSet):
    """Approval flows (审批流) of the kinds the caller may configure."""

    serializer_class = ApprovalFlowSerializer
    ordering = ("kind", "-priority", "id")
    action_permissions = {
        "list": None,
        "retrieve": None,
        "create": None,
        "update": None,
    }  # each kind names its own permission; checked in `initial` and by the service

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not services.configurable_kinds(request.user):
            raise PermissionDenied

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApprovalFlow.objects.none()
        return selectors.flows_configurable(self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApprovalFlowSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        flow = selectors.flow_get_for_user(user=request.user, flow_id=pk)
        return Response(ApprovalFlowSerializer(flow).data)

    def _save(self, request, flow=None):
        data = ApprovalFlowInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        steps = [dict(step) for step in values.pop("steps")]
        saved = services.flow_save(
            actor=request.user, flow=flow, steps=steps, ip=client_ip(request), **values
        )
        return selectors.flow_get_for_user(user=request.user, flow_id=saved.pk)

    @extend_schema(
        request=ApprovalFlowInputSerializer, responses={201: ApprovalFlowSerializer, 400: ERROR_RESPONSE}
    )
    def create(self, request):
        flow = self._save(request)
        return Response(ApprovalFlowSerializer(flow).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ApprovalFlowInputSerializer, responses={200: ApprovalFlowSerializer, 400: ERROR_RESPONSE}
    )
    def update(self, request, pk=None):
        flow = selectors.flow_get_for_user(user=request.user, flow_id=pk)
        return Response(ApprovalFlowSerializer(self._save(request, flow)).data)


@extend_schema(tags=["approvals"])
class ApprovalTaskViewSet(viewsets.GenericViewSet):
    """The caller's own approval tasks (审批任务); nobody else's exist here."""

    serializer_class = ApprovalTaskSerializer
    ordering = ("-created_at", "-id")
    action_permissions = {"list": None, "retrieve": None, "approve": None, "reject": None}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApprovalTask.objects.none()
        qs = selectors.tasks_of(self.request.user)
        wanted = self.request.query_params.get("status")
        if wanted in ApprovalTask.Status.values:
            qs = qs.filter(status=wanted)
        return qs

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=list(ApprovalTask.Status.values), description="one status"
            )
        ]
    )
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApprovalTaskSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        task = selectors.task_get_for_approver(user=request.user, task_id=pk)
        return Response(ApprovalTaskSerializer(task).data)

    def _decide(self, request, pk, service):
        data = ApprovalDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = selectors.task_get_for_approver(user=request.user, task_id=pk)
        service(actor=request.user, task=task, comment=data.validated_data["comment"], ip=client_ip(request))
        return Response(
            ApprovalTaskSerializer(selectors.task_get_for_approver(user=request.user, task_id=pk)).data
        )

    @extend_schema(
        request=ApprovalDecisionInputSerializer, responses={200: ApprovalTaskSerializer, 400: ERROR_RESPONSE}
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Agree (同意); the request moves on when the step is complete."""
        return self._decide(request, pk, services.approve)

    @extend_schema(
        request=ApprovalDecisionInputSerializer, responses={200: ApprovalTaskSerializer, 400: ERROR_RESPONSE}
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject (驳回) with a comment (required): the request goes back to the applicant."""
        return self._decide(request, pk, services.reject)


@extend_schema(tags=["approvals"])
class ApprovalRequestViewSet(viewsets.GenericViewSet):
    """Approval requests the caller submitted or holds a task on."""

    serializer_class = ApprovalRequestSerializer
    ordering = ("-submitted_at", "-id")
    action_permissions = {"list": None, "retrieve": None, "withdraw": None, "resubmit": None}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApprovalRequest.objects.none()
        qs = selectors.requests_visible(self.request.user).select_related("content_type")
        wanted = self.request.query_params.get("status")
        if wanted in ApprovalRequest.Status.values:
            qs = qs.filter(status=wanted)
        return qs.prefetch_related("tasks__approver", "tasks__request__applicant")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=list(ApprovalRequest.Status.values), description="one status"
            )
        ]
    )
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApprovalRequestSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        approval = selectors.request_get_for_user(user=request.user, request_id=pk)
        return Response(ApprovalRequestSerializer(approval).data)

    def _act(self, request, pk, service):
        approval = selectors.request_get_for_user(user=request.user, request_id=pk)
        service(actor=request.user, request=approval, ip=client_ip(request))
        return Response(
            ApprovalRequestSerializer(selectors.request_get_for_user(user=request.user, request_id=pk)).data
        )

    @extend_schema(request=None, responses={200: ApprovalRequestSerializer, 400: ERROR_RESPONSE})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The applicant takes back a pending request."""
        return self._act(request, pk, services.withdraw)

    @extend_schema(request=None, responses={200: ApprovalRequestSerializer, 400: ERROR_RESPONSE})
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        """The applicant starts a new round after a rejection or withdrawal."""
        return self._act(request, pk, services.resubmit)
