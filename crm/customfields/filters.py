"""Custom fields in list searches and advanced filters (`custom.<key>` conditions).

Only searchable, active fields take part. Every lookup is a Django JSON key transform on
`custom_data` (`custom_data__<key>__icontains`, `…__exact`, KeyTextTransform + Cast for numeric
ranges), so the same code runs on SQLite and PostgreSQL, and nothing from the request reaches
SQL except as a bound parameter: the key comes from a stored definition (its format is checked
when it is created), the operator from the allow-lists below.
"""

import json
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.db.models import DecimalField, IntegerField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.db.models.lookups import GreaterThanOrEqual, LessThan, LessThanOrEqual
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from crm.customfields import selectors
from crm.customfields.models import NUMBER_TYPES, QUICK_SEARCH_TYPES, TEXT_TYPES, CustomField

T = CustomField.FieldType
PREFIX = "custom."

OP_LABELS = {
    "contains": _("包含"),
    "equals": _("等于"),
    "startswith": _("开头是"),
    "empty": _("为空"),
    "is": _("是"),
    "has": _("包含选项"),
    "gte": _("不小于"),
    "lte": _("不大于"),
    "after": _("不早于"),
    "before": _("不晚于"),
}
TEXT_OPS = ("contains", "equals", "startswith", "empty")
NUMBER_OPS = ("equals", "gte", "lte", "empty")
DATE_OPS = ("after", "before", "empty")
CHOICE_OPS = ("is", "empty")
MULTI_OPS = ("has", "empty")
BOOLEAN_OPS = ("is",)
USER_OPS = ("is", "empty")


class BadCustomFilterError(ValueError):
    """Not a searchable custom field, not an operator of its type, or a bad value."""


def is_custom(path: str) -> bool:
    return path.startswith(PREFIX)


def filter_fields(target: str, *, holder=None) -> list[CustomField]:
    """Active searchable fields: the ones the advanced filter offers."""
    return [f for f in selectors.active_fields(target, holder=holder) if f.searchable]


def filter_field(target: str, path: str) -> CustomField | None:
    key = path.removeprefix(PREFIX)
    return next((f for f in filter_fields(target) if f.key == key), None)


def field_options(target: str) -> list[tuple[str, str]]:
    """(custom.<key>, label) for the field select of the advanced filter."""
    return [(f.path, f.label) for f in filter_fields(target)]


def ops_of(field: CustomField) -> tuple[str, ...]:
    kind = field.field_type
    if kind in TEXT_TYPES:
        return TEXT_OPS
    if kind in NUMBER_TYPES:
        return NUMBER_OPS
    if kind in (T.DATE, T.DATETIME):
        return DATE_OPS
    if kind == T.CHOICE:
        return CHOICE_OPS
    if kind == T.MULTI_CHOICE:
        return MULTI_OPS
    if kind == T.BOOLEAN:
        return BOOLEAN_OPS
    return USER_OPS


def op_choices(target: str, path: str) -> list[tuple[str, str]]:
    field = filter_field(target, path)
    return [(op, str(OP_LABELS[op])) for op in ops_of(field)] if field else []


def widget(target: str, path: str) -> str:
    field = filter_field(target, path)
    if field is None:
        return "text"
    if field.field_type in (T.CHOICE, T.MULTI_CHOICE, T.BOOLEAN, T.USER):
        return "select"
    if field.field_type in (T.DATE, T.DATETIME):
        return "date"
    return "text"


def value_choices(target: str, path: str, user=None) -> list[tuple[str, str]]:
    field = filter_field(target, path)
    if field is None:
        return []
    if field.field_type in (T.CHOICE, T.MULTI_CHOICE):
        return [(o, o) for o in field.options or []]
    if field.field_type == T.BOOLEAN:
        return [("true", str(_("是"))), ("false", str(_("否")))]
    if field.field_type == T.USER:
        from crm.access import policy
        from crm.accounts.models import User

        users = policy.visible_users(user) if user is not None else User.objects.filter(is_active=True)
        return [(str(u.pk), u.display_name) for u in users.order_by("-is_active", "pk")[:500]]
    return []


def _column(key: str) -> str:
    return f"custom_data__{key}"


