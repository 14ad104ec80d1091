"""Rate limits per API token (token calls) or per user (session calls), counted in the default cache."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle

from crm.api.models import APIToken

DEFAULT_RATE = "120/min"


class TokenRateThrottle(SimpleRateThrottle):
    """`settings.API_RATE_LIMIT` (default 120/min) per token, or the token's own `rate_limit`.

    Over the limit the API answers 429 with a Retry-After header and a message saying when to retry.
    Anonymous calls are not counted here: they get 401 (the token login view has its own throttle).
    """

    scope = "api"

    def get_rate(self):
        return getattr(settings, "API_RATE_LIMIT", DEFAULT_RATE) or DEFAULT_RATE

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        if isinstance(token, APIToken):
            return f"throttle_api_token_{token.pk}"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"throttle_api_user_{user.pk}"
        return None

    def allow_request(self, request, view):
        token = getattr(request, "auth", None)
        if isinstance(token, APIToken) and token.rate_limit:
            self.rate = token.rate_limit
        else:
            self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if super().allow_request(request, view):
            return True
        wait = self.wait()
        seconds = max(1, int(wait or 1))
        error = exceptions.Throttled(wait=seconds)
        # DRF would append an English "Expected available in …"; one message in the user's language.
        error.detail = exceptions.ErrorDetail(
            _("请求过于频繁（限额 %(rate)s），请在 %(seconds)d 秒后重试。")
            % {"rate": self.rate, "seconds": seconds},
            code="throttled",
        )
        raise error
