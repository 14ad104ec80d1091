"""`?ordering=<field>` / `?ordering=-<field>` on list endpoints, from an allow-list, cursor-safe.

A view lists what may be sorted on (`ordering_fields = ("created_at", "name", ...)`: plain,
non-null columns of the listed model, since the cursor stores the first field's value) and mixes in
`OrderingParamMixin` before GenericViewSet. The mixin sets `view.ordering` — which
`KeysetCursorPagination` reads — to (field, pk) with the pk in the same direction as a tie-breaker,
so every row has a distinct position and paging is stable however many rows share a value. The
cursor encodes its position for that ordering; a client keeps the same `ordering` while following
`next`/`previous` (the links carry it). `CrmAutoSchema` documents the parameter with its choices.
The same hook applies the filters every list shares (crm/api/filtering.py: owner, creation date range).
"""

from django.utils.translation import gettext as _
from rest_framework import exceptions

from crm.api.filtering import apply_common_filters


class OrderingParamMixin:
    ordering_fields: tuple[str, ...] = ()
    ordering_actions: tuple[str, ...] = ("list",)

    def ordering_from_request(self) -> tuple[str, str] | None:
        raw = self.request.query_params.get("ordering", "").strip()
        if not raw:
            return None
        field = raw.removeprefix("-")
        if field not in self.ordering_fields:
            choices = ", ".join(v for name in self.ordering_fields for v in (name, f"-{name}"))
            raise exceptions.ValidationError(
                {
                    "ordering": [
                        _("不支持的排序字段“%(value)s”，可选：%(choices)s。")
                        % {"value": raw[:50], "choices": choices}
                    ]
                }
            )
        descending = raw.startswith("-")
        return (raw if descending else field, "-pk" if descending else "pk")

    def paginate_queryset(self, queryset):
        if getattr(self, "action", None) in self.ordering_actions:
            queryset = apply_common_filters(queryset, self.request.query_params)
            ordering = self.ordering_from_request()
            if ordering is not None:
                self.ordering = ordering
        return super().paginate_queryset(queryset)
