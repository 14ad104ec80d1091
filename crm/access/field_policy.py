"""Field permissions (ORG-8): which fields of a record a user sees, sees masked, or may change.

The answer comes from the user's roles (`Role.field_permissions`), read with the roles the access
policy loads anyway (no extra query), and is cached on the user object with that answer. When a
user has several roles the least restrictive rule wins, dimension by dimension: seeing in lists,
seeing on the detail page, changing. A super admin has no field rules.

Pages, forms, services, the API and exports ask this module; see crm/access/fields.py for the
rules and the catalogue.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.access.fields import (
    EDITABLE,
    EMAIL,
    HIDDEN,
    MASK,
    MASK_LIST,
    MOBILE,
    PHONE,
    READONLY,
    RULES,
    catalogue,
    catalogue_by_name,
)

LIST = "list"
DETAIL = "detail"
_CACHE_ATTR = "_crm_field_rules"

# Each rule as (seen in lists, seen on detail, may change); 0 = no, 1 = masked, 2 = in full.
_DIMENSIONS = {
    HIDDEN: (0, 0, 0),
    MASK: (1, 1, 1),
    READONLY: (2, 2, 0),
    MASK_LIST: (1, 2, 1),
    EDITABLE: (2, 2, 1),
}
_BY_DIMENSIONS = {dims: rule for rule, dims in _DIMENSIONS.items()}
_ALIASES = {"masked": MASK}  # the first spelling of the model's comment


def normalise_rule(rule) -> str | None:
    rule = _ALIASES.get(rule, rule)
    return rule if rule in _DIMENSIONS else None


def combine(rules: Iterable[str]) -> str:
    """The least restrictive of several roles' rules for one field.

    Dimension by dimension, so "mask_list" (may change, full on detail) and "readonly" (full in
    lists) together give "editable". Every combination lands on a rule."""
    dims = [_DIMENSIONS[r] for r in rules]
    if not dims:
        return EDITABLE
    best = tuple(max(d[i] for d in dims) for i in range(3))
    # (1, 2, 0) and (2, 1, x) cannot arise from the five rules; fall back to the safer neighbour.
    return _BY_DIMENSIONS.get(best, READONLY if best[2] == 0 else MASK_LIST)


def _compute(role_maps: tuple[dict, ...], module: str) -> dict[str, str]:
    prefix = f"{module}."
    per_field: dict[str, list[str]] = {}
    fields: set[str] = set()
    for mapping in role_maps:
        for code in mapping or {}:
            if isinstance(code, str) and code.startswith(prefix):
                fields.add(code[len(prefix) :])
    for field in fields:
        # A role that does not list the field leaves it editable.
        per_field[field] = [normalise_rule((m or {}).get(prefix + field)) or EDITABLE for m in role_maps]
    result = {}
    for field, rules in per_field.items():
        rule = combine(rules)
        if rule != EDITABLE:
            result[field] = rule
    return result


def field_rules(user, module: str) -> dict[str, str]:
    """{field: rule} for the fields of `module` the user may not simply edit; {} for super admins
    and users whose roles restrict nothing. Computed once per request (cached on the user)."""
    from crm.access.policy import access_of

    access = access_of(user)
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None or cached[0] is not access:
        cached = (access, {})
        if getattr(user, "pk", None) is not None:
            setattr(user, _CACHE_ATTR, cached)
    rules = cached[1]
    if module not in rules:
        maps = () if access.is_super else getattr(access, "field_permissions", ())
        rules[module] = _compute(tuple(maps), module)
    return rules[module]


def rule_of(user, module: str, field: str) -> str:
    return field_rules(user, module).get(field, EDITABLE)


def hidden_fields(user, module: str) -> frozenset[str]:
    return frozenset(f for f, r in field_rules(user, module).items() if r == HIDDEN)


def is_visible(user, module: str, field: str) -> bool:
    return rule_of(user, module, field) != HIDDEN


def is_editable(user, module: str, field: str) -> bool:
    return _DIMENSIONS[rule_of(user, module, field)][2] == 1


def visible_fields(user, module: str) -> list[str]:
    """The catalogue's fields of `module` the user may see (in full or masked)."""
    rules = field_rules(user, module)
    return [f.name for f in catalogue(module) if rules.get(f.name) != HIDDEN]


def editable_fields(user, module: str) -> list[str]:
    rules = field_rules(user, module)
    return [f.name for f in catalogue(module) if _DIMENSIONS[rules.get(f.name, EDITABLE)][2] == 1]


