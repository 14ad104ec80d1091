"""REST endpoints for customers, contacts, sharing, transfer, the recycle bin and dictionaries.

Same services, same access policy, same validations as the customer pages:
- every write goes through `crm.customers.services` (or `settings_services` for dictionaries),
  which validate, run in one transaction and write the operation log;
- every read goes through `crm.customers.selectors`; a customer or contact outside the caller's
  scope answers 404 exactly like one that does not exist; a customer the caller may see but not
  change answers 403 with a message;
- bulk actions (transfer, share, restore, purge) filter the posted ids through the caller's
  scope in one query and report the ids they could not act on as `not_found`.

Permissions (the same as the customer pages): customers.view/create/edit/delete on /customers/,
customers.transfer and customers.share on transfer, share, team and unshare, contacts.* on
/contacts/. The recycle bin is read with customers.delete or customers.settings (rows as
`customers_in_recycle_bin` allows), restored with pool.settings or customers.settings and purged
with customers.settings (SPEC CUS-4: "an admin restores or purges"). Dictionaries are read with
customers.view and kept with customers.settings (CUS-12).
"""

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.access import field_policy, policy
from crm.access.field_api import FieldPermissionsMixin, refuse_protected_input
from crm.accounts.models import User
from crm.api.ordering import OrderingParamMixin
from crm.api.serializers import StrictSerializer
from crm.core.mixins import client_ip
from crm.customers import (
    api_tools,
    bulk_services,
    duplicates,
    merge,
    pool_services,
    protection,
    selectors,
    services,
    settings_services,
    team_services,
)
from crm.customers.forms import MOBILE_RE, PHONE_RE, POSTCODE_RE, QQ_RE
from crm.customers.models import Contact, Customer, CustomerAccess, DictionaryItem, Pool
from crm.customfields.api import custom_values_input, custom_values_output

MAX_BULK = 5000  # ids per bulk request (DESIGN: batches of at most 5,000 rows)
MAX_DB_INT = 2**31 - 1
SCOPES = ("all", "mine", "shared_with_me", "shared_by_me")
# Sort keys the API pages on. The cursor needs a non-null first key, so the nullable ones the
# list page also sorts on (last_followup_at, next_contact_at) are not offered here.
API_SORT_FIELDS = ("created_at", "updated_at", "name", "code")


def _request_user(serializer):
    request = serializer.context.get("request")
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _bad_request(field: str, message: str):
    return exceptions.ValidationError({field: [message]})


def _keys(data) -> list[str]:
    return list(data.keys()) if hasattr(data, "keys") else []


def _refuse_protected(user, data) -> None:
    """Field permissions (ORG-8): a hidden or read-only field in a customer write, or in one of its
    inline contacts, answers 400 naming the field (the services refuse changes to them too)."""
    keys = _keys(data)
    custom = data.get("custom_fields") if hasattr(data, "get") else None
    if isinstance(custom, dict):  # custom fields (CUS-11) are "custom.<key>" in field permissions
        keys += [k if str(k).startswith("custom.") else f"custom.{k}" for k in custom]
    refuse_protected_input(user, "customers", keys)
    contacts = data.get("contacts") if hasattr(data, "get") else None
    if isinstance(contacts, list):
        keys = {key for item in contacts for key in _keys(item)}
        refused = field_policy.refused_input(user, "contacts", keys)
        if refused:
            raise exceptions.ValidationError({"contacts": refused})


def _require_any(user, permissions: tuple[str, ...]) -> None:
    if not any(policy.can(user, permission) for permission in permissions):
        raise exceptions.PermissionDenied()


# ---------------------------------------------------------------- shared output pieces


class NamedRefSerializer(serializers.Serializer):
    """A related record shown by its id and name (dictionary value, user, pool, department)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class BulkResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="how many customers were changed")
    not_found = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="posted ids that do not exist or that the caller may not act on",
    )


def _bulk_ids_field():
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DB_INT),
        min_length=1,
        max_length=MAX_BULK,
    )


def _bulk_result(count: int, requested: set[int], found: set[int]) -> Response:
    return Response({"count": count, "not_found": sorted(requested - found)})


# ---------------------------------------------------------------- customers: serializers


class CustomerListSerializer(FieldPermissionsMixin, serializers.ModelSerializer):
    """What a row of the customer list shows (without the fields hidden from the caller, masked
    where the caller's field permissions say so: ORG-8)."""

    field_module, field_context = "customers", "list"

    status = NamedRefSerializer(read_only=True, allow_null=True)
    value_level = NamedRefSerializer(read_only=True, allow_null=True)
    stage = NamedRefSerializer(read_only=True, allow_null=True)
    owner = NamedRefSerializer(read_only=True, allow_null=True)
    pool = NamedRefSerializer(read_only=True, allow_null=True)
    custom_fields = custom_values_output("customers")  # CUS-11

    class Meta:
        model = Customer
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "keyword",
            "status",
            "value_level",
            "stage",
            "owner",
            "pool",
            "mobile",
            "phone",
            "tags",
            "last_followup_at",
            "next_contact_at",
            "created_at",
            "updated_at",
            "custom_fields",
        ]


