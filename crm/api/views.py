"""API documentation pages, served entirely from our own static files (no CDN, no outside calls)."""

import json

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
