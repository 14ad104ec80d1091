"""Field permissions (ORG-8) in the REST API: hidden fields left out of answers, masked values
masked, and writes to hidden or read-only fields refused with a 400 naming the field."""

from collections.abc import Iterable, Mapping

from rest_framework import exceptions

from crm.access import field_policy


def _user(context: Mapping | None):
    request = (context or {}).get("request")
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


class FieldPermissionsMixin:
    """For output serializers: `field_module` names the module, `field_context` "list" or
    "detail" (overridable per call with context["field_context"]), `field_mapping` maps output
    keys that differ from the catalogue's field names. Without a request in the context the
    answer is not filtered, so views must pass `context=self.get_serializer_context()`."""

    field_module = "customers"
    field_context = field_policy.LIST
    field_mapping: Mapping[str, str] = {}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        user = _user(self.context)
        if user is None:
            return data
        context = self.context.get("field_context", self.field_context)
        access = self.context.setdefault(
            f"_field_access_{self.field_module}_{context}",
            field_policy.field_access(user, self.field_module, context),
        )
        return access.apply_to_dict(data, mapping=self.field_mapping)


def refuse_protected_input(user, module: str, keys: Iterable[str]) -> None:
    """400 {field: ["您没有修改“手机”的权限。"]} for any posted key the user may not write."""
    refused = field_policy.refused_input(user, module, keys)
    if refused:
        raise exceptions.ValidationError(refused)
