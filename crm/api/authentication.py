"""`Authorization: Bearer <secret>` or `Authorization: Token <secret>` with a personal API token.

The request then acts as the token's user, with that user's permissions and data scope (the
permission class and the selectors do the rest).
"""

import ipaddress
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from crm.api.models import APIToken, hash_secret

KEYWORDS = (b"bearer", b"token")
LAST_USED_EVERY = timedelta(minutes=1)


class APITokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None  # not ours: the session (or nothing) decides
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Authorization 头格式应为“Bearer <令牌>”。"))
        try:
            secret = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("API 令牌无效。")) from None
        token = APIToken.objects.select_related("user").filter(key_hash=hash_secret(secret)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("API 令牌无效。"))
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("API 令牌已被撤销。"))
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("API 令牌已过期，请在个人资料中创建新令牌。"))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("该账号已停用，令牌不可用。"))
        self._touch(token, request, now)
        return token.user, token

    @staticmethod
    def _touch(token: APIToken, request, now) -> None:
        """Record the last use at most once a minute (one conditional UPDATE; no query within the minute)."""
        if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
            return
        ip = request.META.get("REMOTE_ADDR") or None
        try:
            ipaddress.ip_address(ip or "")
        except ValueError:
            ip = None  # e.g. a unix socket: not an address the inet column would accept
        APIToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY)
        ).update(last_used_at=now, last_used_ip=ip)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class APITokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "crm.api.authentication.APITokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Personal API token (profile → API tokens, or POST /api/v1/auth/token/); "
            "`Authorization: Token <token>` is accepted too.",
        }
