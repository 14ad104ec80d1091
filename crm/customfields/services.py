"""Writes of custom-field definitions, and the validation of custom values shared by every entry
path (pages, API, later import): `clean_custom_values`.

Definitions are never deleted: deactivating one hides it from forms, lists, filters and the API
while the values stay on the records (activating it again shows them again).
"""

import logging
import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin

from crm.access import policy
from crm.audit.services import diff, log_action
from crm.customfields import selectors
from crm.customfields.models import CHOICE_TYPES, CustomField
from crm.customfields.targets import target_info
from crm.customfields.values import EmptyValueError, display, normalise, user_names

logger = logging.getLogger(__name__)

KEY_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
KEY_MAX = 40
LABEL_MAX = 64
OPTION_MAX = 64
OPTIONS_MAX = 100
# Names Django reads as lookups after a JSON key (custom_data__<key>__…); never used as keys.
RESERVED_KEYS = frozenset(
    {
        "contains",
        "contained_by",
        "has_key",
        "has_keys",
        "has_any_keys",
        "exact",
        "iexact",
        "isnull",
        "icontains",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
        "regex",
        "iregex",
        "gt",
        "gte",
        "lt",
        "lte",
        "in",
        "range",
        "pk",
        "id",
    }
)
DEFINITION_FIELDS = (
    "label",
    "field_type",
    "options",
    "required",
    "searchable",
    "importable",
    "exportable",
    "for_statistics",
    "show_in_list",
    "sort_order",
    "help_text",
)
FLAGS = ("required", "searchable", "importable", "exportable", "for_statistics", "show_in_list")


# ---------------------------------------------------------------- values


