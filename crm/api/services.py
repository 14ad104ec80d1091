"""Writes on personal API tokens: create (the secret is returned once) and revoke; both audited."""

import re
import secrets
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.api.models import PREFIX_LENGTH, APIToken, hash_secret
from crm.audit.services import log_action

MAX_ACTIVE_TOKENS = 50
RATE_RE = re.compile(r"^\d{1,6}/(s|sec|second|m|min|minute|h|hour|d|day)$")


@transaction.atomic
def token_create(
    *,
    user,
    name: str,
    expires_at: datetime | None = None,
    rate_limit: str = "",
    ip: str | None = None,
    enforce_limit: bool = True,
) -> tuple[APIToken, str]:
    """A new token for `user`; returns (token, secret). Only the SHA-256 of the secret is stored.

    A user holds at most MAX_ACTIVE_TOKENS unexpired, unrevoked tokens made by hand; the token login
    endpoint (`enforce_limit=False`) issues expiring tokens without that cap."""
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("请填写令牌名称。")]
    elif len(name) > 64:
        errors["name"] = [_("令牌名称最多 64 个字符。")]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("过期时间必须晚于现在。")]
    rate_limit = (rate_limit or "").strip()
    if rate_limit and not RATE_RE.match(rate_limit):
        errors["rate_limit"] = [_("频率限制格式应为“次数/单位”，如 60/min、1000/hour。")]
    if errors:
        raise ValidationError(errors)
    active = APIToken.objects.filter(user=user, revoked_at__isnull=True).exclude(
        expires_at__lte=timezone.now()
    )
    if enforce_limit and active.count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            _("有效令牌已达 %(count)d 个上限，请先撤销不用的令牌。") % {"count": MAX_ACTIVE_TOKENS}
        )
    secret = secrets.token_urlsafe(32)  # 43 characters
    token = APIToken.objects.create(
        user=user,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        key_hash=hash_secret(secret),
        expires_at=expires_at,
        rate_limit=rate_limit,
    )
    log_action(
        actor=user,
        action="api_token.created",
        target=token,
        changes={"name": name, "prefix": token.prefix, "expires_at": expires_at},
        ip_address=ip,
    )
    return token, secret


def token_get_for_user(*, user, token_id) -> APIToken:
    """The caller's own token, or ValidationError-free 404 (Http404) for missing and foreign alike."""
    from django.http import Http404

    try:
        return APIToken.objects.get(pk=int(token_id), user=user)
    except (APIToken.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


@transaction.atomic
def token_revoke(*, user, token_id, ip: str | None = None) -> APIToken:
    """Revoke one of the user's own tokens (404 for anyone else's); revoking twice changes nothing."""
    token = token_get_for_user(user=user, token_id=token_id)
    updated = APIToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    if updated:
        log_action(
            actor=user,
            action="api_token.revoked",
            target=token,
            changes={"name": token.name, "prefix": token.prefix},
            ip_address=ip,
        )
    return token
