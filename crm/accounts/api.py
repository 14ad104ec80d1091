"""REST endpoints for users, departments and roles; same services, same access policy as the UI.

Every write goes through `crm.accounts.services` (validation, one transaction, operation log);
every read goes through the access policy, so a record outside the caller's data scope answers
404 exactly like a record that does not exist.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from crm.access import policy
from crm.access.registry import ALL_PERMISSIONS
from crm.accounts import selectors, services
from crm.accounts.models import Department, Role, User
from crm.api.serializers import StrictSerializer
from crm.audit.services import log_action
from crm.core.mixins import client_ip
from crm.customers.models import Pool

ERROR_RESPONSE = inline_serializer("ErrorResponse", {"detail": serializers.CharField()})


def _request_user(serializer):
    request = serializer.context.get("request")
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


# ---------------------------------------------------------------- token login


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=254, help_text="username or e-mail address")
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="the secret; shown only in this response")
    expires_at = serializers.DateTimeField()


class TokenLoginThrottle(AnonRateThrottle):
    """Per client IP; the per-username lock-out (django-axes) is the real brute-force guard."""

    scope = "api_token"
    rate = "30/min"


@extend_schema_view(post=extend_schema(tags=["auth"]))
class TokenLoginView(APIView):
    """Exchange a username (or e-mail) and password for a new personal API token.

    Each call creates a token named "API 登录 <date>" that expires after API_LOGIN_TOKEN_DAYS days
    (default 30); it is listed, and can be revoked, in the user's profile like any other token.

    Same rules as the login page: disabled accounts cannot log in, and 5 failed attempts on one
    username lock it for 15 minutes (HTTP 429), even with the right password.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenLoginThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: ERROR_RESPONSE,
            403: ERROR_RESPONSE,
            429: ERROR_RESPONSE,
        },
        auth=[],
    )
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        login = data.validated_data["username"]
        # django-axes needs the Django request: it counts failures and flags a lock-out on it.
        django_request = request._request
        user = authenticate(django_request, username=login, password=data.validated_data["password"])
        if user is None:
            if getattr(django_request, "axes_locked_out", False):
                # We answer the lock-out ourselves, in JSON; left set, the flag makes AxesMiddleware
                # swap this response for the HTML login page.
                django_request.axes_locked_out = False
                return Response(
                    {"detail": _("登录失败次数过多，该账号已被锁定 15 分钟，请稍后再试或联系管理员。")},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                )
            return Response(
                {"detail": _("用户名或密码不正确。连续失败 5 次账号将被锁定 15 分钟。")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if settings.AXES_ENABLED and settings.AXES_RESET_ON_SUCCESS:
            # What a login through the page does (AXES_RESET_ON_SUCCESS): earlier failures are forgiven.
            from axes.handlers.proxy import AxesProxyHandler

            for name in {login, user.get_username()}:
                AxesProxyHandler.reset_attempts(username=name)
        if user.must_change_password:
            return Response(
                {"detail": _("请先登录网页修改初始密码，然后再获取 API 令牌。")},
                status=status.HTTP_403_FORBIDDEN,
            )
        update_last_login(None, user)
        from crm.api.services import token_create

        now = timezone.now()
        expires_at = now + timedelta(days=settings.API_LOGIN_TOKEN_DAYS)
        token, secret = token_create(
            user=user,
            name=_("API 登录 %(date)s") % {"date": timezone.localdate(now).isoformat()},
            expires_at=expires_at,
            ip=client_ip(request),
            enforce_limit=False,
        )
        log_action(actor=user, action="auth.token_issued", target=user, ip_address=client_ip(request))
        expires = serializers.DateTimeField().to_representation(token.expires_at)
        return Response({"token": secret, "expires_at": expires})


# ---------------------------------------------------------------- departments


class DepartmentSerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Department
        fields = ["id", "name", "parent", "path", "created_at", "updated_at"]


class DepartmentWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64)
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), allow_null=True, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _request_user(self)
        if user is not None:
            # A department outside the caller's scope does not exist for them.
            self.fields["parent"].queryset = policy.visible_departments(user)


