"""The customer list's state as data (CUS-2): what saved views store and replay.

A list state is exactly the GET parameters the list page understands, in a structured, validated
form (never SQL):

    {"scope": "mine", "q": "中兴", "sort": "-created_at",
     "conditions": [{"field": "status", "op": "is", "value": "3"}],
     "columns": ["code", "status"],          # built-in columns shown (absent: all)
     "custom_columns": ["budget"]}           # custom-field columns shown (absent: the defaults)

`params_from_query` reads it from a query string, `params_to_query` writes it back, and
`clean_params` checks it against the list's allow-lists (selectors.FILTER_FIELDS, SORT_FIELDS,
is_filter_field, the column definitions in views.COLUMNS) and the user's field permissions.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext as _

from crm.access import field_policy
from crm.customers import selectors
from crm.customfields import filters as customfield_filters
from crm.customfields import selectors as customfield_selectors

MAX_QUERY = 100
MAX_CONDITIONS = 10
MAX_VALUE = 200
KEYS = ("scope", "q", "sort", "conditions", "columns", "custom_columns")
DEFAULT_SORT = "-created_at"


def _scopes() -> tuple[str, ...]:
    from crm.customers.views import SCOPES

    return tuple(value for value, _label in SCOPES)


def builtin_columns() -> tuple[str, ...]:
    """The built-in column keys of the list (views.COLUMNS); "name" is always shown."""
    from crm.customers.views import COLUMNS

    return tuple(key for key, _label, _sortable in COLUMNS)


def params_from_query(query: Mapping | QueryDict | str) -> dict[str, Any]:
    """The list state held by a query string (unvalidated; empty parts left out)."""
    if isinstance(query, str):
        query = QueryDict(query)
    params: dict[str, Any] = {}
    scope = query.get("scope", "")
    if scope:
        params["scope"] = scope
    q = query.get("q", "").strip()
    if q:
        params["q"] = q
    sort = query.get("sort", "")
    if sort and sort != DEFAULT_SORT:
        params["sort"] = sort
    fields, ops, values = query.getlist("f"), query.getlist("op"), query.getlist("v")
    conditions = []
    for index, field in enumerate(fields):
        if field:
            conditions.append(
                {
                    "field": field,
                    "op": ops[index] if index < len(ops) else "",
                    "value": values[index] if index < len(values) else "",
                }
            )
    if conditions:
        params["conditions"] = conditions
    if query.get("cc_set"):
        params["columns"] = [c for c in query.getlist("cols") if c]
        params["custom_columns"] = [c for c in query.getlist("cc") if c]
    return params


def params_to_query(params: Mapping[str, Any]) -> str:
    """The query string of a (clean) list state, ready for `/customers/?…`."""
    query = QueryDict(mutable=True)
    query["scope"] = params.get("scope") or "all"
    if params.get("q"):
        query["q"] = params["q"]
    if params.get("sort"):
        query["sort"] = params["sort"]
    for condition in params.get("conditions") or ():
        query.appendlist("f", condition["field"])
        query.appendlist("op", condition["op"])
        query.appendlist("v", condition.get("value", ""))
    if "columns" in params or "custom_columns" in params:
        query["cc_set"] = "1"
        query.setlist("cols", list(params.get("columns") or ()))
        query.setlist("cc", list(params.get("custom_columns") or ()))
    return query.urlencode()


def _invalid(message: str) -> ValidationError:
    return ValidationError({"params": [message]})


def _text(value, limit: int, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid(_("%(what)s应为文字。") % {"what": what})
    value = value.strip()
    if len(value) > limit:
        raise _invalid(_("%(what)s最多 %(limit)d 个字。") % {"what": what, "limit": limit})
    return value


def _string_list(value, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(_("%(what)s应为文字列表。") % {"what": what})
    if len(value) > 50:
        raise _invalid(_("%(what)s最多 50 项。") % {"what": what})
    return list(dict.fromkeys(v.strip() for v in value if v.strip()))


def clean_params(user, params) -> dict[str, Any]:
    """The list state, checked against the list's allow-lists and what `user` may see; raises
    ValidationError (key "params") with a Chinese message naming what is wrong."""
    if not isinstance(params, Mapping):
        raise _invalid(_("列表条件应为对象。"))
    unknown = sorted(str(k) for k in params if k not in KEYS)
    if unknown:
        raise _invalid(_("不认识的列表条件：%(keys)s。") % {"keys": "、".join(unknown)[:80]})
    hidden = field_policy.hidden_fields(user, "customers")
    clean: dict[str, Any] = {}

    scope = _text(params.get("scope"), 20, _("范围")) or "all"
    if scope not in _scopes():
        raise _invalid(_("范围“%(scope)s”无效。") % {"scope": scope})
    clean["scope"] = scope

    query = _text(params.get("q"), MAX_QUERY, _("快速搜索"))
    if query:
        clean["q"] = query

    sort = _text(params.get("sort"), 60, _("排序")) or DEFAULT_SORT
    field = sort.lstrip("-")
    if sort.startswith("--") or field in hidden:
        raise _invalid(_("不能按“%(sort)s”排序。") % {"sort": sort})
    if customfield_filters.is_custom(field):
        valid = customfield_filters.sort_expression("customers", field, holder=user) is not None
    else:
        valid = field in selectors.SORT_FIELDS
    if not valid:
        raise _invalid(_("不能按“%(sort)s”排序。") % {"sort": sort})
    if sort != DEFAULT_SORT:
        clean["sort"] = sort

    conditions = params.get("conditions") or []
    if not isinstance(conditions, list):
        raise _invalid(_("筛选条件应为列表。"))
    if len(conditions) > MAX_CONDITIONS:
        raise _invalid(_("筛选条件最多 %(count)d 个。") % {"count": MAX_CONDITIONS})
    cleaned_conditions = []
    for item in conditions:
        if not isinstance(item, Mapping) or set(item) - {"field", "op", "value"}:
            raise _invalid(_("每个筛选条件应为 {field, op, value} 对象。"))
        condition = selectors.Condition(
            field=_text(item.get("field"), 60, _("筛选字段")),
            op=_text(item.get("op"), 20, _("筛选条件")),
            value=_text(item.get("value"), MAX_VALUE, _("筛选值")),
        )
        if not selectors.is_filter_field(condition.field) or condition.field in hidden:
            raise _invalid(_("不能按字段“%(field)s”筛选。") % {"field": condition.field})
        try:
            selectors.condition_q(condition)  # builds the Q only: checks operator and value, no query
        except selectors.BadFilterError as exc:
            raise _invalid(
                _("筛选条件“%(condition)s”无效：只能按列表提供的字段、条件和取值筛选或排序。")
                % {"condition": str(exc)[:80]}
            ) from exc
        cleaned_conditions.append({"field": condition.field, "op": condition.op, "value": condition.value})
    if cleaned_conditions:
        clean["conditions"] = cleaned_conditions

    if "columns" in params or "custom_columns" in params:
        columns = _string_list(params.get("columns") or [], _("显示列"))
        allowed = set(builtin_columns()) - hidden
        bad = [c for c in columns if c not in allowed]
        if bad:
            raise _invalid(_("不能显示列“%(column)s”。") % {"column": bad[0][:40]})
        custom = _string_list(params.get("custom_columns") or [], _("自定义字段列"))
        keys = {f.key for f in customfield_selectors.active_fields("customers") if f.path not in hidden}
        bad = [c for c in custom if c not in keys]
        if bad:
            raise _invalid(_("不能显示列“%(column)s”。") % {"column": bad[0][:40]})
        clean["columns"] = [c for c in builtin_columns() if c in columns and c != "name"]
        clean["custom_columns"] = custom
    return clean