class CustomerDetailSerializer(FieldPermissionsMixin, serializers.ModelSerializer):
    """What the customer detail page shows (search columns and deletion data stay internal; fields
    hidden from the caller left out, masked ones masked: ORG-8)."""

    field_module, field_context = "customers", "detail"

    status = NamedRefSerializer(read_only=True, allow_null=True)
    category = NamedRefSerializer(read_only=True, allow_null=True)
    value_level = NamedRefSerializer(read_only=True, allow_null=True)
    stage = NamedRefSerializer(read_only=True, allow_null=True)
    region = NamedRefSerializer(read_only=True, allow_null=True)
    industry = NamedRefSerializer(read_only=True, allow_null=True)
    source = NamedRefSerializer(read_only=True, allow_null=True)
    owner = NamedRefSerializer(read_only=True, allow_null=True)
    department = NamedRefSerializer(read_only=True, allow_null=True)
    pool = NamedRefSerializer(read_only=True, allow_null=True)
    created_by = NamedRefSerializer(read_only=True, allow_null=True)
    can_edit = serializers.SerializerMethodField(help_text="whether the caller may change this customer")
    custom_fields = custom_values_output("customers")  # CUS-11

    class Meta:
        model = Customer
        fields = [
            "id",
            "code",
            *services.EDITABLE_FIELDS,
            "owner",
            "department",
            "pool",
            "created_by",
            "created_at",
            "updated_at",
            "claimed_at",
            "last_followup_at",
            "protected_until",
            "can_edit",
            "custom_fields",
        ]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_can_edit(self, customer) -> bool:
        user = _request_user(self)
        return user is not None and selectors.can_edit_customer(user, customer)


def _dictionary_field(kind: str):
    return serializers.PrimaryKeyRelatedField(
        queryset=DictionaryItem.objects.all(),
        required=False,
        allow_null=True,
        help_text=f"id of an active dictionary item of kind '{kind}'",
    )


class CustomerWriteSerializer(StrictSerializer):
    """The customer form's fields and format checks; the services check the business rules
    (credit code checksum and uniqueness, dictionary kinds, active values)."""

    kind = serializers.ChoiceField(choices=Customer.Kind.choices, required=False)
    name = serializers.CharField(max_length=200)
    keyword = serializers.CharField(max_length=64, required=False, allow_blank=True)
    credit_code = serializers.CharField(max_length=18, required=False, allow_blank=True, allow_null=True)
    status = _dictionary_field(DictionaryItem.Kind.STATUS)
    category = _dictionary_field(DictionaryItem.Kind.CATEGORY)
    value_level = _dictionary_field(DictionaryItem.Kind.VALUE_LEVEL)
    stage = _dictionary_field(DictionaryItem.Kind.STAGE)
    region = _dictionary_field(DictionaryItem.Kind.REGION)
    industry = _dictionary_field(DictionaryItem.Kind.INDUSTRY)
    source = _dictionary_field(DictionaryItem.Kind.SOURCE)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    postcode = serializers.RegexField(
        POSTCODE_RE,
        required=False,
        allow_blank=True,
        error_messages={"invalid": gettext_lazy("邮编应为 6 位数字。")},
    )
    phone = serializers.RegexField(
        PHONE_RE,
        required=False,
        allow_blank=True,
        error_messages={"invalid": gettext_lazy("请输入有效的电话号码（数字、空格、+、- 和括号）。")},
    )
    fax = serializers.RegexField(
        PHONE_RE,
        required=False,
        allow_blank=True,
        error_messages={"invalid": gettext_lazy("请输入有效的电话号码（数字、空格、+、- 和括号）。")},
    )
    mobile = serializers.RegexField(
        MOBILE_RE,
        required=False,
        allow_blank=True,
        error_messages={"invalid": gettext_lazy("请输入有效的 11 位手机号码。")},
    )
    qq = serializers.RegexField(
        QQ_RE,
        required=False,
        allow_blank=True,
        error_messages={"invalid": gettext_lazy("QQ 号应为 5 到 12 位数字。")},
    )
    wechat = serializers.CharField(max_length=64, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    website = serializers.URLField(max_length=255, required=False, allow_blank=True)
    legal_representative = serializers.CharField(max_length=64, required=False, allow_blank=True)
    registered_capital = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    credit_limit = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    tags = serializers.CharField(max_length=255, required=False, allow_blank=True)
    remark = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    next_contact_at = serializers.DateTimeField(required=False, allow_null=True)
    # Custom fields (CUS-11) {key: value}: validated by the service (clean_custom_values); a bad
    # value answers 400 {"custom.<key>": [message]}.
    custom_fields = custom_values_input("customers")
    allow_duplicates = serializers.BooleanField(
        default=False,
        help_text="save although similar customers exist (the answer to a 发现相似客户 warning, "
        "which comes back as a 400 when this is false)",
    )


class CustomerContactInlineSerializer(StrictSerializer):
    """A contact entered together with a new customer (the first one becomes primary)."""

    name = serializers.CharField(max_length=64)
    mobile = serializers.RegexField(
        MOBILE_RE,
        required=False,
        allow_blank=True,
        error_messages={"invalid": gettext_lazy("请输入有效的 11 位手机号码。")},
    )
    title = serializers.CharField(max_length=64, required=False, allow_blank=True)


class CustomerCreateSerializer(CustomerWriteSerializer):
    contacts = CustomerContactInlineSerializer(many=True, required=False, max_length=20)


class CustomerTransferSerializer(StrictSerializer):
    customer_ids = _bulk_ids_field()
    to_user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), help_text="id of an active user"
    )
    keep_previous_as_team = serializers.BooleanField(
        default=True, help_text="former owners stay on the customer's team (read-only)"
    )
    with_related = serializers.MultipleChoiceField(
        choices=["opportunities", "contracts"],
        default=list,
        help_text="also hand over the former owner's open opportunities / contracts of these customers "
        "(needs opportunities.transfer / contracts.transfer)",
    )


