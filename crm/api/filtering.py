"""Filters every list endpoint of the customer and sales modules shares: `owner` (a user id) and the
creation date range `created_from` / `created_to` (YYYY-MM-DD, inclusive, in the server's time zone).

`OrderingParamMixin` applies them (list actions only) to the queryset a view hands to
`paginate_queryset`, which is already limited to what the caller may see; a filter applies only where
the listed model has the column (`owner`, `created_at`). Bad values answer 400 with the field named.
`CrmAutoSchema` documents the parameters for each view whose model has the columns.
"""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions

COMMON_FILTERS = {
    # parameter: (model column it needs, description)
    "owner": ("owner", "owner's user id"),
    "created_from": ("created_at", "created on or after this date (YYYY-MM-DD)"),
    "created_to": ("created_at", "created on or before this date (YYYY-MM-DD)"),
}


def has_column(model, name: str) -> bool:
    return any(field.name == name for field in model._meta.get_fields())


def filters_for(model) -> list[str]:
    return [param for param, (column, _help) in COMMON_FILTERS.items() if model and has_column(model, column)]


def _day(params, name: str) -> dt.date | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise exceptions.ValidationError({name: [_("日期格式应为 YYYY-MM-DD。")]}) from exc


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def apply_common_filters(queryset, params):
    available = set(filters_for(queryset.model))
    if "owner" in available and params.get("owner", "").strip():
        try:
            queryset = queryset.filter(owner_id=int(params["owner"]))
        except ValueError as exc:
            raise exceptions.ValidationError({"owner": [_("负责人应为员工 ID（整数）。")]}) from exc
    if "created_from" in available:
        start, end = _day(params, "created_from"), _day(params, "created_to")
        if start and end and start > end:
            raise exceptions.ValidationError({"created_to": [_("结束日期不能早于开始日期。")]})
        if start:
            queryset = queryset.filter(created_at__gte=_day_start(start))
        if end:
            queryset = queryset.filter(created_at__lt=_day_start(end + dt.timedelta(days=1)))
    return queryset
