"""REST endpoints for leads (LEAD-1): CRUD, bulk transfer and bulk conversion.

Same services and access policy as the pages: a lead outside the caller's scope answers 404 like
a missing one; bulk actions act on the posted ids the caller may see and report the others as
`not_found`. Permissions: leads.view/create/edit/delete by method; transfer needs leads.transfer;
convert needs leads.edit and customers.create.
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
from crm.customers.forms import MOBILE_RE, PHONE_RE
from crm.customers.models import DictionaryItem
from crm.leads import selectors, services
from crm.leads.models import Lead

MAX_BULK = 5000
MAX_DB_INT = 2**31 - 1


class LeadSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Lead
        fields = (
            "id",
            "code",
            "company",
            "contact_name",
            "title",
            "mobile",
            "phone",
            "email",
            "wechat",
            "source",
            "industry",
            "region",
            "address",
            "remark",
            "status",
            "status_label",
            "owner",
            "owner_name",
            "department",
            "created_by",
            "created_at",
            "updated_at",
            "converted_at",
            "converted_customer",
            "converted_by",
            "next_contact_at",
            "last_followup_at",
        )
        read_only_fields = fields


def _dictionary(kind):
    return serializers.PrimaryKeyRelatedField(
        queryset=DictionaryItem.objects.filter(kind=kind), required=False, allow_null=True
    )


class LeadWriteSerializer(StrictSerializer):
    company = serializers.CharField(max_length=200)
    contact_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    title = serializers.CharField(max_length=64, required=False, allow_blank=True)
    mobile = serializers.RegexField(
        MOBILE_RE,
        required=False,
        allow_blank=True,
        error_messages={"invalid": _("请输入有效的 11 位手机号码。")},
    )
    phone = serializers.RegexField(
        PHONE_RE,
        required=False,
        allow_blank=True,
        error_messages={"invalid": _("请输入有效的电话号码（数字、空格、+、- 和括号）。")},
    )
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    wechat = serializers.CharField(max_length=64, required=False, allow_blank=True)
    source = _dictionary(DictionaryItem.Kind.SOURCE)
    industry = _dictionary(DictionaryItem.Kind.INDUSTRY)
    region = _dictionary(DictionaryItem.Kind.REGION)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    remark = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    next_contact_at = serializers.DateTimeField(required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, help_text="default: the caller"
    )


def _ids_field():
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DB_INT), min_length=1, max_length=MAX_BULK
    )


class LeadTransferSerializer(StrictSerializer):
    lead_ids = _ids_field()
    to_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))


class LeadConvertSerializer(StrictSerializer):
    lead_ids = _ids_field()
    allow_duplicates = serializers.BooleanField(
        default=False, help_text="the caller confirmed the 重名提示 duplicate warning"
    )
    link = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DB_INT),
        required=False,
        help_text="{lead id: customer id}: link these leads to an existing customer the caller may see",
    )


class LeadBulkResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="how many leads were changed")
    not_found = serializers.ListField(
        child=serializers.IntegerField(), help_text="posted ids that do not exist or are outside the scope"
    )


class LeadMatchSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField(allow_null=True, help_text="only when the caller may see it")
    name = serializers.CharField()
    owner = serializers.CharField()


class LeadConversionResultSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField()
    outcome = serializers.ChoiceField(
        choices=["created", "linked", "duplicate_warning", "refused", "skipped"]
    )
    message = serializers.CharField()
    customer_id = serializers.IntegerField(allow_null=True)
    matches = LeadMatchSerializer(many=True)


class LeadConvertResultSerializer(LeadBulkResultSerializer):
    results = LeadConversionResultSerializer(many=True)


LIST_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="company, contact, mobile prefix or code"),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Lead.Status.values),
    OpenApiParameter("source", OpenApiTypes.INT),
    OpenApiParameter("owner", OpenApiTypes.INT),
]


def _int_param(request, name):
    value = request.query_params.get(name, "")
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_DB_INT:
        raise exceptions.ValidationError({name: [_("请输入有效的编号。")]})
    return int(value)


class LeadViewSet(OrderingParamMixin, viewsets.GenericViewSet):
    """Leads the caller may see (owner in the caller's data scope), newest first."""

    module = "leads"
    serializer_class = LeadSerializer
    action_permissions = {"transfer": "leads.transfer", "convert": "leads.edit"}
    ordering = ("-created_at", "-pk")
    ordering_fields = ("created_at", "updated_at", "code", "company")  # ?ordering=

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Lead.objects.none()
        return selectors.leads_visible(self.request.user).select_related("owner")

    @extend_schema(parameters=LIST_PARAMETERS, responses={200: LeadSerializer(many=True)})
    def list(self, request):
        status_value = request.query_params.get("status", "")
        if status_value and status_value not in Lead.Status.values:
            raise exceptions.ValidationError({"status": [_("状态无效。")]})
        filters = selectors.LeadFilters(
            q=request.query_params.get("q", "")[:100],
            status=status_value,
            source_id=_int_param(request, "source"),
            owner_id=_int_param(request, "owner"),
        )
        leads = selectors.lead_list(user=request.user, filters=filters).select_related("owner")
        page = self.paginate_queryset(leads)
        return self.get_paginated_response(LeadSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(LeadSerializer(selectors.lead_get_for_user(user=request.user, lead_id=pk)).data)

    @extend_schema(request=LeadWriteSerializer, responses={201: LeadSerializer})
    def create(self, request):
        data = LeadWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        owner = values.pop("owner", None)
        lead = services.lead_create(actor=request.user, values=values, owner=owner, ip=client_ip(request))
        return Response(LeadSerializer(lead).data, status=status.HTTP_201_CREATED)

    def _update(self, request, pk, partial):
        lead = selectors.lead_get_for_user(user=request.user, lead_id=pk)
        data = LeadWriteSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "owner" in values:
            raise exceptions.ValidationError({"owner": [_("请用转移操作更换负责人。")]})
        lead = services.lead_update(actor=request.user, lead=lead, values=values, ip=client_ip(request))
        return Response(LeadSerializer(lead).data)

    @extend_schema(request=LeadWriteSerializer, responses={200: LeadSerializer})
    def update(self, request, pk=None):
        return self._update(request, pk, partial=False)

    @extend_schema(request=LeadWriteSerializer, responses={200: LeadSerializer})
    def partial_update(self, request, pk=None):
        return self._update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        lead = selectors.lead_get_for_user(user=request.user, lead_id=pk)
        services.leads_delete(
            actor=request.user, leads=Lead.objects.filter(pk=lead.pk), ip=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=LeadTransferSerializer, responses={200: LeadBulkResultSerializer})
    @action(detail=False, methods=["post"])
    def transfer(self, request):
        """Give leads to another owner; one log entry per lead."""
        data = LeadTransferSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        requested = set(data.validated_data["lead_ids"])
        to_user = data.validated_data["to_user"]
        if not policy.visible_users(request.user).filter(pk=to_user.pk).exists():
            raise exceptions.ValidationError({"to_user": [_("只能转移给您的数据范围内的员工。")]})
        leads = selectors.leads_visible(request.user).filter(pk__in=requested)
        found = set(leads.values_list("pk", flat=True))
        count = services.leads_transfer(
            actor=request.user, leads=leads, to_user=to_user, ip=client_ip(request)
        )
        return Response({"count": count, "not_found": sorted(requested - found)})

    @extend_schema(request=LeadConvertSerializer, responses={200: LeadConvertResultSerializer})
    @action(detail=False, methods=["post"])
    def convert(self, request):
        """Convert leads into customers (each with its contact); one result per lead: created,
        linked, duplicate_warning (confirm with allow_duplicates or link), refused or skipped."""
        data = LeadConvertSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        requested = set(data.validated_data["lead_ids"])
        try:
            link = {int(k): v for k, v in (data.validated_data.get("link") or {}).items()}
        except ValueError as exc:
            raise exceptions.ValidationError({"link": [_("线索编号无效。")]}) from exc
        leads = selectors.leads_visible(request.user).filter(pk__in=requested)
        found = set(leads.values_list("pk", flat=True))
        results = services.leads_convert(
            actor=request.user,
            leads=leads,
            allow_duplicates=data.validated_data["allow_duplicates"],
            link=link,
            ip=client_ip(request),
        )
        body = {
            "count": sum(1 for r in results if r.ok),
            "not_found": sorted(requested - found),
            "results": [
                {
                    "lead_id": r.lead_id,
                    "outcome": r.outcome,
                    "message": r.message,
                    "customer_id": r.customer_id,
                    "matches": r.matches,
                }
                for r in results
            ],
        }
        return Response(body)