@extend_schema(tags=["departments"])
class DepartmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The organisation tree. Only an empty department can be deleted; the top one never."""

    module = "departments"
    serializer_class = DepartmentSerializer
    ordering = "path"  # tree order, for KeysetCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Department.objects.none()
        return policy.visible_departments(self.request.user).order_by("path")

    @extend_schema(request=DepartmentWriteSerializer, responses={201: DepartmentSerializer})
    def create(self, request):
        data = DepartmentWriteSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        department = services.department_create(
            actor=request.user,
            name=data.validated_data["name"],
            parent=data.validated_data.get("parent"),
            ip=client_ip(request),
        )
        return Response(DepartmentSerializer(department).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DepartmentWriteSerializer, responses={200: DepartmentSerializer})
    def partial_update(self, request, pk=None):
        department = self.get_object()
        data = DepartmentWriteSerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        department = services.department_update(
            actor=request.user,
            department=department,
            name=data.validated_data.get("name", department.name),
            parent=data.validated_data.get("parent", department.parent),
            ip=client_ip(request),
        )
        return Response(DepartmentSerializer(department).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.department_delete(actor=request.user, department=self.get_object(), ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- roles


class RoleSerializer(serializers.ModelSerializer):
    custom_departments = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    permissions = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Role
        fields = [
            "id",
            "name",
            "code",
            "description",
            "is_super",
            "is_builtin",
            "data_scope",
            "custom_departments",
            "permissions",
            "field_permissions",
        ]


class RoleWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    data_scope = serializers.ChoiceField(choices=Role.DataScope.choices)
    custom_departments = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Department.objects.all(), required=False
    )
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(ALL_PERMISSIONS)), required=False
    )
    field_permissions = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text='field permissions (ORG-8), e.g. {"customers.mobile": "mask_list"}; rules: '
        "readonly, hidden, mask_list, mask; a field not listed is editable",
    )


@extend_schema(tags=["roles"])
class RoleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Operation permissions plus a data scope. 超级管理员 cannot be edited; built-in roles not deleted."""

    module = "roles"
    serializer_class = RoleSerializer

    def get_queryset(self):
        return Role.objects.prefetch_related("custom_departments").order_by("pk")

    def _save(self, request, role):
        data = RoleWriteSerializer(
            data=request.data, partial=role is not None, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        values = data.validated_data
        current = (
            {}
            if role is None
            else {
                "name": role.name,
                "description": role.description,
                "data_scope": role.data_scope,
                "custom_departments": list(role.custom_departments.all()),
                "permissions": role.permissions,
                "field_permissions": role.field_permissions,
            }
        )
        role = services.role_save(actor=request.user, role=role, ip=client_ip(request), **(current | values))
        return self.get_queryset().get(pk=role.pk)

    @extend_schema(request=RoleWriteSerializer, responses={201: RoleSerializer})
    def create(self, request):
        return Response(RoleSerializer(self._save(request, None)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RoleWriteSerializer, responses={200: RoleSerializer})
    def partial_update(self, request, pk=None):
        return Response(RoleSerializer(self._save(request, self.get_object())).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.role_delete(actor=request.user, role=self.get_object(), ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- users


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    department_name = serializers.CharField(
        source="department.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "name",
            "email",
            "phone",
            "position",
            "department",
            "department_name",
            "manager",
            "roles",
            "is_active",
            "date_joined",
            "last_login",
        ]


class UserCreateSerializer(StrictSerializer):
    username = serializers.RegexField(r"^[\w.@+-]+$", max_length=150)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    name = serializers.CharField(max_length=64)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phone = serializers.RegexField(r"^[0-9+\- ]{5,32}$", required=False, allow_blank=True)
    position = serializers.CharField(max_length=64, required=False, allow_blank=True)
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), required=False)
    manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    roles = serializers.PrimaryKeyRelatedField(many=True, queryset=Role.objects.all(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _request_user(self)
        if user is not None:
            # Departments and people outside the caller's scope do not exist for them.
            self.fields["department"].queryset = policy.visible_departments(user)
            self.fields["manager"].queryset = policy.visible_users(user).filter(is_active=True)

    def validate_password(self, value):
        from django.contrib.auth.password_validation import validate_password

        initial = self.initial_data if hasattr(self.initial_data, "get") else {}
        validate_password(
            value,
            User(
                username=str(initial.get("username", "")),
                email=str(initial.get("email", "")),
                name=str(initial.get("name", "")),
            ),
        )
        return value

    def validate_roles(self, roles):
        actor = _request_user(self)
        if any(role.is_super for role in roles) and actor is not None and not policy.is_super_admin(actor):
            raise serializers.ValidationError(_("只有超级管理员可以授予超级管理员角色。"))
        return roles


class UserUpdateSerializer(UserCreateSerializer):
    """Username and password are not changed here (password: the reset screen)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["username"]
        del self.fields["password"]

    def validate_roles(self, roles):
        return roles  # services.user_set_roles guards granting and revoking 超级管理员


class UserDisableSerializer(StrictSerializer):
    hand_over_to = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.all(), required=False, allow_null=True)


@extend_schema(tags=["users"])
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Employees. Never deleted: disable instead."""

    module = "users"
    serializer_class = UserSerializer
    action_permissions = {"me": None, "disable": "users.edit", "enable": "users.edit"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return User.objects.none()
        params = self.request.query_params
        department = params.get("department", "")
        status_filter = {"true": "active", "false": "disabled"}.get(params.get("is_active", ""), "all")
        users = selectors.user_list(
            viewer=self.request.user,
            query=params.get("q", "").strip()[:100],
            status=status_filter,
            department_id=int(department) if department.isdigit() else None,
        )
        return users.order_by("pk")

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="search username, name, e-mail, phone"),
            OpenApiParameter(
                "department", OpenApiTypes.INT, description="this department and those below it"
            ),
            OpenApiParameter("is_active", OpenApiTypes.BOOL),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _fresh(self, user):
        return User.objects.select_related("department").prefetch_related("roles").get(pk=user.pk)

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer})
    def create(self, request):
        data = UserCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        user = services.user_create(actor=request.user, ip=client_ip(request), **data.validated_data)
        return Response(UserSerializer(self._fresh(user)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=UserUpdateSerializer, responses={200: UserSerializer})
    def partial_update(self, request, pk=None):
        user = self.get_object()
        data = UserUpdateSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        current = {
            "name": user.name,
            "email": user.email,
            "phone": user.phone,
            "position": user.position,
            "department": user.department,
            "manager": user.manager,
        }
        user = services.user_update(
            actor=request.user, user=user, ip=client_ip(request), **(current | data.validated_data)
        )
        return Response(UserSerializer(self._fresh(user)).data)

    @extend_schema(responses={200: UserSerializer})
    @action(detail=False, methods=["get"])
    def me(self, request):
        """The caller's own record; needs no permission."""
        return Response(UserSerializer(self._fresh(request.user)).data)

    @extend_schema(request=UserDisableSerializer, responses={200: UserSerializer})
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        """Disable an account (it can no longer log in or use its tokens); not yourself.

        If the user still owns customers, name a colleague (`hand_over_to`) or a pool (`pool`)."""
        from crm.customers.services import user_disable_with_hand_over

        user = self.get_object()
        data = UserDisableSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        user_disable_with_hand_over(
            actor=request.user,
            user=user,
            to_user=data.validated_data.get("hand_over_to"),
            pool=data.validated_data.get("pool"),
            ip=client_ip(request),
        )
        return Response(UserSerializer(self._fresh(user)).data)

    @extend_schema(request=None, responses={200: UserSerializer})
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        user = services.user_set_active(
            actor=request.user, user=self.get_object(), active=True, ip=client_ip(request)
        )
        return Response(UserSerializer(self._fresh(user)).data)
