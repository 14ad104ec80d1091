"""Helpers shared by the targets: dictionaries by label, owners by name, form fields as cleaners."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.accounts.models import User
from crm.customers.models import DictionaryItem, NumberingRule, NumberSequence
from crm.customfields import selectors as cf_selectors
from crm.customfields.models import CustomField
from crm.imports.targets.base import ImportField

OWNER_KEY = "owner"


def first_message(exc: ValidationError) -> str:
    return str(exc.messages[0]) if exc.messages else str(exc)


def clean_with(field: forms.Field, raw: str) -> Any:
    """The form field's own cleaning (format checks, lengths, required) for one cell."""
    return field.clean(field.to_python(raw) if isinstance(field, forms.MultipleChoiceField) else raw)


def load_dictionaries(kinds: dict[str, str]) -> dict[str, dict[str, DictionaryItem]]:
    """{field: {label: item}} of the active items of each kind (one query)."""
    by_kind: dict[str, dict[str, DictionaryItem]] = {}
    items = DictionaryItem.objects.filter(kind__in=list(kinds.values()), is_active=True).order_by(
        "sort_order", "pk"
    )
    for item in items:
        by_kind.setdefault(item.kind, {}).setdefault(item.name.strip().lower(), item)
    return {field: by_kind.get(kind, {}) for field, kind in kinds.items()}


def dictionary_value(lookup: dict[str, DictionaryItem], raw: str, label: str) -> DictionaryItem:
    item = lookup.get(raw.strip().lower())
    if item is None:
        raise ValidationError(
            _("“%(value)s”不是有效的%(field)s（应为字典中已有的选项）。") % {"value": raw, "field": label}
        )
    return item


def load_assignable_users(user) -> dict[str, User]:
    """Active users the importer may assign records to (self and the data scope), by username,
    display name and full name (lower-case)."""
    q = policy.visible_users_q(user)
    users = User.objects.filter(is_active=True)
    if q is not None:
        users = users.filter(q | Q(pk=user.pk))
    lookup: dict[str, User] = {}
    for candidate in users.order_by("pk"):
        for name in (candidate.username, candidate.display_name, candidate.get_full_name()):
            if name and name.strip():
                lookup.setdefault(name.strip().lower(), candidate)
    return lookup


def owner_value(lookup: dict[str, User], raw: str) -> User:
    found = lookup.get(raw.strip().lower())
    if found is None:
        raise ValidationError(
            _("找不到员工“%(name)s”，或您不能把记录分配给他/她（只能分配给您数据范围内的在职员工）。")
            % {"name": raw}
        )
    return found


def custom_import_fields(target: str) -> list[ImportField]:
    fields = []
    for field in cf_selectors.active_fields(target):
        if not getattr(field, "importable", True):
            continue
        help_text = ""
        if field.options:
            help_text = _("可选值：%(values)s") % {"values": "、".join(field.options)}
        elif field.field_type == CustomField.FieldType.DATE:
            help_text = _("格式如 2026-01-31")
        elif field.field_type == CustomField.FieldType.BOOLEAN:
            help_text = _("填“是”或“否”")
        fields.append(
            ImportField(
                key=field.path,
                label=field.label,
                required=field.required,
                aliases=(field.key,),
                help=help_text,
            )
        )
    return fields


def custom_raw_values(target: str, values: dict[str, str], users: dict[str, User]) -> dict[str, Any]:
    """The cells of custom-field columns as clean_custom_values expects them (empty ones left out)."""
    raw: dict[str, Any] = {}
    by_path = {f.path: f for f in cf_selectors.active_fields(target)}
    for path, field in by_path.items():
        text = (values.get(path) or "").strip()
        if not text:
            continue
        kind = field.field_type
        if kind == CustomField.FieldType.MULTI_CHOICE:
            raw[field.key] = [
                p.strip() for p in text.replace("，", ",").replace("、", ",").split(",") if p.strip()
            ]
        elif kind == CustomField.FieldType.BOOLEAN:
            raw[field.key] = {
                "是": True,
                "否": False,
                "true": True,
                "false": False,
                "1": True,
                "0": False,
            }.get(text.lower(), text)
        elif kind == CustomField.FieldType.USER:
            found = users.get(text.lower())
            raw[field.key] = found.pk if found else text
        else:
            raw[field.key] = text
    return raw


def reserve_numbers(key: str, count: int, default_prefix: str) -> list[str]:
    """`count` consecutive codes of numbering rule `key` in one locked UPDATE (like number_next)."""
    if count <= 0:
        return []
    rule, _created = NumberingRule.objects.get_or_create(key=key, defaults={"prefix": default_prefix})
    period = timezone.localtime().strftime(rule.date_part) if rule.date_part else ""
    with transaction.atomic():
        try:
            with transaction.atomic():
                NumberSequence.objects.get_or_create(key=key, period=period)
        except IntegrityError:
            pass
        sequence = NumberSequence.objects.select_for_update().get(key=key, period=period)
        sequence.last_value = F("last_value") + count
        sequence.save(update_fields=["last_value"])
        sequence.refresh_from_db(fields=["last_value"])
    last = sequence.last_value
    return [f"{rule.prefix}{period}{n:0{rule.padding}d}" for n in range(last - count + 1, last + 1)]
