"""REST: custom-field definitions (/api/v1/custom-fields/), and the `custom_fields` object that
record serializers read and write.

Definitions of a target are read with the target's view permission (customers.view) and kept with
its settings permission (customers.settings); the same services as the settings pages.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.access import policy
from crm.api.serializers import StrictSerializer
from crm.core.mixins import client_ip
from crm.customfields import selectors, services
from crm.customfields.display import api_values
from crm.customfields.models import CustomField
from crm.customfields.targets import TARGETS, target_info

VALUES_SCHEMA = {
    "type": "object",
    "additionalProperties": True,
    "description": "custom fields (CUS-11) by key: text, number and money as strings (money with "
    "2 decimals), date 'YYYY-MM-DD', date-time ISO 8601, multi choice a list of options, boolean "
    "true/false, user an id; see GET /api/v1/custom-fields/?target=customers",
}


@extend_schema_field(VALUES_SCHEMA)
class CustomValuesField(serializers.Field):
    """A record's custom values: read from `custom_data` (active fields only), written as an
    object {key: value} that the record's service validates with `clean_custom_values`."""

    def __init__(self, target: str, **kwargs):
        self.target = target
        super().__init__(**kwargs)

    def to_representation(self, value):
        return api_values(self.target, value)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("自定义字段应为“字段标识: 值”的对象。"))
        return data


def custom_values_output(target: str) -> CustomValuesField:
    return CustomValuesField(target, source="custom_data", read_only=True)


def custom_values_input(target: str) -> CustomValuesField:
    return CustomValuesField(target, required=False)


# ---------------------------------------------------------------- definitions


class CustomFieldSerializer(serializers.ModelSerializer):
    field_type_display = serializers.CharField(source="get_field_type_display", read_only=True)
    options = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = CustomField
        fields = [
            "id",
            "target",
            "key",
            "label",
            "field_type",
            "field_type_display",
            "options",
            "required",
            "searchable",
            "importable",
            "exportable",
            "for_statistics",
            "show_in_list",
            "sort_order",
            "help_text",
            "is_active",
        ]
        read_only_fields = fields


class CustomFieldUpdateSerializer(StrictSerializer):
    label = serializers.CharField(max_length=64, required=False)
    field_type = serializers.ChoiceField(
        choices=CustomField.FieldType.choices,
        required=False,
        help_text="refused while any record holds a value for the field",
    )
    options = serializers.ListField(
        child=serializers.CharField(max_length=64, allow_blank=True),
        required=False,
        max_length=100,
        help_text="choices of single/multi choice fields",
    )
    required = serializers.BooleanField(required=False)
    searchable = serializers.BooleanField(required=False)
    importable = serializers.BooleanField(required=False)
    exportable = serializers.BooleanField(required=False)
    for_statistics = serializers.BooleanField(required=False)
    show_in_list = serializers.BooleanField(required=False)
    sort_order = serializers.IntegerField(min_value=0, max_value=100000, required=False)
    help_text = serializers.CharField(max_length=200, required=False, allow_blank=True)


class CustomFieldCreateSerializer(CustomFieldUpdateSerializer):
    target = serializers.ChoiceField(choices=CustomField.Target.choices)
    key = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="generated from the label when empty"
    )
    label = serializers.CharField(max_length=64)
    field_type = serializers.ChoiceField(choices=CustomField.FieldType.choices)


def _require(user, target: str, *, write: bool) -> None:
    info = target_info(target)
    if info is None:
        raise exceptions.ValidationError(
            {"target": [_("未知的对象，可用：%(targets)s。") % {"targets": "、".join(TARGETS)}]}
        )
    if not policy.can(user, info.settings_permission if write else info.view_permission):
        raise exceptions.PermissionDenied()


@extend_schema(tags=["custom-fields"])
class CustomFieldViewSet(viewsets.GenericViewSet):
    """Custom-field definitions (CUS-11). Never deleted: deactivate them (values are kept)."""

    serializer_class = CustomFieldSerializer
    pagination_class = None

    def get_queryset(self):
        return CustomField.objects.order_by("target", "sort_order", "pk")

    def _field(self, pk, *, write: bool) -> CustomField:
        field = self.get_object()
        _require(self.request.user, field.target, write=write)
        return field

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "target", OpenApiTypes.STR, enum=list(TARGETS), description="default: customers"
            ),
            OpenApiParameter("is_active", OpenApiTypes.BOOL),
        ],
        responses={200: CustomFieldSerializer(many=True)},
    )
    def list(self, request):
        """The definitions of a target in display order; holders of the target's settings
        permission also see deactivated ones (is_active=false)."""
        target = request.query_params.get("target", "customers")
        _require(request.user, target, write=False)
        fields = list(selectors.fields_of(target))
        if not policy.can(request.user, TARGETS[target].settings_permission):
            fields = [f for f in fields if f.is_active]
        active = request.query_params.get("is_active", "")
        if active in ("true", "false"):
            fields = [f for f in fields if f.is_active == (active == "true")]
        return Response(CustomFieldSerializer(fields, many=True).data)

    @extend_schema(responses={200: CustomFieldSerializer})
    def retrieve(self, request, pk=None):
        field = self._field(pk, write=False)
        if not field.is_active and not policy.can(request.user, TARGETS[field.target].settings_permission):
            raise exceptions.NotFound()
        return Response(CustomFieldSerializer(field).data)

    @extend_schema(request=CustomFieldCreateSerializer, responses={201: CustomFieldSerializer})
    def create(self, request):
        data = CustomFieldCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        target = values.pop("target")
        _require(request.user, target, write=True)
        field = services.customfield_create(
            actor=request.user, target=target, values=values, ip=client_ip(request)
        )
        return Response(CustomFieldSerializer(field).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CustomFieldUpdateSerializer, responses={200: CustomFieldSerializer})
    def partial_update(self, request, pk=None):
        """Change a definition; its key and target never change."""
        field = self._field(pk, write=True)
        data = CustomFieldUpdateSerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        field = services.customfield_update(
            actor=request.user, field=field, values=dict(data.validated_data), ip=client_ip(request)
        )
        return Response(CustomFieldSerializer(field).data)

    @extend_schema(request=None, responses={200: CustomFieldSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Hidden from forms, lists, filters and the API; the values stay on the records."""
        field = services.customfield_set_active(
            actor=request.user, field=self._field(pk, write=True), active=False, ip=client_ip(request)
        )
        return Response(CustomFieldSerializer(field).data)

    @extend_schema(request=None, responses={200: CustomFieldSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        field = services.customfield_set_active(
            actor=request.user, field=self._field(pk, write=True), active=True, ip=client_ip(request)
        )
        return Response(CustomFieldSerializer(field).data)