def condition_q(target: str, path: str, op: str, value: str) -> Q:
    """The Q of one `custom.<key>` condition; raises BadCustomFilterError on anything not allowed."""
    field = filter_field(target, path)
    if field is None:
        raise BadCustomFilterError(path)
    if op not in ops_of(field):
        raise BadCustomFilterError(f"{path}:{op}")
    column = _column(field.key)
    if op == "empty":
        return Q(**{f"{column}__isnull": True}) | Q(**{column: None}) | Q(**{column: ""})
    value = (value or "").strip()[:200]
    kind = field.field_type
    if kind in TEXT_TYPES:
        lookup = {"contains": "icontains", "equals": "iexact", "startswith": "istartswith"}[op]
        return Q(**{f"{column}__{lookup}": value})
    if kind in NUMBER_TYPES:
        try:
            number = Decimal(value.replace(",", ""))
        except ArithmeticError as exc:
            raise BadCustomFilterError(f"{path}={value}") from exc
        if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
            raise BadCustomFilterError(f"{path}={value}")
        as_number = Cast(KT(column), DecimalField(max_digits=30, decimal_places=6))
        if op == "gte":
            return Q(GreaterThanOrEqual(as_number, number))
        if op == "lte":
            return Q(LessThanOrEqual(as_number, number))
        return Q(GreaterThanOrEqual(as_number, number)) & Q(LessThanOrEqual(as_number, number))
    if kind in (T.DATE, T.DATETIME):
        try:
            day = parse_date(value)
        except ValueError:
            day = None
        if day is None:
            raise BadCustomFilterError(f"{path}={value}")
        if kind == T.DATE:
            bound = day.isoformat()
            lookup = GreaterThanOrEqual if op == "after" else LessThanOrEqual
            return Q(lookup(KT(column), bound))
        # Date-times are stored in UTC: compare with the user's day boundaries in UTC.
        start = timezone.make_aware(datetime.combine(day, time.min))
        if op == "after":
            return Q(GreaterThanOrEqual(KT(column), start.astimezone(UTC).isoformat()))
        end = start + timedelta(days=1)
        return Q(LessThan(KT(column), end.astimezone(UTC).isoformat()))
    if kind == T.CHOICE:
        return Q(**{column: value})
    if kind == T.MULTI_CHOICE:
        if value not in (field.options or []):
            raise BadCustomFilterError(f"{path}={value}")
        # The list's JSON text holds the option as a JSON string, written either with the
        # characters themselves (PostgreSQL) or \u escapes (SQLite keeps Django's json.dumps).
        forms = {json.dumps(value, ensure_ascii=False), json.dumps(value)}
        q = Q(pk__in=[])
        for form in forms:
            q |= Q(**{f"{column}__icontains": form})
        return q
    if kind == T.BOOLEAN:
        if value not in ("true", "false"):
            raise BadCustomFilterError(f"{path}={value}")
        return Q(**{column: value == "true"})
    # user
    if not value.isdigit() or int(value) > 2**31 - 1:
        raise BadCustomFilterError(f"{path}={value}")
    return Q(**{column: int(value)})


def sort_expression(target: str, path: str, *, holder=None):
    """What the list sorts on for `custom.<key>` (any active field): the number for number and
    money fields, the stored text otherwise (ISO dates sort as dates); None when not a field."""
    key = path.removeprefix(PREFIX)
    field = next((f for f in selectors.active_fields(target, holder=holder) if f.key == key), None)
    if field is None:
        return None
    column = KT(_column(field.key))
    if field.field_type in NUMBER_TYPES:
        return Cast(column, DecimalField(max_digits=30, decimal_places=6))
    if field.field_type == T.USER:
        return Cast(column, IntegerField())
    return column


def search_q(target: str, query: str, *, exclude=frozenset(), holder=None) -> Q | None:
    """Quick search over the searchable text-like fields (substring), or None when there are none.
    `exclude`: paths ("custom.<key>") not to search, e.g. fields hidden from the user (ORG-8);
    `holder`: an object to keep the definitions on outside a request (see selectors)."""
    query = (query or "").strip()[:100]
    fields = [
        f
        for f in filter_fields(target, holder=holder)
        if f.field_type in QUICK_SEARCH_TYPES and f.path not in exclude
    ]
    if not query or not fields:
        return None
    q = Q(pk__in=[])
    for field in fields:
        q |= Q(**{f"{_column(field.key)}__icontains": query})
    return q
