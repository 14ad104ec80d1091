"""`{% export_menu "customers" %}` (the 导出 dropdown of a list page) and
`{% export_selected "customers" %}` (导出选中 in a list's bulk bar, inside its form). Both show
only to users with the list's export permission and carry the page's query string."""

from urllib.parse import urlencode

from django import template
from django.utils.translation import gettext as _

from crm.access import policy
from crm.exports import registry

register = template.Library()

DROP = ("cursor", "page")


def _export(context, list_key: str, params: str | None = None) -> dict | None:
    request = context.get("request")
    spec = registry.get(list_key)
    if request is None or spec is None or not request.user.is_authenticated:
        return None
    if not policy.can(request.user, spec.permission):
        return None
    if params is None:
        query = request.GET.copy()
        for key in DROP:
            query.pop(key, None)
        params = query.urlencode()
    return {
        "key": spec.key,
        "params": params,
        "options": [
            ("xlsx", "visible", _("导出当前结果 Excel"), "export-xlsx"),
            ("csv", "visible", _("导出当前结果 CSV"), "export-csv"),
            ("xlsx", "all", _("全部字段 Excel"), "export-all-xlsx"),
            ("csv", "all", _("全部字段 CSV"), "export-all-csv"),
        ],
    }


@register.inclusion_tag("exports/_export_menu.html", takes_context=True)
def export_menu(context, list_key: str, small: bool = False, **filters) -> dict:
    """`filters` (`customer=customer.pk`): the list's conditions when they are not the page's own
    query string (a customer's contacts on the customer page)."""
    params = urlencode({key: str(value) for key, value in filters.items()}) if filters else None
    return {
        "export": _export(context, list_key, params),
        "csrf_token": context.get("csrf_token"),
        "small": small,
    }


@register.inclusion_tag("exports/_export_selected.html", takes_context=True)
def export_selected(context, list_key: str) -> dict:
    return {"export": _export(context, list_key)}


@register.simple_tag(takes_context=True)
def can_export(context, list_key: str) -> bool:
    return _export(context, list_key) is not None