class CustomerReleaseSerializer(StrictSerializer):
    customer_ids = _bulk_ids_field()
    pool_id = serializers.IntegerField(
        min_value=1, max_value=MAX_DB_INT, help_text="id of a pool the caller sees"
    )
    reason = serializers.CharField(
        allow_blank=True, max_length=1000, help_text="why (at most 200 characters)"
    )


class CustomerBulkUpdateSerializer(StrictSerializer):
    customer_ids = _bulk_ids_field()
    field = serializers.CharField(
        max_length=80,
        help_text="status, category, value_level, stage, region, industry, source (a dictionary value "
        "id), tags, next_contact_at, or custom.<key> of a choice, yes/no, date, number or money custom field",
    )
    value = serializers.JSONField(help_text="the new value")
    mode = serializers.ChoiceField(
        choices=["replace", "append"], default="replace", help_text="tags only: append adds to the tags"
    )


class CustomerShareSerializer(StrictSerializer):
    customer_ids = _bulk_ids_field()
    user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DB_INT), min_length=1, max_length=200
    )
    can_edit = serializers.BooleanField(default=False)

    def validate_user_ids(self, value):
        wanted = set(value)
        users = list(User.objects.filter(pk__in=wanted, is_active=True))
        missing = sorted(wanted - {u.pk for u in users})
        if missing:
            raise serializers.ValidationError(
                _("员工不存在或已停用：%(ids)s") % {"ids": ", ".join(map(str, missing))}
            )
        return users


class CustomerTeamSerializer(StrictSerializer):
    user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DB_INT), min_length=1, max_length=200
    )
    can_edit = serializers.BooleanField(default=False, help_text="read-write team members may change it")

    validate_user_ids = CustomerShareSerializer.validate_user_ids


class CustomerUnshareSerializer(StrictSerializer):
    user_id = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT)


class CustomerRestoreSerializer(StrictSerializer):
    customer_ids = _bulk_ids_field()
    pool = serializers.PrimaryKeyRelatedField(
        queryset=Pool.objects.all(),
        required=False,
        allow_null=True,
        help_text="the pool the customers go to; the default pool when left out",
    )


class CustomerIdsSerializer(StrictSerializer):
    customer_ids = _bulk_ids_field()


class RecycledCustomerSerializer(serializers.ModelSerializer):
    owner = NamedRefSerializer(read_only=True, allow_null=True)
    deleted_by = NamedRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Customer
        fields = ["id", "code", "name", "owner", "deleted_at", "deleted_by"]


# ---------------------------------------------------------------- customers: list parameters


def _parse_condition(raw: str) -> selectors.Condition:
    """`field:op:value` (value may contain colons); the selector checks the allow-lists."""
    field, _sep, rest = raw.partition(":")
    op, _sep, value = rest.partition(":")
    condition = selectors.Condition(field.strip(), op.strip(), value)
    ops = selectors.FILTER_FIELDS.get(condition.field)
    if ops is selectors.CHOICE_OPS and condition.field != "kind" and op.strip() in ("is", "in"):
        # Ids that do not fit the id column are not ids (and must not reach the database).
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if any(not p.isdigit() or int(p) > MAX_DB_INT for p in parts):
            raise selectors.BadFilterError(f"{condition.field}={value}")
    return condition


