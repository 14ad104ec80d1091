"""REST: envelope templates (/api/v1/envelope-templates/). Read with customers.print or
customers.settings, kept with customers.settings; writes go through the printing services."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response

from crm.access import policy
from crm.core.mixins import client_ip
from crm.printing import services
from crm.printing.models import EnvelopeTemplate
from crm.printing.services import TEMPLATE_FIELDS


class EnvelopeTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = EnvelopeTemplate
        fields = ("id", *TEMPLATE_FIELDS, "created_at", "updated_at")
        read_only_fields = ("id", "created_at", "updated_at")

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("未知字段。")] for name in unknown})
        return super().to_internal_value(data)


def _as_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        )
    return exceptions.ValidationError({"non_field_errors": exc.messages})


@extend_schema_view(
    list=extend_schema(summary="List envelope templates", tags=["printing"]),
    retrieve=extend_schema(summary="One envelope template", tags=["printing"]),
    create=extend_schema(summary="Create an envelope template (customers.settings)", tags=["printing"]),
    update=extend_schema(summary="Replace an envelope template (customers.settings)", tags=["printing"]),
    partial_update=extend_schema(
        summary="Change an envelope template (customers.settings)", tags=["printing"]
    ),
    destroy=extend_schema(summary="Delete an envelope template (customers.settings)", tags=["printing"]),
)
class EnvelopeTemplateViewSet(viewsets.ModelViewSet):
    serializer_class = EnvelopeTemplateSerializer
    queryset = EnvelopeTemplate.objects.all()
    ordering = "pk"
    action_permissions = {
        "create": "customers.settings",
        "update": "customers.settings",
        "partial_update": "customers.settings",
        "destroy": "customers.settings",
    }

    def check_permissions(self, request):
        super().check_permissions(request)
        if self.action in ("list", "retrieve") and not (
            policy.can(request.user, "customers.print") or policy.can(request.user, "customers.settings")
        ):
            self.permission_denied(request, message=_("需要“客户·打印”或“客户·设置”权限。"))

    def perform_create(self, serializer):
        try:
            serializer.instance = services.envelope_template_create(
                actor=self.request.user,
                values=dict(serializer.validated_data),
                ip_address=client_ip(self.request),
            )
        except DjangoValidationError as exc:
            raise _as_drf(exc) from exc

    def perform_update(self, serializer):
        try:
            serializer.instance = services.envelope_template_update(
                actor=self.request.user,
                template=serializer.instance,
                values=dict(serializer.validated_data),
                ip_address=client_ip(self.request),
            )
        except DjangoValidationError as exc:
            raise _as_drf(exc) from exc

    def destroy(self, request, *args, **kwargs):
        services.envelope_template_delete(
            actor=request.user, template=self.get_object(), ip_address=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