def clean_custom_values(
    target: str, data: dict[str, Any] | None, *, instance_data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The record's new `custom_data`: `instance_data` with the keys given in `data` replaced by
    their validated, normalised values (an empty value removes the key).

    Values of deactivated fields, and keys no definition knows, stay as they are; giving one of
    them in `data` is an error. Required active fields must hold a value afterwards. Raises
    ValidationError {"custom.<key>": [message]} (Chinese) for every bad field at once."""
    if data is not None and not isinstance(data, dict):
        raise ValidationError({"custom_fields": _("自定义字段应为“字段标识: 值”的对象。")})
    data = data or {}
    current = dict(instance_data or {})
    fields = {f.key: f for f in selectors.all_fields(target)}
    result = dict(current)
    errors: dict[str, list[str]] = {}
    for key, raw in data.items():
        field = fields.get(key)
        if field is None:
            errors[f"custom.{key}"[:80]] = [_("未知的自定义字段“%(key)s”。") % {"key": str(key)[:40]}]
            continue
        if not field.is_active:
            errors[field.path] = [_("自定义字段“%(label)s”已停用，不能再填写。") % {"label": field.label}]
            continue
        try:
            result[key] = normalise(field, raw, current=current.get(key))
        except EmptyValueError:
            result.pop(key, None)
        except ValidationError as exc:
            errors[field.path] = exc.messages
    for field in fields.values():
        if field.is_active and field.required and field.path not in errors and result.get(field.key) is None:
            errors[field.path] = [_("请填写“%(label)s”。") % {"label": field.label}]
    if errors:
        raise ValidationError(errors)
    return result


def custom_changes(target: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict:
    """{"custom.<key>": [old, new]} for the operation log, as the pages show the values (a user's
    name, 是/否, a local date-time, options joined)."""
    old, new = old or {}, new or {}
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    if not keys:
        return {}
    fields = {f.key: f for f in selectors.all_fields(target)}
    changed = [fields[k] for k in keys if k in fields]
    users = user_names(changed, [old, new])

    def shown(key: str, value: Any) -> Any:
        field = fields.get(key)
        return value if field is None else display(field, value, users)

    return {f"custom.{k}": [shown(k, old.get(k)), shown(k, new.get(k))] for k in keys}


# ---------------------------------------------------------------- definitions


def _check_permission(actor, target: str) -> None:
    info = target_info(target)
    if info is None:
        raise ValidationError({"target": _("未知的对象“%(target)s”。") % {"target": str(target)[:32]}})
    if actor is not None and not policy.can(actor, info.settings_permission):
        raise PermissionDenied


def slug_from_label(label: str) -> str:
    """A key from a label: its pinyin (年采购额 → nian_cai_gou_e), lower-case, underscores."""
    words = [re.sub(r"[^a-z0-9]+", "_", w.lower()) for w in lazy_pinyin(label or "")]
    key = re.sub(r"_+", "_", "_".join(words)).strip("_")[:KEY_MAX].strip("_")
    if not key:
        key = "field"
    if not key[0].isalpha():
        key = f"f_{key}"[:KEY_MAX].strip("_")
    if key in RESERVED_KEYS:
        key = f"{key}_field"
    return key


def _unique_key(target: str, base: str) -> str:
    taken = set(CustomField.objects.filter(target=target, key__startswith=base).values_list("key", flat=True))
    if base not in taken:
        return base
    for n in range(2, 1000):
        candidate = f"{base[: KEY_MAX - len(str(n)) - 1]}_{n}"
        if candidate not in taken:
            return candidate
    raise ValidationError({"key": _("无法生成字段标识，请手动填写。")})


def _clean_options(field_type: str, options: Any) -> list[str]:
    if field_type not in CHOICE_TYPES:
        return []
    if isinstance(options, str):
        options = options.splitlines()
    if not isinstance(options, (list, tuple)) or any(not isinstance(o, str) for o in options):
        raise ValidationError({"options": _("选项应为文本的列表（每行一个）。")})
    cleaned: list[str] = []
    for option in options:
        text = option.strip()
        if not text:
            continue
        if len(text) > OPTION_MAX:
            raise ValidationError(
                {
                    "options": _("选项“%(option)s”太长（最多 %(max)d 个字符）。")
                    % {"option": text[:20], "max": OPTION_MAX}
                }
            )
        if text in cleaned:
            raise ValidationError({"options": _("选项“%(option)s”重复了。") % {"option": text}})
        cleaned.append(text)
    if not cleaned:
        raise ValidationError({"options": _("单选和多选字段至少要有一个选项（每行一个）。")})
    if len(cleaned) > OPTIONS_MAX:
        raise ValidationError({"options": _("选项最多 %(max)d 个。") % {"max": OPTIONS_MAX}})
    return cleaned


def _clean_definition(target: str, values: dict[str, Any], *, exclude_pk: int | None = None) -> dict:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    label = str(values.get("label") or "").strip()
    if not label:
        errors["label"] = _("请填写字段名称。")
    elif len(label) > LABEL_MAX:
        errors["label"] = _("字段名称不能超过 %(max)d 个字符。") % {"max": LABEL_MAX}
    elif CustomField.objects.filter(target=target, label=label).exclude(pk=exclude_pk).exists():
        errors["label"] = _("字段名称“%(label)s”已存在。") % {"label": label}
    cleaned["label"] = label
    field_type = values.get("field_type")
    if field_type not in CustomField.FieldType.values:
        errors["field_type"] = _("请选择有效的字段类型。")
    cleaned["field_type"] = field_type
    if field_type in CustomField.FieldType.values:
        try:
            cleaned["options"] = _clean_options(field_type, values.get("options") or [])
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    help_text = str(values.get("help_text") or "").strip()
    if len(help_text) > 200:
        errors["help_text"] = _("填写说明不能超过 200 个字符。")
    cleaned["help_text"] = help_text
    for flag in FLAGS:
        if flag in values:
            cleaned[flag] = bool(values[flag])
    if values.get("sort_order") is not None:
        try:
            sort_order = int(values["sort_order"])
        except (TypeError, ValueError):
            sort_order = -1
        if not 0 <= sort_order <= 100000:
            errors["sort_order"] = _("排序必须是 0 到 100000 之间的整数。")
        cleaned["sort_order"] = sort_order
    if errors:
        raise ValidationError(errors)
    return cleaned


def _snapshot(field: CustomField) -> dict[str, Any]:
    return {name: getattr(field, name) for name in (*DEFINITION_FIELDS, "is_active")}


@transaction.atomic
def customfield_create(*, actor, target: str, values: dict[str, Any], ip: str | None = None) -> CustomField:
    """A new definition; its key comes from `values["key"]` or, when empty, from the label."""
    _check_permission(actor, target)
    cleaned = _clean_definition(target, values)
    key = str(values.get("key") or "").strip().lower()
    if key:
        if len(key) > KEY_MAX or not KEY_RE.match(key) or key in RESERVED_KEYS:
            raise ValidationError(
                {"key": _("字段标识只能包含小写字母、数字和单个下划线，以字母开头，最多 40 个字符。")}
            )
        if CustomField.objects.filter(target=target, key=key).exists():
            raise ValidationError({"key": _("字段标识“%(key)s”已被使用。") % {"key": key}})
    else:
        key = _unique_key(target, slug_from_label(cleaned["label"]))
    if "sort_order" not in cleaned:
        last = CustomField.objects.filter(target=target).aggregate(last=Max("sort_order"))["last"]
        cleaned["sort_order"] = 0 if last is None else last + 1
    try:
        with transaction.atomic():
            field = CustomField.objects.create(target=target, key=key, **cleaned)
    except IntegrityError as exc:  # a concurrent create took the key a moment ago
        raise ValidationError({"key": _("字段标识“%(key)s”已被使用。") % {"key": key}}) from exc
    log_action(
        actor=actor,
        action="customfield.created",
        target=field,
        changes=diff({}, {"target": target, "key": key, **_snapshot(field)}),
        ip_address=ip,
    )
    logger.info("custom field %s.%s created by %s", target, key, getattr(actor, "pk", None))
    selectors.forget()
    return field


@transaction.atomic
def customfield_update(
    *, actor, field: CustomField, values: dict[str, Any], ip: str | None = None
) -> CustomField:
    """Change a definition. The key never changes; the type only while no record has a value."""
    _check_permission(actor, field.target)
    field = CustomField.objects.select_for_update().get(pk=field.pk)
    if values.get("key") not in (None, "", field.key):
        raise ValidationError({"key": _("字段标识创建后不能修改。")})
    merged = _snapshot(field) | {k: v for k, v in values.items() if k in DEFINITION_FIELDS}
    cleaned = _clean_definition(field.target, merged, exclude_pk=field.pk)
    if cleaned["field_type"] != field.field_type:
        used = selectors.values_count(field)
        if used:
            raise ValidationError(
                {
                    "field_type": _(
                        "“%(label)s”已有 %(count)d 条记录填写了值，不能再修改字段类型；"
                        "可以停用它并新建一个字段。"
                    )
                    % {"label": field.label, "count": used}
                }
            )
    old = _snapshot(field)
    for name, value in cleaned.items():
        setattr(field, name, value)
    field.save()
    changes = diff(old, _snapshot(field))
    if changes:
        log_action(actor=actor, action="customfield.updated", target=field, changes=changes, ip_address=ip)
        logger.info("custom field %s updated by %s", field.pk, getattr(actor, "pk", None))
    selectors.forget()
    return field


@transaction.atomic
def customfield_set_active(*, actor, field: CustomField, active: bool, ip: str | None = None) -> CustomField:
    """Deactivated fields leave forms, lists, filters and the API; the values stay on the records."""
    _check_permission(actor, field.target)
    updated = CustomField.objects.filter(pk=field.pk).exclude(is_active=active).update(is_active=active)
    field.refresh_from_db()
    if updated:
        log_action(
            actor=actor,
            action="customfield.activated" if active else "customfield.deactivated",
            target=field,
            changes={"is_active": [not active, active]},
            ip_address=ip,
        )
    selectors.forget()
    return field


@transaction.atomic
def customfield_move(*, actor, field: CustomField, direction: str, ip: str | None = None) -> CustomField:
    """Move a field one place up or down among its target's fields (renumbers sort_order 0…n-1)."""
    _check_permission(actor, field.target)
    if direction not in ("up", "down"):
        raise ValidationError(_("移动方向只能是上移或下移。"))
    fields = list(selectors.fields_of(field.target).select_for_update())
    index = next((i for i, f in enumerate(fields) if f.pk == field.pk), None)
    if index is None:
        return field
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(fields):
        fields[index], fields[other] = fields[other], fields[index]
    changed = []
    for position, item in enumerate(fields):
        if item.sort_order != position:
            item.sort_order = position
            changed.append(item)
    CustomField.objects.bulk_update(changed, ["sort_order"])
    moved = next(f for f in fields if f.pk == field.pk)
    if changed:
        log_action(
            actor=actor,
            action="customfield.updated",
            target=moved,
            changes={"sort_order": [field.sort_order, moved.sort_order]},
            ip_address=ip,
        )
    selectors.forget()
    return moved
