"""Field permissions (ORG-8) in templates: `{% field_value fields obj "mobile" %}` gives the value
as the user may see it (masked, or empty when hidden); `{% if fields.shows.mobile %}` tells
whether to render a field at all. `fields` is a crm.access.field_policy.FieldAccess."""

from django import template

register = template.Library()


@register.simple_tag
def field_value(fields, obj, name: str):
    if fields is None:
        return getattr(obj, name, "")
    value = fields.value(obj, name)
    return "" if value is None else value
