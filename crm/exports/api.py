"""Export API (SYS-3): POST /api/v1/exports/ starts an export of a list, GET /api/v1/exports/{id}/
follows it (status, progress, download URL). Only the caller's own jobs are visible (404 for
anyone else's); the list's export permission ("customers.export", …) is required to start one.
A small export is written before the answer (status "done"); a large one is queued."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.serializers import StrictSerializer
from crm.core.mixins import client_ip
from crm.exports import registry, selectors, services
from crm.exports.models import ExportJob


class ExportJobSerializer(serializers.ModelSerializer):
    list = serializers.CharField(source="list_key", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    progress = serializers.SerializerMethodField(help_text="percent done, 0–100")
    download_url = serializers.SerializerMethodField(help_text="set once the file is ready")

    class Meta:
        model = ExportJob
        fields = (
            "id",
            "list",
            "format",
            "scope",
            "columns",
            "status",
            "status_label",
            "total",
            "done_rows",
            "progress",
            "filename",
            "download_url",
            "error",
            "created_at",
            "finished_at",
        )
        read_only_fields = fields

    def get_progress(self, job: ExportJob) -> int:
        return job.percent

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != ExportJob.Status.DONE or not job.file_path:
            return None
        url = reverse("export-download", args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class ExportCreateSerializer(StrictSerializer):
    list = serializers.ChoiceField(choices=sorted(registry.LISTS), help_text="the list to export")
    format = serializers.ChoiceField(choices=ExportJob.Format.values, default=ExportJob.Format.XLSX)
    scope = serializers.ChoiceField(
        choices=ExportJob.Scope.values,
        default=ExportJob.Scope.ALL,
        help_text="all: every row matching params; selected: only `ids` (within what params match)",
    )
    params = serializers.JSONField(
        required=False,
        help_text='the list page\'s query string, as a string ("q=abc&status=new") or an object',
    )
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=services.MAX_IDS,
        help_text="record ids for scope=selected; ids the caller may not see are ignored",
    )
    columns = serializers.ChoiceField(
        choices=ExportJob.ColumnsMode.values,
        default=ExportJob.ColumnsMode.VISIBLE,
        help_text="visible: the columns the list shows; all: every exportable field",
    )


class ExportJobViewSet(viewsets.GenericViewSet):
    """The caller's exports."""

    serializer_class = ExportJobSerializer
    queryset = ExportJob.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExportJob.objects.none()
        return selectors.jobs_of(self.request.user)

    @extend_schema(
        request=ExportCreateSerializer,
        responses={
            201: ExportJobSerializer,
            400: OpenApiResponse(description="bad input (unknown list, format, filter, no ids)"),
            403: OpenApiResponse(description="no export permission on that list"),
        },
    )
    def create(self, request):
        """Start an export; answers the job (status done for small sets, queued for large ones)."""
        data = ExportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job = services.export_create(
            actor=request.user,
            list_key=values["list"],
            format=values["format"],
            scope=values["scope"],
            params=values.get("params"),
            ids=values.get("ids"),
            columns=values["columns"],
            ip=client_ip(request),
        )
        return Response(
            ExportJobSerializer(job, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        responses={200: ExportJobSerializer, 404: OpenApiResponse(description="not the caller's job")}
    )
    def retrieve(self, request, pk=None):
        job = selectors.job_get_for_user(user=request.user, job_id=pk)
        return Response(ExportJobSerializer(job, context={"request": request}).data)

    @extend_schema(responses={200: ExportJobSerializer(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            ExportJobSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="not the caller's job, not finished, or the file expired"),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The exported file (.xlsx or .csv) of a finished job."""
        from crm.exports.views import download_response

        return download_response(selectors.job_get_for_user(user=request.user, job_id=pk))
