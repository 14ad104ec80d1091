from django import template
from django.forms import CheckboxInput, CheckboxSelectMultiple, RadioSelect, Select, SelectMultiple
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def bs(field):
    """Render a form field with Tabler/Bootstrap classes."""
    widget = field.field.widget
    if isinstance(widget, (CheckboxSelectMultiple, RadioSelect)):
        css = "form-check-input"
        return field.as_widget(attrs={"class": css})
    if isinstance(widget, CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, (Select, SelectMultiple)):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})


@register.simple_tag(takes_context=True)
def query_replace(context, **kwargs):
    """The current query string with some parameters replaced (keeps filters while paging)."""
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.filter
def action_label(code: str) -> str:
    """A human label for an operation-log action code such as "user.roles_changed"."""
    from crm.audit.labels import ACTION_LABELS

    label = ACTION_LABELS.get(code)
    return str(label) if label else code


@register.filter
def change_rows(log) -> list[tuple[str, str, str]]:
    """A log entry's changes as (field label, old, new), labels from the target model's fields."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.exceptions import FieldDoesNotExist

    from crm.audit.labels import CHANGE_LABELS

    model = ContentType.objects.get_for_id(log.target_type_id).model_class() if log.target_type_id else None
    rows = []
    for field, values in (log.changes or {}).items():
        label, choices = str(CHANGE_LABELS.get(field, field)), {}
        if model is not None:
            try:
                model_field = model._meta.get_field(field)
                label = str(model_field.verbose_name)
                # A field with choices was logged by its stored value: show its label.
                choices = {str(k): v for k, v in getattr(model_field, "flatchoices", None) or ()}
            except FieldDoesNotExist:
                from crm.customfields.selectors import label_for_model  # custom fields (CUS-11)

                label = label_for_model(model, field) or str(CHANGE_LABELS.get(field, field))
        old, new = (values + [None, None])[:2] if isinstance(values, list) else (None, values)
        rows.append((label, _change_value(old, choices), _change_value(new, choices)))
    return rows


def _change_value(value, choices: dict | None = None) -> str:
    if value is None or value == "" or value == []:
        return "∅"
    if choices and str(value) in choices:
        return str(choices[str(value)])
    if isinstance(value, str) and len(value) > 16 and value[4:5] == "-" and value[10:11] in ("T", " "):
        # A date-time logged as ISO text: show it in local time, to the minute.
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return moment.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list):
        return _("、").join(str(v) for v in value)
    return str(value)
