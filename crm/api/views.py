"""API documentation pages, served entirely from our own static files (no CDN, no outside calls)."""

import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerView


class OfflineSwaggerView(SpectacularSwaggerView):
    """Swagger UI from drf-spectacular-sidecar under /static/.

    Swagger UI would also send the schema to validator.swagger.io for its "valid" badge; an
    intranet installation must not call out, so that validator is switched off.
    """

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        settings = dict(spectacular_settings.SWAGGER_UI_SETTINGS or {})
        settings["validatorUrl"] = None
        response.data["settings"] = json.dumps(settings, indent=2)
        return response


@csrf_exempt  # answers 404 to every method; a POST must not get the HTML CSRF page instead
def not_found(request, *args, **kwargs):
    """404 in JSON for a URL under /api/ that no endpoint matches (e.g. /api/v1/customers/abc.def/).

    A GET that only lacks its trailing slash is redirected, as CommonMiddleware's APPEND_SLASH would.
    """
    from django.http import HttpResponsePermanentRedirect
    from django.urls import Resolver404, resolve
    from rest_framework.exceptions import NotFound

    path = request.path_info
    if request.method in {"GET", "HEAD"} and not path.endswith("/"):
        try:
            match = resolve(path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