def _customer_list_params(request) -> dict:
    params = request.query_params
    scope = params.get("scope", "all")
    if scope not in SCOPES:
        raise _bad_request("scope", _("scope 只能是 all、mine、shared_with_me 或 shared_by_me。"))
    sort = params.get("sort", "-created_at")
    if sort.lstrip("-") not in API_SORT_FIELDS:
        raise _bad_request(
            "sort",
            _("不支持按“%(sort)s”排序，可用：%(fields)s。")
            % {"sort": sort[:50], "fields": "、".join(API_SORT_FIELDS)},
        )
    try:
        conditions = [_parse_condition(raw) for raw in params.getlist("filter")[:20]]
    except selectors.BadFilterError as exc:
        raise _bad_request(
            "filter", _("不支持的筛选条件：%(detail)s。格式为 字段:操作:值。") % {"detail": str(exc)[:100]}
        ) from exc
    return {"query": params.get("q", "")[:100], "conditions": conditions, "sort": sort, "scope": scope}


CUSTOMER_LIST_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="quick search: name, code, keyword, phone, pinyin"),
    OpenApiParameter("scope", OpenApiTypes.STR, enum=list(SCOPES), description="default: all"),
    OpenApiParameter(
        "sort",
        OpenApiTypes.STR,
        enum=[*API_SORT_FIELDS, *(f"-{f}" for f in API_SORT_FIELDS)],
        description="default: -created_at",
    ),
    OpenApiParameter(
        "filter",
        OpenApiTypes.STR,
        many=True,
        description="repeatable condition `field:op:value`, e.g. `name:contains:中兴`, "
        "`status:in:3,4`, `created_at:after:2026-01-01`, `tags:empty:`",
    ),
]


# ---------------------------------------------------------------- customers: views


