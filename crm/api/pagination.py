from rest_framework.pagination import CursorPagination


class KeysetCursorPagination(CursorPagination):
    """Keyset paging (fast at any depth); a view may set `ordering` (a unique, indexed field)."""

    ordering = "pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_ordering(self, request, queryset, view):
        # DRF's CursorPagination only reads `ordering` from itself (or an OrderingFilter), so a
        # view's `ordering` would silently be replaced by "pk".
        ordering = getattr(view, "ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)
