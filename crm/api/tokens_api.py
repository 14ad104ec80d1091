"""GET/POST /api/v1/tokens/, GET/DELETE /api/v1/tokens/{id}/: the caller's own personal API tokens."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from crm.api import services
from crm.api.models import APIToken
from crm.api.serializers import StrictSerializer
from crm.core.mixins import client_ip


class APITokenSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=APIToken.Status.choices, read_only=True)

    class Meta:
        model = APIToken
        fields = [
            "id",
            "name",
            "prefix",
            "status",
            "rate_limit",
            "created_at",
            "expires_at",
            "last_used_at",
            "last_used_ip",
            "revoked_at",
        ]
        read_only_fields = fields


class APITokenCreatedSerializer(APITokenSerializer):
    token = serializers.CharField(read_only=True, help_text="the secret; shown only in this response")

    class Meta(APITokenSerializer.Meta):
        fields = [*APITokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class APITokenCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    rate_limit = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text="e.g. 60/min; empty: the default"
    )


@extend_schema(tags=["tokens"])
class APITokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Your own personal API tokens (every user may manage theirs; anyone else's answers 404).

    The secret is returned once, by POST; only its SHA-256 is stored. DELETE revokes a token (it
    stays listed as revoked)."""

    serializer_class = APITokenSerializer
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return APIToken.objects.none()
        return APIToken.objects.filter(user=self.request.user)

    def get_object(self):
        return services.token_get_for_user(user=self.request.user, token_id=self.kwargs["pk"])

    @extend_schema(request=APITokenCreateSerializer, responses={201: APITokenCreatedSerializer})
    def create(self, request):
        data = APITokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, secret = services.token_create(
            user=request.user,
            name=data.validated_data["name"],
            expires_at=data.validated_data.get("expires_at"),
            rate_limit=data.validated_data.get("rate_limit", ""),
            ip=client_ip(request),
        )
        token.token = secret
        return Response(APITokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.token_revoke(user=request.user, token_id=pk, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
