"""Import API (SYS-3).

POST /api/v1/imports/ (multipart: file, target, dedupe, optional mapping) uploads a file and answers
its dry run (counts and every error, nothing written); POST /api/v1/imports/{id}/run/ starts the
import (a job); GET /api/v1/imports/{id}/ follows it. Only the caller's own jobs exist for them
(404 otherwise); the target's import permission ("customers.import", …) is required (403).
"""

import json

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from crm.api.serializers import StrictSerializer
from crm.imports import services
from crm.imports.models import ImportJob
from crm.imports.targets import all_targets

MAX_ERRORS_IN_ANSWER = 1000


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="the row number as the spreadsheet shows it")
    column = serializers.CharField(help_text="the column header (or the field label)")
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField(
        help_text="uploaded, checking, checked, running, done or failed"
    )
    progress = serializers.SerializerMethodField(help_text="percent done, 0–100")
    errors = serializers.SerializerMethodField(help_text="the first 1000 errors (row, column, reason)")

    class Meta:
        model = ImportJob
        fields = (
            "id",
            "target",
            "filename",
            "headers",
            "mapping",
            "dedupe",
            "only_valid",
            "status",
            "progress",
            "total",
            "to_create",
            "to_update",
            "to_skip",
            "created_count",
            "updated_count",
            "skipped_count",
            "failed_count",
            "errors",
            "errors_truncated",
            "error_message",
            "created_at",
            "finished_at",
        )
        read_only_fields = fields

    def get_status(self, job: ImportJob) -> str:
        return services.job_state(job)

    def get_progress(self, job: ImportJob) -> int:
        if job.status in (ImportJob.Status.DONE, ImportJob.Status.CHECKED):
            return 100
        return services.progress_of(job)["percent"]

    @extend_schema_field(ImportErrorSerializer(many=True))
    def get_errors(self, job: ImportJob) -> list[dict]:
        return [
            {"row": row, "column": column, "message": message}
            for row, column, message in (job.errors or [])[:MAX_ERRORS_IN_ANSWER]
        ]


class ImportCreateSerializer(StrictSerializer):
    file = serializers.FileField(help_text=".xlsx or .csv (UTF-8 or GB18030), at most IMPORT_MAX_BYTES")
    target = serializers.CharField(
        max_length=32, help_text="what to import: customers, contacts, leads, products or users"
    )
    dedupe = serializers.ChoiceField(
        choices=ImportJob.Dedupe.values,
        required=False,
        help_text="what to do with duplicates; the target's first allowed mode by default",
    )
    mapping = serializers.CharField(
        required=False,
        help_text="JSON object {column header or 0-based column index: field key}; auto-matched by default",
    )

    def validate_target(self, value: str) -> str:
        if value not in {t.key for t in all_targets()}:
            raise serializers.ValidationError(_("“%(value)s”不是可导入的对象。") % {"value": value})
        return value


class ImportRunSerializer(StrictSerializer):
    only_valid = serializers.BooleanField(
        default=False, help_text="import the good rows of a file that has errors (the others are reported)"
    )


def _mapping_from(job: ImportJob, raw: str | None) -> dict:
    if not raw:
        return job.mapping
    try:
        given = json.loads(raw)
    except ValueError as exc:
        raise ValidationError({"mapping": _("列对应应为 JSON 对象。")}) from exc
    if not isinstance(given, dict):
        raise ValidationError({"mapping": _("列对应应为 JSON 对象。")})
    by_header = {services.normalise_header(h): str(i) for i, h in enumerate(job.headers)}
    mapping = {}
    for column, key in given.items():
        index = str(column) if str(column).isdigit() else by_header.get(services.normalise_header(column))
        if index is None:
            raise ValidationError({"mapping": _("文件中没有“%(column)s”这一列。") % {"column": column}})
        mapping[index] = key
    return mapping


class ImportJobViewSet(viewsets.GenericViewSet):
    """The caller's imports."""

    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.none()
    parser_classes = (MultiPartParser, FormParser)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ImportJob.objects.none()
        return ImportJob.objects.filter(user=self.request.user).order_by("-created_at", "-id")

    @extend_schema(
        request={"multipart/form-data": ImportCreateSerializer},
        responses={
            201: ImportJobSerializer,
            400: OpenApiResponse(description="broken file, bad mapping or dedupe mode (Chinese message)"),
            403: OpenApiResponse(description="no import permission for that target"),
        },
    )
    def create(self, request):
        """Upload a file and answer its dry run (nothing is written)."""
        data = ImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job = services.job_create(user=request.user, target_key=values["target"], upload=values["file"])
        try:
            target = services.target_for(request.user, job.target)
            services.job_configure(
                job=job,
                user=request.user,
                mapping=_mapping_from(job, values.get("mapping")),
                dedupe=values.get("dedupe") or target.allowed_dedupe_modes(request.user)[0],
            )
        except ValidationError:
            services.job_delete_files(job)
            job.delete()
            raise
        job = services.job_check(job_id=job.pk)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: ImportJobSerializer, 404: OpenApiResponse(description="not the caller's job")}
    )
    def retrieve(self, request, pk=None):
        job = services.job_get_for_user(user=request.user, job_id=pk)
        return Response(ImportJobSerializer(job).data)

    @extend_schema(responses={200: ImportJobSerializer(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ImportJobSerializer(page, many=True).data)

    @extend_schema(
        request=ImportRunSerializer,
        responses={
            202: ImportJobSerializer,
            400: OpenApiResponse(description="not checked yet, or errors without only_valid"),
            404: OpenApiResponse(description="not the caller's job"),
        },
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser, FormParser])
    def run(self, request, pk=None):
        """Start the import of a checked file (all-or-nothing, as a job)."""
        job = services.job_get_for_user(user=request.user, job_id=pk)
        data = ImportRunSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.job_start(job=job, user=request.user, only_valid=data.validated_data["only_valid"])
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