@extend_schema(tags=["customers"])
class CustomerViewSet(OrderingParamMixin, viewsets.GenericViewSet):
    """Customers the caller may see (data scope, sharing, team). Deleting moves to the recycle bin."""

    module = "customers"
    serializer_class = CustomerListSerializer
    action_permissions = {
        "transfer": "customers.transfer",
        "share": "customers.share",
        "unshare": "customers.share",
        "team": "customers.share",
        # Like the recycle bin pages: any of several permissions, checked in the action itself.
        "recycle_bin": None,
        "restore": None,
        "purge": "customers.settings",
        "release": "customers.edit",
        "bulk_update": "customers.edit",
    }
    ordering = ("-created_at", "-pk")
    ordering_fields = ("created_at", "updated_at", "name", "code")  # ?ordering=

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()
        return selectors.customers_visible(self.request.user)

    def _detail(self, customer_id) -> Response:
        customer = selectors.customer_get_for_user(user=self.request.user, customer_id=customer_id)
        return Response(CustomerDetailSerializer(customer, context=self.get_serializer_context()).data)

    def _editable(self, customer_id) -> Customer:
        """404 when the caller cannot see it, 403 when they can see but not change it."""
        customer = selectors.customer_get_for_user(user=self.request.user, customer_id=customer_id)
        if not selectors.can_edit_customer(self.request.user, customer):
            raise exceptions.PermissionDenied(_("您可以查看该客户，但没有修改它的权限。"))
        return customer

    @extend_schema(parameters=CUSTOMER_LIST_PARAMETERS, responses={200: CustomerListSerializer(many=True)})
    def list(self, request):
        params = _customer_list_params(request)
        try:
            customers = selectors.customer_list(user=request.user, **params)
        except ValueError as exc:  # BadFilterError, or a date that does not exist
            raise _bad_request(
                "filter",
                _("不支持的筛选条件：%(detail)s。格式为 字段:操作:值。") % {"detail": str(exc)[:100]},
            ) from exc
        sort = params["sort"]
        self.ordering = (sort, "-pk" if sort.startswith("-") else "pk")
        page = self.paginate_queryset(selectors.customer_list_rows(customers))
        return self.get_paginated_response(
            CustomerListSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(responses={200: CustomerDetailSerializer})
    def retrieve(self, request, pk=None):
        return self._detail(pk)

    @extend_schema(request=CustomerCreateSerializer, responses={201: CustomerDetailSerializer})
    def create(self, request):
        """A new customer owned by the caller, optionally with its first contacts. The entry policy
        and duplicate control apply: a similar customer answers 400 "发现相似客户…" until the request
        is sent again with allow_duplicates=true (or always, under 重名禁止录入)."""
        _refuse_protected(request.user, request.data)
        data = CustomerCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        contacts = [dict(c) for c in values.pop("contacts", [])]
        allow_duplicates = values.pop("allow_duplicates")
        custom_values = values.pop("custom_fields", {})  # CUS-11
        customer = services.customer_create(
            actor=request.user,
            values=values,
            contacts=contacts,
            allow_duplicates=allow_duplicates,
            ip=client_ip(request),
            custom_values=custom_values,
        )
        response = self._detail(customer.pk)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=CustomerWriteSerializer, responses={200: CustomerDetailSerializer})
    def partial_update(self, request, pk=None):
        customer = self._editable(pk)
        _refuse_protected(request.user, request.data)
        data = CustomerWriteSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        allow_duplicates = values.pop("allow_duplicates", False)
        custom_values = values.pop("custom_fields", None)  # CUS-11: only the keys given change
        services.customer_update(
            actor=request.user,
            customer=customer,
            values=values,
            allow_duplicates=allow_duplicates,
            ip=client_ip(request),
            custom_values=custom_values,
        )
        return self._detail(customer.pk)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Move the customer to the recycle bin."""
        customer = self._editable(pk)
        services.customers_delete(
            actor=request.user, customers=Customer.objects.filter(pk=customer.pk), ip=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    # ---- bulk actions

    @extend_schema(request=CustomerTransferSerializer, responses={200: BulkResultSerializer})
    @action(detail=False, methods=["post"])
    def transfer(self, request):
        """Give customers to another owner (CUS-6). Only customers the caller may change move."""
        data = CustomerTransferSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        requested = set(data.validated_data["customer_ids"])
        found = set(
            selectors.customers_editable(request.user)
            .filter(pk__in=requested, owner__isnull=False)
            .values_list("pk", flat=True)
        )
        count = services.customers_transfer(
            actor=request.user,
            customers=Customer.objects.filter(pk__in=found),
            to_user=data.validated_data["to_user"],
            keep_previous_as_team=data.validated_data["keep_previous_as_team"],
            with_related=data.validated_data["with_related"],
            ip=client_ip(request),
        )
        return _bulk_result(count, requested, found)

    @extend_schema(request=CustomerShareSerializer, responses={200: BulkResultSerializer})
    @action(detail=False, methods=["post"])
    def share(self, request):
        """Share customers with colleagues (CUS-5); they then see them in their lists."""
        data = CustomerShareSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        requested = set(data.validated_data["customer_ids"])
        found = set(
            selectors.customers_editable(request.user)
            .filter(pk__in=requested, owner__isnull=False)
            .values_list("pk", flat=True)
        )
        if not found:
            return _bulk_result(0, requested, found)
        count = services.customers_share(
            actor=request.user,
            customers=Customer.objects.filter(pk__in=found),
            users=data.validated_data["user_ids"],
            can_edit=data.validated_data["can_edit"],
            ip=client_ip(request),
        )
        return _bulk_result(count, requested, found)

    @extend_schema(request=CustomerReleaseSerializer, responses={200: BulkResultSerializer})
    @action(detail=False, methods=["post"])
    def release(self, request):
        """Put customers into a pool (放入公海) with a reason: the caller's own customers, and with
        pool.transfer those whose owner is in the caller's scope. Customers under protection stay
        (listed in not_found); a batch of only protected customers answers 400."""
        data = CustomerReleaseSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        requested = set(data.validated_data["customer_ids"])
        pool = selectors.pools_visible(request.user).filter(pk=data.validated_data["pool_id"]).first()
        if pool is None:
            raise _bad_request("pool_id", _("请选择您可见的公海。"))
        result = pool_services.pool_release_many(
            actor=request.user,
            customers=selectors.customers_editable(request.user).filter(pk__in=requested),
            pool=pool,
            reason=data.validated_data["reason"],
            ip=client_ip(request),
        )
        return _bulk_result(result.count, requested, set(result.ids))

    @extend_schema(request=CustomerBulkUpdateSerializer, responses={200: BulkResultSerializer})
    @action(detail=False, methods=["post"], url_path="bulk-update")
    def bulk_update(self, request):
        """Set one field to one value on many customers (批量修改字段). count is how many changed;
        a customer that already had the value counts as found but not changed."""
        data = CustomerBulkUpdateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        requested = set(data.validated_data["customer_ids"])
        found = set(
            selectors.customers_editable(request.user).filter(pk__in=requested).values_list("pk", flat=True)
        )
        count = bulk_services.customers_bulk_update(
            actor=request.user,
            customers=Customer.objects.filter(pk__in=found),
            field=data.validated_data["field"],
            value=data.validated_data["value"],
            mode=data.validated_data["mode"],
            ip=client_ip(request),
        )
        return _bulk_result(count, requested, found)

    @extend_schema(request=CustomerUnshareSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def unshare(self, request, pk=None):
        """Take one user's access away: a share or a team membership (CUS-5)."""
        customer = self._editable(pk)
        data = CustomerUnshareSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        access = (
            CustomerAccess.objects.filter(customer=customer, user_id=data.validated_data["user_id"])
            .select_related("user")
            .first()
        )
        if access is None:
            raise _bad_request("user_id", _("这位员工不在该客户的共享或团队中。"))
        services.customer_unshare(
            actor=request.user, customer=customer, user=access.user, ip=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=CustomerTeamSerializer, responses={200: CustomerDetailSerializer})
    @action(detail=True, methods=["post"])
    def team(self, request, pk=None):
        """Add colleagues to the customer's team (CUS-5), read-only or read-write; an existing
        share becomes a team membership. The owner is never on their own customer's team."""
        customer = self._editable(pk)
        data = CustomerTeamSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        team_services.customer_team_add(
            actor=request.user,
            customer=customer,
            users=data.validated_data["user_ids"],
            can_edit=data.validated_data["can_edit"],
            ip=client_ip(request),
        )
        return self._detail(customer.pk)

    # ---- recycle bin

    @extend_schema(responses={200: RecycledCustomerSerializer(many=True)})
    @action(detail=False, methods=["get"], url_path="recycle-bin")
    def recycle_bin(self, request):
        """Deleted customers the caller may see in the recycle bin, most recently deleted first."""
        _require_any(request.user, ("customers.delete", "customers.settings"))
        customers = selectors.customers_in_recycle_bin(request.user).select_related("owner", "deleted_by")
        self.ordering = ("-deleted_at", "-pk")
        page = self.paginate_queryset(customers)
        return self.get_paginated_response(RecycledCustomerSerializer(page, many=True).data)

    @extend_schema(request=CustomerRestoreSerializer, responses={200: BulkResultSerializer})
    @action(detail=False, methods=["post"], url_path="recycle-bin/restore")
    def restore(self, request):
        """Restore customers from the recycle bin into a public pool (CUS-4)."""
        _require_any(request.user, ("pool.settings", "customers.settings"))
        data = CustomerRestoreSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        requested = set(data.validated_data["customer_ids"])
        found = set(
            selectors.customers_in_recycle_bin(request.user)
            .filter(pk__in=requested)
            .values_list("pk", flat=True)
        )
        count = services.customers_restore(
            actor=request.user,
            customers=Customer.objects.filter(pk__in=found),
            pool=data.validated_data.get("pool") or services.default_pool(),
            ip=client_ip(request),
        )
        return _bulk_result(count, requested, found)

    @extend_schema(request=CustomerIdsSerializer, responses={200: BulkResultSerializer})
    @action(detail=False, methods=["post"], url_path="recycle-bin/purge")
    def purge(self, request):
        """Delete customers in the recycle bin for good."""
        data = CustomerIdsSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        requested = set(data.validated_data["customer_ids"])
        found = set(
            selectors.customers_in_recycle_bin(request.user)
            .filter(pk__in=requested)
            .values_list("pk", flat=True)
        )
        count = services.customers_purge(
            actor=request.user, customers=Customer.objects.filter(pk__in=found), ip=client_ip(request)
        )
        return _bulk_result(count, requested, found)

    # ---- protection (CUS-9), duplicate check (CUS-7), merge

    @extend_schema(request=api_tools.ProtectSerializer, responses={200: api_tools.ProtectionSerializer})
    @action(detail=True, methods=["post"])
    def protect(self, request, pk=None):
        """Protect the customer from recycling for `days` days (owner or customers.settings),
        within the limits set by the admin."""
        customer = selectors.customer_get_for_user(user=request.user, customer_id=pk)
        data = api_tools.ProtectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = protection.customer_protect(
            actor=request.user, customer=customer, days=data.validated_data["days"], ip=client_ip(request)
        )
        return Response(_protection_data(customer))

    @extend_schema(request=None, responses={200: api_tools.ProtectionSerializer})
    @action(detail=True, methods=["post"])
    def unprotect(self, request, pk=None):
        """Cancel protection: the customer returns to the default pool."""
        customer = selectors.customer_get_for_user(user=request.user, customer_id=pk)
        customer = protection.customer_unprotect(actor=request.user, customer=customer, ip=client_ip(request))
        return Response(_protection_data(customer))

    @extend_schema(
        parameters=[api_tools.DuplicateQuerySerializer],
        responses={200: api_tools.DuplicateMatchSerializer(many=True)},
    )
    @action(detail=False, methods=["get"])
    def duplicates(self, request):
        """查重: similar customers (by the admin's duplicate fields) and protected customers of the
        same normalised name, shown by name and owner only."""
        _require_any(request.user, ("customers.create", "customers.edit"))
        data = api_tools.DuplicateQuerySerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        values = {k: v.strip() for k, v in data.validated_data.items() if v.strip()}
        if not values:
            raise _bad_request("name", _("请至少填写一项用于查重的内容，例如客户名称。"))
        found, protected = duplicates.duplicates_find(values=values)
        return Response([api_tools.match_data(m) for m in protected + found])

    @extend_schema(request=api_tools.MergeSerializer, responses={200: CustomerDetailSerializer})
    @action(detail=False, methods=["post"])
    def merge(self, request):
        """Merge two duplicates (customers.settings): chosen fields are taken from the source,
        its contacts, follow-ups and history move to the target, and the source is logged and
        removed."""
        data = api_tools.MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = selectors.customer_get_for_user(
            user=request.user, customer_id=data.validated_data["target_id"]
        )
        source = selectors.customer_get_for_user(
            user=request.user, customer_id=data.validated_data["source_id"]
        )
        merged = merge.customer_merge(
            actor=request.user,
            target=target,
            source=source,
            take_from_source=data.validated_data["take_from_source"],
            ip=client_ip(request),
        )
        return self._detail(merged.pk)


