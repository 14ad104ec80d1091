"""Keyset paging for lists that can grow without bound (DESIGN.md: OFFSET grows with the page).

The cursor is the (created_at, id) of the last row shown; the next page is the rows strictly
after it in (-created_at, -id) order. One query per page, LIMIT n+1 to know if there is more.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime


@dataclass
class KeysetPage:
    items: list
    next_cursor: str | None


def keyset_page(
    queryset: QuerySet, cursor: str | None, size: int, time_field: str = "created_at"
) -> KeysetPage:
    queryset = queryset.order_by(f"-{time_field}", "-pk")
    position = _parse(cursor)
    if position is not None:
        when, pk = position
        queryset = queryset.filter(Q(**{f"{time_field}__lt": when}) | Q(**{time_field: when, "pk__lt": pk}))
    rows = list(queryset[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    next_cursor = f"{getattr(rows[-1], time_field).isoformat()}_{rows[-1].pk}" if has_more and rows else None
    return KeysetPage(rows, next_cursor)


def _parse(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor or "_" not in cursor:
        return None
    when_text, _sep, pk_text = cursor.rpartition("_")
    when = parse_datetime(when_text)
    if when is None or not pk_text.isdigit():
        return None
    return when, int(pk_text)