def masked(user, module: str, field: str, context: str = LIST) -> bool:
    """Whether `field` is shown masked to the user in `context` ("list" covers lists, search
    results, exports and list API answers; "detail" the detail page, the form and the API detail)."""
    seen = _DIMENSIONS[rule_of(user, module, field)][0 if context == LIST else 1]
    return seen == 1


# ---------------------------------------------------------------- masking

_DIGITS = re.compile(r"\d")


def _mask_mobile(value: str) -> str:
    if len(value) >= 11:
        return f"{value[:-8]}****{value[-4:]}"
    return _mask_short(value)


def _mask_short(value: str) -> str:
    """A short value keeps at most its first and last character, and never shows its length."""
    if len(value) <= 4:
        return "****"
    return f"{value[:1]}****{value[-1:]}"


def _mask_phone(value: str) -> str:
    digits = _DIGITS.findall(value)
    compact = "".join(digits)
    if len(compact) == 11 and compact.startswith("1") and len(value) <= 15 and not value.startswith("0"):
        return _mask_mobile(value)
    if len(digits) < 7:
        return _mask_short(value)
    # Area code: what precedes the first separator, or the 3/4-digit trunk code of a bare number.
    match = re.match(r"^\s*(\(?\+?\d{2,4}\)?[\s\-]?|\d{2,4}[\s\-])", value)
    if match and re.search(r"[\s\-)]", match.group(1)):
        area = match.group(1)
    elif value.startswith("0"):
        area = value[:3] if value[1:2] in ("1", "2") else value[:4]
    else:
        area = ""
    return f"{area}****{value[-4:]}"