def _protection_data(customer: Customer) -> dict:
    return {
        "id": customer.pk,
        "protected_until": customer.protected_until,
        "owner_id": customer.owner_id,
        "pool_id": customer.pool_id,
    }


# ---------------------------------------------------------------- contacts


class ContactSerializer(FieldPermissionsMixin, serializers.ModelSerializer):
    """A contact (fields hidden from the caller left out, masked ones masked: ORG-8)."""

    field_module, field_context = "contacts", "detail"
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "customer",
            "customer_name",
            "name",
            "title",
            "department",
            "mobile",
            "phone",
            "email",
            "qq",
            "wechat",
            "birthday",
            "hometown",
            "is_primary",
            "remark",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContactWriteSerializer(StrictSerializer):
    """The contact form's fields and format checks."""

    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none())
    name = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=64, required=False, allow_blank=True)
    department = serializers.CharField(max_length=64, required=False, allow_blank=True)
    mobile = serializers.RegexField(
        MOBILE_RE,
        required=False,
        allow_blank=True,
        error_messages={"invalid": gettext_lazy("请输入有效的 11 位手机号码。")},
    )
    phone = serializers.RegexField(
        PHONE_RE,
        required=False,
        allow_blank=True,
        error_messages={"invalid": gettext_lazy("请输入有效的电话号码（数字、空格、+、- 和括号）。")},
    )
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    qq = serializers.RegexField(
        QQ_RE,
        required=False,
        allow_blank=True,
        error_messages={"invalid": gettext_lazy("QQ 号应为 5 到 12 位数字。")},
    )
    wechat = serializers.CharField(max_length=64, required=False, allow_blank=True)
    birthday = serializers.DateField(required=False, allow_null=True)
    hometown = serializers.CharField(max_length=64, required=False, allow_blank=True)
    is_primary = serializers.BooleanField(required=False)
    remark = serializers.CharField(max_length=10000, required=False, allow_blank=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _request_user(self)
        if user is not None:
            # A customer outside the caller's scope does not exist for them.
            self.fields["customer"].queryset = selectors.customers_visible(user, include_pool=True)


class ContactUpdateSerializer(ContactWriteSerializer):
    """A contact stays with its customer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["customer"]


@extend_schema(tags=["contacts"])
class ContactViewSet(OrderingParamMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Contacts of the customers the caller may see; one per customer is the primary contact."""

    module = "contacts"
    serializer_class = ContactSerializer
    ordering = "pk"
    ordering_fields = ("created_at", "updated_at", "name")  # ?ordering=

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contact.objects.none()
        return selectors.contacts_visible(self.request.user).select_related("customer")

    def _editable(self) -> Contact:
        contact = self.get_object()
        if not selectors.can_edit_customer(self.request.user, contact.customer):
            raise exceptions.PermissionDenied(_("您可以查看该客户，但没有修改它的联系人的权限。"))
        return contact

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", OpenApiTypes.INT, description="contacts of this customer"),
            OpenApiParameter("q", OpenApiTypes.STR, description="name, mobile or phone"),
        ]
    )
    def list(self, request):
        contacts = self.get_queryset()
        customer = request.query_params.get("customer", "")
        if customer:
            if not customer.isdigit() or int(customer) > MAX_DB_INT:
                raise _bad_request("customer", _("客户编号必须是整数。"))
            contacts = contacts.filter(customer_id=int(customer))
        query = request.query_params.get("q", "").strip()[:64]
        if query:
            hidden = field_policy.hidden_fields(request.user, "contacts")  # ORG-8: not searched either
            found = Q(name__icontains=query)
            for field in ("mobile", "phone"):
                if field not in hidden:
                    found |= Q(**{f"{field}__startswith": query})
            contacts = contacts.filter(found)
        page = self.paginate_queryset(contacts)
        context = self.get_serializer_context() | {"field_context": "list"}
        return self.get_paginated_response(ContactSerializer(page, many=True, context=context).data)

    @extend_schema(request=ContactWriteSerializer, responses={201: ContactSerializer})
    def create(self, request):
        """A new contact of a customer the caller may change; the first one becomes primary."""
        refuse_protected_input(request.user, "contacts", _keys(request.data))
        data = ContactWriteSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        customer = values.pop("customer")
        if not selectors.can_edit_customer(request.user, customer):
            raise exceptions.PermissionDenied(_("您可以查看该客户，但没有修改它的联系人的权限。"))
        contact = services.contact_create(
            actor=request.user, customer=customer, values=values, ip=client_ip(request)
        )
        contact = self.get_queryset().get(pk=contact.pk)
        return Response(
            ContactSerializer(contact, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=ContactUpdateSerializer, responses={200: ContactSerializer})
    def partial_update(self, request, pk=None):
        """Setting is_primary makes this the customer's only primary contact. The primary contact
        cannot simply be unset: make another contact primary instead."""
        contact = self._editable()
        refuse_protected_input(request.user, "contacts", _keys(request.data))
        data = ContactUpdateSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if contact.is_primary and values.get("is_primary") is False:
            raise _bad_request("is_primary", _("不能直接取消首要联系人，请把另一位联系人设为首要联系人。"))
        services.contact_update(actor=request.user, contact=contact, values=values, ip=client_ip(request))
        contact = self.get_queryset().get(pk=contact.pk)
        return Response(ContactSerializer(contact, context=self.get_serializer_context()).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Delete a contact; when it was the primary one, the oldest remaining contact takes over."""
        services.contact_delete(actor=request.user, contact=self._editable(), ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- dictionaries


@extend_schema_field(
    {
        "type": "string",
        "description": "dictionary kind: " + ", ".join(DictionaryItem.Kind.values),
    }
)
class DictionaryKindField(serializers.ChoiceField):
    """A dictionary kind. Documented as a plain string: `kind` is the customer kind's enum name."""


class DictionaryItemSerializer(serializers.ModelSerializer):
    kind = DictionaryKindField(choices=DictionaryItem.Kind.choices, read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    parent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = DictionaryItem
        fields = ["id", "kind", "kind_display", "name", "parent", "sort_order", "is_active"]


class DictionaryItemCreateSerializer(StrictSerializer):
    kind = DictionaryKindField(choices=DictionaryItem.Kind.choices)
    name = serializers.CharField(max_length=64)
    parent = serializers.PrimaryKeyRelatedField(
        queryset=DictionaryItem.objects.all(),
        required=False,
        allow_null=True,
        help_text="regions only: the province of a city",
    )


class DictionaryItemUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64, required=False)
    sort_order = serializers.IntegerField(min_value=0, max_value=100000, required=False)


@extend_schema(tags=["dictionaries"])
class DictionaryItemViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Admin-kept lists (CUS-12). Items are never deleted: deactivate them instead."""

    module = "customers"
    serializer_class = DictionaryItemSerializer
    action_permissions = {
        "create": "customers.settings",
        "partial_update": "customers.settings",
        "activate": "customers.settings",
        "deactivate": "customers.settings",
    }
    ordering = "pk"

    def get_queryset(self):
        return DictionaryItem.objects.all()

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(DictionaryItem.Kind.values)),
            OpenApiParameter("is_active", OpenApiTypes.BOOL),
        ]
    )
    def list(self, request):
        items = self.get_queryset()
        kind = request.query_params.get("kind", "")
        if kind:
            if kind not in DictionaryItem.Kind.values:
                raise _bad_request(
                    "kind",
                    _("未知的字典类型，可用：%(kinds)s。") % {"kinds": "、".join(DictionaryItem.Kind.values)},
                )
            items = items.filter(kind=kind)
        active = request.query_params.get("is_active", "")
        if active in ("true", "false"):
            items = items.filter(is_active=active == "true")
        page = self.paginate_queryset(items)
        return self.get_paginated_response(DictionaryItemSerializer(page, many=True).data)

    @extend_schema(request=DictionaryItemCreateSerializer, responses={201: DictionaryItemSerializer})
    def create(self, request):
        data = DictionaryItemCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        item = settings_services.dictionary_item_create(
            actor=request.user,
            kind=data.validated_data["kind"],
            name=data.validated_data["name"],
            parent=data.validated_data.get("parent"),
            ip=client_ip(request),
        )
        return Response(DictionaryItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DictionaryItemUpdateSerializer, responses={200: DictionaryItemSerializer})
    def partial_update(self, request, pk=None):
        item = self.get_object()
        data = DictionaryItemUpdateSerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        item = settings_services.dictionary_item_update(
            actor=request.user,
            item=item,
            name=data.validated_data.get("name", item.name),
            sort_order=data.validated_data.get("sort_order"),
            ip=client_ip(request),
        )
        return Response(DictionaryItemSerializer(item).data)

    @extend_schema(request=None, responses={200: DictionaryItemSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """No longer offered on forms; customers that use it keep it."""
        item = settings_services.dictionary_item_set_active(
            actor=request.user, item=self.get_object(), active=False, ip=client_ip(request)
        )
        return Response(DictionaryItemSerializer(item).data)

    @extend_schema(request=None, responses={200: DictionaryItemSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        item = settings_services.dictionary_item_set_active(
            actor=request.user, item=self.get_object(), active=True, ip=client_ip(request)
        )
        return Response(DictionaryItemSerializer(item).data)
