"""Admin-kept settings of the customer module (CUS-12): dictionaries and the numbering rule.

Dictionary items are never deleted (customers refer to them); they are renamed or deactivated.
Regions form a two-level tree (province → city); every other dictionary is flat.
"""

import logging
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from crm.audit.services import diff, log_action
from crm.customers.models import DictionaryItem, NumberingRule

logger = logging.getLogger(__name__)

TREE_KINDS = {DictionaryItem.Kind.REGION}
PREFIX_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("名称不能为空。")})
    if len(name) > 64:
        raise ValidationError({"name": _("名称不能超过 64 个字符。")})
    return name


def _check_unique(*, kind: str, parent: DictionaryItem | None, name: str, exclude_pk: int | None = None):
    clash = DictionaryItem.objects.filter(kind=kind, parent=parent, name=name).exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": _("“%(name)s”已存在。") % {"name": name}})


@transaction.atomic
def dictionary_item_create(
    *, actor, kind: str, name: str, parent: DictionaryItem | None = None, ip: str | None = None
) -> DictionaryItem:
    if kind not in DictionaryItem.Kind.values:
        raise ValidationError(_("未知的字典类型。"))
    name = _clean_name(name)
    if parent is not None:
        if kind not in TREE_KINDS:
            raise ValidationError({"parent": _("只有地区可以设置上级。")})
        if parent.kind != kind or parent.parent_id is not None:
            raise ValidationError({"parent": _("上级必须是同一字典中的一级项（地区最多两级）。")})
    _check_unique(kind=kind, parent=parent, name=name)
    siblings = DictionaryItem.objects.filter(kind=kind, parent=parent)
    last = siblings.aggregate(last=Max("sort_order"))["last"]
    item = DictionaryItem.objects.create(
        kind=kind, name=name, parent=parent, sort_order=0 if last is None else last + 1
    )
    log_action(
        actor=actor,
        action="dictionary.created",
        target=item,
        changes=diff({}, {"kind": item.get_kind_display(), "name": name, "parent": parent}),
        ip_address=ip,
    )
    logger.info("dictionary item %s (%s) created by %s", item.pk, kind, getattr(actor, "pk", None))
    return item


@transaction.atomic
def dictionary_item_update(
    *, actor, item: DictionaryItem, name: str, sort_order: int | None = None, ip: str | None = None
) -> DictionaryItem:
    item = DictionaryItem.objects.select_for_update().get(pk=item.pk)
    old = {"name": item.name, "sort_order": item.sort_order}
    item.name = _clean_name(name)
    if sort_order is not None:
        if sort_order < 0 or sort_order > 100000:
            raise ValidationError({"sort_order": _("排序必须是 0 到 100000 之间的整数。")})
        item.sort_order = sort_order
    _check_unique(kind=item.kind, parent=item.parent, name=item.name, exclude_pk=item.pk)
    item.save(update_fields=["name", "sort_order", "updated_at"])
    changes = diff(old, {"name": item.name, "sort_order": item.sort_order})
    if changes:
        log_action(actor=actor, action="dictionary.updated", target=item, changes=changes, ip_address=ip)
        logger.info("dictionary item %s updated by %s", item.pk, getattr(actor, "pk", None))
    return item


@transaction.atomic
def dictionary_item_set_active(
    *, actor, item: DictionaryItem, active: bool, ip: str | None = None
) -> DictionaryItem:
    """Deactivated items stay on the customers that use them but are no longer offered on forms.
    Deactivating a province deactivates its cities too."""
    updated = DictionaryItem.objects.filter(pk=item.pk).exclude(is_active=active).update(is_active=active)
    if not active:
        DictionaryItem.objects.filter(parent=item).update(is_active=False)
    item.refresh_from_db()
    if updated:
        log_action(
            actor=actor,
            action="dictionary.activated" if active else "dictionary.deactivated",
            target=item,
            changes={"is_active": [not active, active]},
            ip_address=ip,
        )
        logger.info("dictionary item %s active=%s by %s", item.pk, active, getattr(actor, "pk", None))
    return item


@transaction.atomic
def numbering_rule_update(
    *, actor, key: str, prefix: str, date_part: str, padding: int, ip: str | None = None
) -> NumberingRule:
    """Change how new codes look; codes already handed out keep their value."""
    prefix = (prefix or "").strip()
    errors = {}
    if len(prefix) > 16 or not PREFIX_RE.match(prefix):
        errors["prefix"] = _("前缀最多 16 个字符，只能包含字母、数字、- 和 _。")
    if date_part not in NumberingRule.DatePart.values:
        errors["date_part"] = _("日期部分不正确。")
    if not 1 <= int(padding) <= 10:
        errors["padding"] = _("序号位数必须在 1 到 10 之间。")
    if errors:
        raise ValidationError(errors)
    rule, _created = NumberingRule.objects.select_for_update().get_or_create(key=key)
    old = {"prefix": rule.prefix, "date_part": rule.date_part, "padding": rule.padding}
    rule.prefix, rule.date_part, rule.padding = prefix, date_part, int(padding)
    rule.save()
    changes = diff(old, {"prefix": rule.prefix, "date_part": rule.date_part, "padding": rule.padding})
    if changes:
        log_action(actor=actor, action="numbering.updated", target=rule, changes=changes, ip_address=ip)
        logger.info("numbering rule %s updated by %s", key, getattr(actor, "pk", None))
    return rule
