"""REST: saved views of a list (/api/v1/saved-views/?list=customers), with the rules of the pages:
own views for anyone who may view the list, shared views kept with the list's settings permission."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.access import policy
from crm.api.serializers import StrictSerializer
from crm.core.mixins import client_ip
from crm.savedviews import selectors, services
from crm.savedviews.models import SavedView
from crm.savedviews.registry import LISTS

PARAMS_HELP = (
    "the list's state: {scope, q, sort, conditions: [{field, op, value}], columns, custom_columns}; "
    "checked against the list's filter, sort and column allow-lists"
)


class SavedViewSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    list_key = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    is_shared = serializers.BooleanField(read_only=True)
    is_default = serializers.BooleanField(read_only=True)
    params = serializers.JSONField(read_only=True)
    sort_order = serializers.IntegerField(read_only=True)
    owner = serializers.IntegerField(source="owner_id", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    can_edit = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="the list page showing the view")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_can_edit(self, view) -> bool:
        return selectors.can_manage(self.context["request"].user, view)

    def get_url(self, view) -> str:
        return selectors.list_url(view)


class SavedViewUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_shared = serializers.BooleanField(required=False)
    params = serializers.JSONField(required=False, help_text=PARAMS_HELP)
    sort_order = serializers.IntegerField(min_value=0, max_value=100000, required=False)


class SavedViewCreateSerializer(StrictSerializer):
    list = serializers.ChoiceField(choices=list(LISTS))
    name = serializers.CharField(max_length=200, allow_blank=True)
    is_shared = serializers.BooleanField(required=False, default=False)
    is_default = serializers.BooleanField(required=False, default=False)
    params = serializers.JSONField(required=False, default=dict, help_text=PARAMS_HELP)


class SavedViewDefaultSerializer(StrictSerializer):
    default = serializers.BooleanField(required=False, default=True)


@extend_schema(tags=["saved-views"])
class SavedViewViewSet(viewsets.GenericViewSet):
    """Saved views (保存的视图, CUS-2). A view never widens what a user sees: opening it replays its
    parameters through the list's own selector and access policy."""

    serializer_class = SavedViewSerializer
    pagination_class = None
    queryset = SavedView.objects.none()  # for the schema's path types; reads go through selectors

    def _view(self, pk):
        return selectors.view_get_for_user(user=self.request.user, pk=pk)

    @extend_schema(
        parameters=[
            OpenApiParameter("list", OpenApiTypes.STR, enum=list(LISTS), description="default: customers")
        ],
        responses={200: SavedViewSerializer(many=True)},
    )
    def list(self, request):
        """The caller's own views of the list, then the shared ones."""
        list_key = request.query_params.get("list", "customers")
        if list_key not in LISTS:
            raise exceptions.ValidationError(
                {"list": [_("未知的列表，可用：%(lists)s。") % {"lists": "、".join(LISTS)}]}
            )
        if not policy.can(request.user, LISTS[list_key].view_permission):
            raise exceptions.PermissionDenied()
        views = selectors.views_visible(request.user, list_key)
        return Response(SavedViewSerializer(views, many=True, context={"request": request}).data)

    @extend_schema(responses={200: SavedViewSerializer})
    def retrieve(self, request, pk=None):
        return Response(SavedViewSerializer(self._view(pk), context={"request": request}).data)

    @extend_schema(request=SavedViewCreateSerializer, responses={201: SavedViewSerializer})
    def create(self, request):
        data = SavedViewCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        view = services.saved_view_create(
            actor=request.user,
            list_key=values["list"],
            name=values["name"],
            params=values["params"],
            is_shared=values["is_shared"],
            is_default=values["is_default"],
            ip=client_ip(request),
        )
        return Response(
            SavedViewSerializer(view, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=SavedViewUpdateSerializer, responses={200: SavedViewSerializer})
    def partial_update(self, request, pk=None):
        view = self._view(pk)
        data = SavedViewUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        view = services.saved_view_update(
            actor=request.user, view=view, **dict(data.validated_data), ip=client_ip(request)
        )
        return Response(SavedViewSerializer(view, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.saved_view_delete(actor=request.user, view=self._view(pk), ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=SavedViewDefaultSerializer, responses={200: SavedViewSerializer})
    @action(detail=True, methods=["post"])
    def default(self, request, pk=None):
        """Make one of the caller's own views the list's default (default=false: stop it being so)."""
        view = self._view(pk)
        data = SavedViewDefaultSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        view = services.saved_view_set_default(
            actor=request.user, view=view, default=data.validated_data["default"], ip=client_ip(request)
        )
        return Response(SavedViewSerializer(view, context={"request": request}).data)