def _mask_email(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at:
        return _mask_short(value)
    return f"{local[:1]}***@{domain}"


def mask_value(value: Any, kind: str | None) -> Any:
    """13812345678 → 138****5678; 0755-12345678 → 0755-****5678; alice@example.com →
    a***@example.com. Empty values stay empty; anything else masks to ****."""
    if value is None or value == "":
        return value
    text = str(value).strip()
    if not text:
        return value
    if kind == MOBILE:
        return _mask_mobile(text)
    if kind == PHONE:
        return _mask_phone(text)
    if kind == EMAIL:
        return _mask_email(text)
    return "****"


# ---------------------------------------------------------------- one answer object for pages and APIs


class _Shows(dict):
    """`{% if fa.shows.mobile %}`: False only for hidden catalogue fields."""

    def __missing__(self, key):
        return True


class FieldAccess:
    """What one user sees of one module's fields in one context ("list" or "detail")."""

    def __init__(self, user, module: str, context: str = LIST):
        self.module = module
        self.context = context
        self.rules = field_rules(user, module)
        self.hidden = frozenset(f for f, r in self.rules.items() if r == HIDDEN)
        dim = 0 if context == LIST else 1
        self._masked = {f for f, r in self.rules.items() if _DIMENSIONS[r][dim] == 1}
        self._kinds: dict[str, str | None] | None = None
        self.shows = _Shows({f: False for f in self.hidden})

    @property
    def restricts(self) -> bool:
        return bool(self.rules)

    def visible(self, field: str) -> bool:
        return field not in self.hidden

    def is_masked(self, field: str) -> bool:
        return field in self._masked

    def mask_kind(self, field: str) -> str | None:
        if self._kinds is None:
            self._kinds = {f.name: f.mask_kind for f in catalogue(self.module, include_custom=False)}
            if any(f.startswith("custom.") for f in self._masked):
                self._kinds.update({f.name: f.mask_kind for f in catalogue(self.module)})
        return self._kinds.get(field)

    def display(self, field: str, value: Any) -> Any:
        """The value as the user may see it: masked when it is, None when the field is hidden."""
        if field in self.hidden:
            return None
        if field in self._masked:
            return mask_value(value, self.mask_kind(field))
        return value

    def value(self, obj, field: str) -> Any:
        if field.startswith("custom."):
            raw = (getattr(obj, "custom_data", None) or {}).get(field[len("custom.") :])
        else:
            raw = getattr(obj, field, None)
        return self.display(field, raw)

    def apply_to_dict(self, data: dict, *, mapping: Mapping[str, str] | None = None) -> dict:
        """Drop hidden keys and mask masked ones of an output dict (an API answer), in place.
        `mapping` names the catalogue field of keys that differ from it. Keys "custom_data" /
        "custom_fields" dicts are filtered by their custom keys."""
        if not self.rules:
            return data
        mapping = mapping or {}
        for key in list(data):
            field = mapping.get(key, key)
            if field in self.hidden:
                del data[key]
            elif field in self._masked:
                data[key] = mask_value(data[key], self.mask_kind(field))
        for key in ("custom_data", "custom_fields"):
            nested = data.get(key)
            if isinstance(nested, dict):
                data[key] = self.apply_to_dict(
                    dict(nested), mapping={k: f"custom.{k}" for k in nested if not k.startswith("custom.")}
                )
        return data


def field_access(user, module: str, context: str = LIST) -> FieldAccess:
    return FieldAccess(user, module, context)


# ---------------------------------------------------------------- writes


def _label(module: str, field: str) -> str:
    found = catalogue_by_name(module).get(field)
    return str(found.label) if found else field


def _same(a, b) -> bool:
    empty = (None, "")
    if a in empty and b in empty:
        return True
    a_pk, b_pk = getattr(a, "pk", a), getattr(b, "pk", b)
    return a_pk == b_pk


def refused_message(module: str, field: str) -> str:
    return _("您没有修改“%(field)s”的权限。") % {"field": _label(module, field)}


def check_writable(user, module: str, values: dict[str, Any], current: Mapping[str, Any] | None = None):
    """The values a service may save for `user`: a hidden or read-only field that keeps its value
    (the stored one, or empty on create) is dropped, one that would change is refused with a
    ValidationError naming the field. `user` None (the system) may write everything."""
    if user is None:
        return values
    rules = field_rules(user, module)
    if not rules:
        return values
    errors: dict[str, str] = {}
    kept = {}
    for key, value in values.items():
        rule = rules.get(key)
        if rule is None or _DIMENSIONS[rule][2] == 1:
            kept[key] = value
            continue
        before = current.get(key) if current is not None else None
        if not _same(value, before):
            errors[key] = refused_message(module, key)
    if errors:
        raise ValidationError(errors)
    return kept


def check_custom_writable(user, module: str, new: Mapping[str, Any], old: Mapping[str, Any] | None) -> None:
    """The same check for a custom-field dict (keys without the "custom." prefix)."""
    if user is None:
        return
    rules = field_rules(user, module)
    errors = {}
    for key, value in (new or {}).items():
        rule = rules.get(f"custom.{key}")
        if rule is not None and _DIMENSIONS[rule][2] == 0 and not _same(value, (old or {}).get(key)):
            errors[f"custom.{key}"] = refused_message(module, f"custom.{key}")
    if errors:
        raise ValidationError(errors)


def refused_input(user, module: str, keys: Iterable[str]) -> dict[str, list[str]]:
    """For an API request: {key: [message]} for every posted key the user may not write (hidden or
    read-only), whatever its value; {} when all may be written."""
    rules = field_rules(user, module)
    if not rules:
        return {}
    return {
        key: [refused_message(module, key)]
        for key in keys
        if key in rules and _DIMENSIONS[rules[key]][2] == 0
    }


# ---------------------------------------------------------------- forms

FORM_FIELD_MAP = {
    "customers": {
        "contact_name": "contacts.name",
        "contact_mobile": "contacts.mobile",
        "contact_title": "contacts.title",
    }
}


def apply_to_form(form, user, module: str, instance=None) -> None:
    """Hide, lock or mask a form's fields for `user`: hidden fields are removed, read-only ones are
    disabled (Django then ignores what is posted for them), a field masked everywhere shows its
    masked value as a placeholder and keeps the stored value when left blank."""
    form._field_access_locked = set()
    form._field_access_keep_blank = set()
    if user is None:
        return
    extra = FORM_FIELD_MAP.get(module, {})
    for name in list(form.fields):
        target_module, field = module, name
        if name in extra:
            target_module, field = extra[name].split(".", 1)
        rule = rule_of(user, target_module, field)
        if rule == EDITABLE or rule == MASK_LIST:
            continue
        if rule == HIDDEN:
            del form.fields[name]
        elif rule == READONLY:
            form.fields[name].disabled = True
            form.fields[name].required = False
            form._field_access_locked.add(name)
            form.fields[name].help_text = _("只读：您没有修改此字段的权限。")
        elif rule == MASK and instance is not None:
            if field.startswith("custom."):
                current = (getattr(instance, "custom_data", None) or {}).get(field[len("custom.") :])
            else:
                current = getattr(instance, field, None)
            if current:
                known = catalogue_by_name(target_module).get(field)
                form.fields[name].widget.attrs["placeholder"] = mask_value(
                    current, known.mask_kind if known else None
                )
                form.fields[name].help_text = _("已脱敏显示：留空则保持原值，填写则替换。")
                form._field_access_keep_blank.add(name)
                form.initial[name] = ""


def form_values(form, values: dict[str, Any]) -> dict[str, Any]:
    """A form's values without what the user may not change: read-only fields, and masked inputs
    left blank (meaning "keep the stored value")."""
    locked = getattr(form, "_field_access_locked", set())
    blank_keeps = getattr(form, "_field_access_keep_blank", set())
    return {k: v for k, v in values.items() if k not in locked and not (k in blank_keeps and v in ("", None))}


# ---------------------------------------------------------------- list filters and sorts


def filterable(user, module: str, field: str) -> bool:
    """A hidden field is neither a column nor a filter, sort or search field."""
    return rule_of(user, module, field) != HIDDEN


# ---------------------------------------------------------------- audit trail on record pages


def redact_changes(user, module: str, changes: dict | None, context: str = DETAIL) -> dict | None:
    """A log entry's changes as the user may read them: hidden fields left out, masked ones
    masked (as in `context`). Returns a new dict; the log row is not touched."""
    if not changes:
        return changes
    access = FieldAccess(user, module, context)
    if not access.restricts:
        return changes
    result = {}
    for field, values in changes.items():
        if field in access.hidden:
            continue
        if access.is_masked(field):
            kind = access.mask_kind(field)
            if isinstance(values, list):
                values = [mask_value(v, kind) for v in values]
            else:
                values = mask_value(values, kind)
        result[field] = values
    return result


def redact_timeline(
    user, logs: Iterable, module_of_target, contexts: Mapping[str, str] | None = None
) -> None:
    """Redact the changes of log rows shown on a record page, in memory. `module_of_target(log)`
    names the module of the log's record; `contexts` the context per module (default detail)."""
    for log in logs:
        module = module_of_target(log)
        if module:
            context = (contexts or {}).get(module, DETAIL)
            log.changes = redact_changes(user, module, log.changes, context)


# ---------------------------------------------------------------- exports


def export_columns(user, module: str, fields: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(field, label) of the columns an export may contain for `user`: the catalogue's (or the
    asked) fields without the hidden ones."""
    known = catalogue_by_name(module)
    wanted = list(fields) if fields is not None else list(known)
    hidden = hidden_fields(user, module)
    return [(f, str(known[f].label) if f in known else f) for f in wanted if f not in hidden]


def _export_cell(value):
    if hasattr(value, "pk") and hasattr(value, "_meta"):
        return str(value)
    return value


def export_rows(user, module: str, objects: Iterable, fields: Iterable[str] | None = None):
    """(headers, rows) of an export for `user`: hidden fields left out and values masked as in
    lists (ORG-8 "also in exports"). Related records become their names; cells are raw values
    otherwise (the exporter formats and neutralises them)."""
    columns = export_columns(user, module, fields)
    access = FieldAccess(user, module, LIST)
    headers = [label for _field, label in columns]
    rows = ([_export_cell(access.value(obj, field)) for field, _label in columns] for obj in objects)
    return headers, rows


# ---------------------------------------------------------------- role screen


def validate_field_permissions(data) -> dict[str, str]:
    """Clean a role's field permissions {"customers.mobile": rule}: unknown fields or rules, or a
    rule the field cannot take, raise ValidationError in the user's language. Editable entries
    are dropped (not listed = editable)."""
    from crm.access.fields import all_fields

    if data in (None, ""):
        return {}
    if not isinstance(data, dict):
        raise ValidationError(_("字段权限的格式不正确。"))
    known = all_fields()
    cleaned: dict[str, str] = {}
    unknown_fields, bad_rules = [], []
    for code, rule in data.items():
        field = known.get(code) if isinstance(code, str) else None
        if field is None:
            unknown_fields.append(str(code))
            continue
        if rule not in RULES or rule not in field.rules():
            bad_rules.append(f"{field.label}：{rule}")
            continue
        if rule != EDITABLE:
            cleaned[code] = rule
    if unknown_fields:
        raise ValidationError(_("未知的字段：%(fields)s") % {"fields": "、".join(sorted(unknown_fields))})
    if bad_rules:
        raise ValidationError(_("无效的字段权限：%(rules)s") % {"rules": "、".join(bad_rules)})
    return dict(sorted(cleaned.items()))


def field_permission_matrix(current: Mapping[str, str], modules: Iterable[str] = ("customers", "contacts")):
    """Rows of the role screen's 字段权限 section: per module, each field with its choices."""
    from crm.access.fields import MODULE_LABELS

    sections = []
    for module in modules:
        rows = []
        for field in catalogue(module):
            selected = normalise_rule(current.get(field.code)) or EDITABLE
            rows.append(
                {
                    "field": field,
                    "code": field.code,
                    "choices": [(rule, RULES[rule]) for rule in field.rules()],
                    "selected": selected,
                }
            )
        sections.append({"module": module, "label": MODULE_LABELS[module], "rows": rows})
    return sections
