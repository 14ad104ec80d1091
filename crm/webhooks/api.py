"""Webhook API (settings.settings): /api/v1/webhooks/ — endpoints CRUD, regenerate-secret and
send-test; /api/v1/webhook-deliveries/ — the delivery log and replay.

Unknown ids answer 404; bad input answers 400 with the services' Chinese messages and changes
nothing (a URL is refused when it is not http/https, carries a user name, or resolves to a private,
loopback, link-local, metadata or otherwise internal address not on the allow-list)."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.serializers import StrictSerializer
from crm.audit.services import client_ip
from crm.webhooks import selectors, services
from crm.webhooks.events import EVENTS
from crm.webhooks.models import WebhookDelivery, WebhookEndpoint

PERMISSION = "settings.settings"
MAX_DB_INT = 2**31 - 1


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS))
    created_by_name = serializers.CharField(source="created_by.display_name", read_only=True, default=None)

    class Meta:
        model = WebhookEndpoint
        fields = (
            "id",
            "name",
            "url",
            "secret",
            "events",
            "is_active",
            "created_by",
            "created_by_name",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class WebhookEndpointInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    url = serializers.CharField(
        max_length=500, help_text="http:// or https://, public address or allow-listed"
    )
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS), max_length=len(EVENTS))
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookEndpointPatchSerializer(WebhookEndpointInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    url = serializers.CharField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENTS), max_length=len(EVENTS), required=False
    )
    is_active = serializers.BooleanField(required=False)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "uuid",
            "endpoint",
            "event",
            "payload",
            "status",
            "status_label",
            "attempts",
            "next_attempt_at",
            "response_status",
            "response_ms",
            "response_body",
            "error",
            "replay_of",
            "created_at",
            "delivered_at",
        )
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(responses={200: WebhookEndpointSerializer(many=True)}),
    retrieve=extend_schema(responses={200: WebhookEndpointSerializer}),
    destroy=extend_schema(responses={204: None}),
)
class WebhookEndpointViewSet(viewsets.GenericViewSet):
    """Webhook endpoints, newest first. The secret is shown to settings admins only."""

    permission = PERMISSION
    serializer_class = WebhookEndpointSerializer
    ordering = ("-id",)

    def get_queryset(self):
        return WebhookEndpoint.objects.select_related("created_by")

    def _valid(self, serializer_class):
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(WebhookEndpointSerializer(selectors.endpoint_get(endpoint_id=pk)).data)

    @extend_schema(request=WebhookEndpointInputSerializer, responses={201: WebhookEndpointSerializer})
    def create(self, request):
        values = self._valid(WebhookEndpointInputSerializer)
        endpoint = services.endpoint_create(actor=request.user, values=values, ip=client_ip(request))
        return Response(WebhookEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookEndpointInputSerializer, responses={200: WebhookEndpointSerializer})
    def update(self, request, pk=None):
        endpoint = selectors.endpoint_get(endpoint_id=pk)
        values = self._valid(WebhookEndpointInputSerializer)
        endpoint = services.endpoint_update(
            actor=request.user, endpoint=endpoint, values=values, ip=client_ip(request)
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(request=WebhookEndpointPatchSerializer, responses={200: WebhookEndpointSerializer})
    def partial_update(self, request, pk=None):
        endpoint = selectors.endpoint_get(endpoint_id=pk)
        values = {
            "name": endpoint.name,
            "url": endpoint.url,
            "events": endpoint.events,
            "is_active": endpoint.is_active,
            **self._valid(WebhookEndpointPatchSerializer),
        }
        endpoint = services.endpoint_update(
            actor=request.user, endpoint=endpoint, values=values, ip=client_ip(request)
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request, pk=None):
        endpoint = selectors.endpoint_get(endpoint_id=pk)
        services.endpoint_delete(actor=request.user, endpoint=endpoint, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: WebhookEndpointSerializer})
    @action(detail=True, methods=["post"], url_path="regenerate-secret")
    def regenerate_secret(self, request, pk=None):
        """A new signing secret; the old one stops working at once."""
        endpoint = selectors.endpoint_get(endpoint_id=pk)
        endpoint = services.endpoint_regenerate_secret(
            actor=request.user, endpoint=endpoint, ip=client_ip(request)
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Queue a `webhook.test` delivery to this endpoint."""
        endpoint = selectors.endpoint_get(endpoint_id=pk)
        delivery = services.endpoint_send_test(actor=request.user, endpoint=endpoint, ip=client_ip(request))
        delivery.refresh_from_db()
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


def _int_param(request, name):
    value = request.query_params.get(name, "")
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_DB_INT:
        raise exceptions.ValidationError({name: [_("请输入有效的编号。")]})
    return int(value)


@extend_schema_view(retrieve=extend_schema(responses={200: WebhookDeliverySerializer}))
class WebhookDeliveryViewSet(viewsets.GenericViewSet):
    """The delivery log, newest first; filter by endpoint, status or event."""

    permission = PERMISSION
    serializer_class = WebhookDeliverySerializer
    ordering = ("-id",)

    def get_queryset(self):
        return WebhookDelivery.objects.all()

    @extend_schema(
        parameters=[
            OpenApiParameter("endpoint", OpenApiTypes.INT),
            OpenApiParameter("status", OpenApiTypes.STR, enum=WebhookDelivery.Status.values),
            OpenApiParameter("event", OpenApiTypes.STR),
        ],
        responses={200: WebhookDeliverySerializer(many=True)},
    )
    def list(self, request):
        rows = self.get_queryset()
        endpoint_id = _int_param(request, "endpoint")
        if endpoint_id is not None:
            rows = rows.filter(endpoint_id=endpoint_id)
        status_value = request.query_params.get("status", "")
        if status_value:
            if status_value not in WebhookDelivery.Status.values:
                raise exceptions.ValidationError({"status": [_("状态无效。")]})
            rows = rows.filter(status=status_value)
        event = request.query_params.get("event", "")
        if event:
            rows = rows.filter(event=event[:64])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(WebhookDeliverySerializer(selectors.delivery_get(delivery_id=pk)).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        """Send the same event again as a new delivery (its own id) to the same endpoint."""
        delivery = selectors.delivery_get(delivery_id=pk)
        replay = services.delivery_replay(actor=request.user, delivery=delivery, ip=client_ip(request))
        replay.refresh_from_db()
        return Response(WebhookDeliverySerializer(replay).data, status=status.HTTP_202_ACCEPTED)
