"""Bulk edit of one field (批量修改字段) on many customers at once, from the list and the API.

Set-based: the customers are locked and read once, then changed by one UPDATE (tags appended
per customer in one UPDATE … CASE), a custom field by a JSON update in SQL (SQLite json_set,
PostgreSQL jsonb ||), and one operation-log row per changed customer with its old → new value.
Only fields on an allow-list can be changed this way, and only those the user's field
permissions (ORG-8) let them change; names do not change, so the search columns stay as they are.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import NotSupportedError, models, transaction
from django.db.models import Func, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from crm.access import field_policy, policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import log_actions_bulk
from crm.customers.models import Customer, DictionaryItem
from crm.customers.services import DICTIONARY_FIELDS
from crm.customfields import selectors as customfield_selectors
from crm.customfields.models import CustomField
from crm.customfields.values import EmptyValueError, display, normalise

MAX_BATCH = 1000  # customers per request
TAGS_MAX = 255
DICTIONARY, TAGS, DATETIME, CUSTOM = "dictionary", "tags", "datetime", "custom"
REPLACE, APPEND = "replace", "append"
# Custom field types a bulk edit may set (one value for everyone makes sense for these).
CUSTOM_TYPES = (
    CustomField.FieldType.CHOICE,
    CustomField.FieldType.BOOLEAN,
    CustomField.FieldType.DATE,
    CustomField.FieldType.NUMBER,
    CustomField.FieldType.MONEY,
)
_TAG_SPLIT = re.compile(r"[,，、;；]")


@dataclass(frozen=True)
class BulkField:
    """A field the bulk edit offers: `key` is the customer field, or "custom.<key>"."""

    key: str
    label: str
    kind: str  # DICTIONARY, TAGS, DATETIME or CUSTOM
    dictionary_kind: str = ""
    custom: CustomField | None = None

    @property
    def input_type(self) -> str:
        """How the value is entered: select (dictionary, choice, 是/否), date, datetime, number, tags."""
        if self.kind == DICTIONARY:
            return "select"
        if self.kind != CUSTOM:
            return self.kind
        field_type = self.custom.field_type
        if field_type in (CustomField.FieldType.CHOICE, CustomField.FieldType.BOOLEAN):
            return "select"
        return "date" if field_type == CustomField.FieldType.DATE else "number"

    def options(self) -> list[tuple[str, str]]:
        """(value, label) for a select: active dictionary values of the right kind, a choice's
        options, 是/否."""
        if self.kind == DICTIONARY:
            items = DictionaryItem.objects.filter(kind=self.dictionary_kind, is_active=True).select_related(
                "parent"
            )
            return [
                (str(i.pk), f"{i.parent.name} / {i.name}" if i.parent_id else i.name)
                for i in items.order_by("sort_order", "pk")
            ]
        if self.kind == CUSTOM and self.custom.field_type == CustomField.FieldType.CHOICE:
            return [(str(o), str(o)) for o in self.custom.options or []]
        if self.kind == CUSTOM and self.custom.field_type == CustomField.FieldType.BOOLEAN:
            return [("true", _("是")), ("false", _("否"))]
        return []


def _label(field: str) -> str:
    return str(Customer._meta.get_field(field).verbose_name)


def _allow_list() -> list[BulkField]:
    fields = [BulkField(f, _label(f), DICTIONARY, dictionary_kind=k) for f, k in DICTIONARY_FIELDS.items()]
    fields += [
        BulkField("tags", _label("tags"), TAGS),
        BulkField("next_contact_at", _label("next_contact_at"), DATETIME),
    ]
    fields += [
        BulkField(f.path, f.label, CUSTOM, custom=f)
        for f in customfield_selectors.active_fields("customers")
        if f.field_type in CUSTOM_TYPES
    ]
    return fields


def bulk_fields(user) -> list[BulkField]:
    """The fields `user` may set on many customers at once: the allow-list, less the fields their
    field permissions (ORG-8) hide or make read-only."""
    return [f for f in _allow_list() if field_policy.is_editable(user, "customers", f.key)]


def bulk_field(user, key: str) -> BulkField | None:
    return next((f for f in bulk_fields(user) if f.key == key), None)


# ---------------------------------------------------------------- values


def _dictionary_value(field: BulkField, value: Any) -> DictionaryItem:
    if isinstance(value, DictionaryItem):
        value = value.pk
    number = isinstance(value, int) and not isinstance(value, bool)
    pk = int(value) if number or (isinstance(value, str) and value.strip().isdigit()) else None
    item = DictionaryItem.objects.filter(pk=pk).first() if pk is not None and pk < 2**31 else None
    if item is None or item.kind != field.dictionary_kind or not item.is_active:
        raise ValidationError(
            _("“%(value)s”不是有效的%(field)s。") % {"value": item or str(value)[:50], "field": field.label}
        )
    return item


def _tags(value: Any) -> list[str]:
    if not isinstance(value, str):
        raise ValidationError(_("标签应为文字，多个标签用逗号分隔。"))
    tags: list[str] = []
    for tag in _TAG_SPLIT.split(value):
        tag = tag.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _datetime_value(field: BulkField, value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else None
    if moment is None and isinstance(value, str):
        text = value.strip().replace(" ", "T", 1)
        try:
            moment = parse_datetime(text)
            if moment is None and (day := parse_date(text)) is not None:
                moment = datetime.combine(day, time(9, 0))
        except ValueError:
            moment = None
    if moment is None:
        raise ValidationError(
            _("“%(label)s”应为有效的日期时间，格式如 2026-01-31 14:30。") % {"label": field.label}
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _shown(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value if value not in ("", None) else None


class _JSONSetKey(Func):
    """`custom_data` with one key set to a JSON value, computed by the database so that one UPDATE
    changes every row: json_set on SQLite, jsonb || on PostgreSQL. `key` is a custom field's key
    (lowercase letters, digits and underscores), passed as a parameter all the same."""

    def __init__(self, key: str, value: Any):
        super().__init__(models.F("custom_data"), output_field=models.JSONField())
        self.key, self.value = key, json.dumps(value, ensure_ascii=False)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("Bulk edit of custom fields needs SQLite or PostgreSQL.")

    def as_postgresql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        sql = f"(COALESCE({column}, '{{}}'::jsonb) || jsonb_build_object(%s::text, %s::jsonb))"
        return sql, (*params, self.key, self.value)

    def as_sqlite(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        return f"json_set(COALESCE({column}, '{{}}'), %s, json(%s))", (*params, f'$."{self.key}"', self.value)


# ---------------------------------------------------------------- the service


@transaction.atomic
def customers_bulk_update(
    *,
    actor,
    customers: QuerySet[Customer],
    field: str,
    value: Any,
    mode: str = REPLACE,
    ip: str | None = None,
) -> int:
    """Set `field` to `value` on `customers` (those the caller may change); returns how many
    changed. `mode` "append" adds tags to the ones a customer has instead of replacing them.
    Any bad input raises ValidationError (a Chinese message) and changes nothing."""
    if not policy.can(actor, "customers.edit"):
        raise PermissionRequiredError("customers.edit")
    key = str(field or "")
    spec = next((f for f in _allow_list() if f.key == key), None)
    if spec is not None and not field_policy.is_editable(actor, "customers", key):
        raise ValidationError(field_policy.refused_message("customers", key))
    if spec is None:
        raise ValidationError(_("不能批量修改“%(field)s”，请从列表中选择字段。") % {"field": key[:40]})
    if mode not in (REPLACE, APPEND) or (mode == APPEND and spec.kind != TAGS):
        raise ValidationError(_("未知的修改方式。"))
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(_("请填写“%(field)s”的新值。") % {"field": spec.label})
    new = _clean(spec, value)
    column = spec.custom.key if spec.kind == CUSTOM else spec.key
    rows = list(
        customers.select_for_update(of=("self",))
        .only("pk", "name", "custom_data" if spec.kind == CUSTOM else spec.key)
        .order_by("pk")[: MAX_BATCH + 1]
    )
    if not rows:
        return 0
    if len(rows) > MAX_BATCH:
        raise ValidationError(_("一次最多处理 %(max)d 个客户。") % {"max": MAX_BATCH})
    now = timezone.now()
    if spec.kind == CUSTOM:
        return _update_custom(actor, spec, rows, new, now, ip)
    if spec.kind == TAGS and mode == APPEND:
        return _append_tags(actor, spec, rows, new, now, ip)
    if spec.kind == TAGS:
        new = ",".join(new)
    old_of = {c.pk: getattr(c, f"{column}_id" if spec.kind == DICTIONARY else column) for c in rows}
    target = new.pk if spec.kind == DICTIONARY else new
    changed = [c for c in rows if old_of[c.pk] != target]
    if not changed:
        return 0
    Customer.objects.filter(pk__in=[c.pk for c in changed]).update(**{column: new, "updated_at": now})
    if spec.kind == DICTIONARY:
        names = dict(
            DictionaryItem.objects.filter(pk__in=set(old_of.values()) - {None}).values_list("pk", "name")
        )
        old_shown = {pk: names.get(item) for pk, item in old_of.items()}
        new_shown = new.name
    else:
        old_shown = {pk: _shown(v) for pk, v in old_of.items()}
        new_shown = _shown(new)
    _log(actor, changed, column, old_shown, dict.fromkeys(old_shown, new_shown), ip)
    return len(changed)


def _clean(spec: BulkField, value: Any) -> Any:
    if spec.kind == DICTIONARY:
        return _dictionary_value(spec, value)
    if spec.kind == TAGS:
        tags = _tags(value)
        if len(",".join(tags)) > TAGS_MAX:
            raise ValidationError(_("标签合计不能超过 %(max)d 个字符。") % {"max": TAGS_MAX})
        return tags
    if spec.kind == DATETIME:
        return _datetime_value(spec, value)
    if spec.custom.field_type == CustomField.FieldType.CHOICE and isinstance(value, str):
        # A choice must be one of today's options, whatever some customers hold now.
        if value.strip() not in (spec.custom.options or []):
            raise ValidationError(
                _("“%(value)s”不是“%(label)s”的有效选项。")
                % {"value": value.strip()[:50], "label": spec.label}
            )
    try:
        return normalise(spec.custom, value)
    except EmptyValueError as exc:
        raise ValidationError(_("请填写“%(field)s”的新值。") % {"field": spec.label}) from exc


def _log(actor, rows: list[Customer], column: str, old: dict, new: dict, ip) -> None:
    """One "customer.updated" entry per customer, {column: [old, new]} as the pages show them."""
    log_actions_bulk(
        actor=actor,
        action="customer.updated",
        targets=rows,
        changes_by_target={c.pk: {column: [old.get(c.pk), new.get(c.pk)]} for c in rows},
        message=_("批量修改"),
        ip_address=ip,
    )


def _append_tags(actor, spec: BulkField, rows: list[Customer], tags: list[str], now, ip) -> int:
    changed, old, too_long = [], {}, []
    for customer in rows:
        have = _tags(customer.tags or "")
        merged = have + [t for t in tags if t not in have]
        if merged == have:
            continue
        text = ",".join(merged)
        if len(text) > TAGS_MAX:
            too_long.append(customer.name)
            continue
        old[customer.pk] = customer.tags or None
        customer.tags, customer.updated_at = text, now
        changed.append(customer)
    if too_long:
        names = _("、").join(too_long[:5]) + (_("等") if len(too_long) > 5 else "")
        raise ValidationError(
            _("以下客户加上新标签后会超过 %(max)d 个字符，未做任何修改：%(names)s。")
            % {"max": TAGS_MAX, "names": names}
        )
    if not changed:
        return 0
    Customer.objects.bulk_update(changed, ["tags", "updated_at"], batch_size=MAX_BATCH)
    _log(actor, changed, "tags", old, {c.pk: c.tags for c in changed}, ip)
    return len(changed)


def _update_custom(actor, spec: BulkField, rows: list[Customer], new: Any, now, ip) -> int:
    key = spec.custom.key
    changed = [c for c in rows if (c.custom_data or {}).get(key) != new]
    if not changed:
        return 0
    Customer.objects.filter(pk__in=[c.pk for c in changed]).update(
        custom_data=_JSONSetKey(key, new), updated_at=now
    )
    old = {c.pk: display(spec.custom, (c.custom_data or {}).get(key)) for c in changed}
    _log(actor, changed, spec.key, old, dict.fromkeys(old, display(spec.custom, new)), ip)
    return len(changed)
