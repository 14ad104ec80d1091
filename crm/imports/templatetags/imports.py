"""`{% import_button "customers" "contacts" %}`: the 导入 button of a list page, for the targets the
user may import (one button, or a dropdown for several); nothing without permission."""

from django import template
from django.template.loader import render_to_string

from crm.access import policy
from crm.imports.targets import get_target

register = template.Library()


@register.simple_tag(takes_context=True)
def import_button(context, *keys: str) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    targets = [t for t in (get_target(k) for k in keys) if t is not None and policy.can(user, t.permission)]
    if not targets:
        return ""
    return render_to_string("imports/_button.html", {"targets": targets}, request=request)
