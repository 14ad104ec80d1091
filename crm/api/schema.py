"""The project's AutoSchema: the error responses every endpoint can give, and the `ordering` parameter.

Applied to all endpoints through REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"], so no view has to repeat
them: 400 (validation: {field: [messages]} or {"detail": …}), 401 (no or bad token), 403 (no
permission), 404 (missing or outside the caller's data scope; also a bad cursor) and 429 (rate limit,
with Retry-After).
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from crm.api.filtering import COMMON_FILTERS, filters_for

ERROR = inline_serializer(
    "APIError",
    {"detail": serializers.CharField(help_text="message in the user's language")},
)

ERROR_DESCRIPTIONS = {
    "400": 'Invalid input: an object of {field or "detail": [messages]}',
    "401": "Not authenticated, or the token is invalid, revoked or expired",
    "403": "The user lacks the permission for this operation",
    "404": "Not found, or outside the user's data scope",
    "429": "Rate limit exceeded; see the Retry-After header",
}


class CrmAutoSchema(AutoSchema):
    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        fields = getattr(self.view, "ordering_fields", None)
        actions = getattr(self.view, "ordering_actions", ("list",))
        if fields and self.method == "GET" and getattr(self.view, "action", None) in actions:
            names = {p.name for p in parameters if isinstance(p, OpenApiParameter)}
            if "ordering" not in names:
                choices = [v for name in fields for v in (name, f"-{name}")]
                parameters.append(
                    OpenApiParameter(
                        "ordering",
                        OpenApiTypes.STR,
                        enum=choices,
                        description="sort order; a leading '-' sorts descending; ties are broken by id, "
                        "so cursor paging stays stable",
                    )
                )
        if fields and self.method == "GET" and getattr(self.view, "action", None) in actions:
            names = {p.name for p in parameters if isinstance(p, OpenApiParameter)}
            model = getattr(getattr(self.view, "queryset", None), "model", None) or self._view_model()
            for name in filters_for(model):
                if name not in names:
                    kind = OpenApiTypes.INT if name == "owner" else OpenApiTypes.DATE
                    parameters.append(OpenApiParameter(name, kind, description=COMMON_FILTERS[name][1]))
        return parameters

    def _view_model(self):
        try:
            return self.view.get_queryset().model
        except Exception:  # noqa: BLE001 - a view without a queryset documents no shared filters
            return None

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        # Optional e-mail and URL columns hold "" when empty, which no `format` accepts: describe
        # what responses really carry. Requests keep the format (a value sent must be valid).
        if direction == "response":
            for name, prop in list(schema.get("properties", {}).items()):
                if isinstance(prop, dict) and prop.get("format") in {"email", "uri"}:
                    schema["properties"][name] = {k: v for k, v in prop.items() if k != "format"}
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        secured = bool(self.get_auth())
        for code, description in ERROR_DESCRIPTIONS.items():
            if code in {"401", "403"} and not secured:
                continue
            if code == "400":
                # Validation errors name fields: whatever a view declared, describe the real shape.
                responses[code] = {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": {},
                                "description": description,
                            }
                        }
                    },
                    "description": description,
                }
                continue
            if code not in responses:
                body = self._get_response_for_code(ERROR, code, direction=direction)
                body["description"] = description
                responses[code] = body
        return responses
