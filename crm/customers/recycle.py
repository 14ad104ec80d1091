"""Recycle rules (回收策略, POOL-4) and recycle warnings (CUS-13).

A rule picks owned customers whose condition has held for N days (per value level, N may differ)
and sends them back to a pool, automatically every night (crm/customers/tasks.py) or when an
admin presses 立即执行. Kinds:

- never_contacted (领取后从未跟进): claimed/assigned (or created, when never claimed) at least N
  days ago and not followed up since;
- no_followup (长期未跟进): no follow-up for N days, counted from the last follow-up, or from the
  claim/creation when the current owner has not followed it up yet.

- no_deal (长期未成交): no deal for N days, counted from the last deal (`Customer.last_deal_at`,
  set when an opportunity is won or a contract approved), or from the claim/creation when there
  was none — or when the last deal is older than the current owner's claim (a customer just
  claimed gets its full N days, as with no_followup).

A "contract end date" rule will be a new kind. Protected customers (protected_until > now) are
never recycled. A rule may target statuses, value levels and departments (a department includes
its sub-departments; the customer's 所属部门 counts) and exempt chosen statuses (e.g. 正式客户),
customers with a next contact date still to come, and (exempt_open_opportunities, any kind)
customers with an opportunity still open (one EXISTS sub-select).

The selection is one SQL query (per-level days via CASE … WHEN, no per-row Python). A run is
set-based: per batch of up to RECYCLE_BATCH customers a fixed number of queries whatever their
number (lock the rows, one UPDATE, one DELETE of shares/team rows, one log INSERT per distinct
reason, i.e. per distinct number of days), then one notification per former owner per rule.
The former owner may not reclaim a recycled customer for PoolSettings.reclaim_after_days
(pool_services._check_reclaim_window reads previous_owner and released_at, set here).

Pending claim applications exist only for public customers and are closed when a customer is
taken, so a recycled (owned) customer has none to close.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.accounts.models import Department
from crm.audit.services import diff, log_action, log_actions_bulk
from crm.customers.models import (
    Customer,
    DictionaryItem,
    Pool,
    RecycleRule,
    RecycleWarning,
)
from crm.customers.pool_services import send_to_pool
from crm.messaging.models import Notification

RECYCLE_BATCH = 5000  # customers locked and moved per transaction
WARNING_BATCH = 2000
PREVIEW_LIMIT = 50
MAX_DAYS = 3650
MAX_WARN_DAYS = 365
MAX_NAMES = 5  # customer names quoted in a notification


def _require(actor, permission: str = "pool.settings") -> None:
    if not policy.can(actor, permission):
        raise PermissionRequiredError(permission)


# ---------------------------------------------------------------- selection


def _ids(items) -> list[int]:
    return [item.pk for item in items]


def level_days(rule: RecycleRule) -> dict[int, int]:
    """{value level id: days} of the rule's per-level overrides (keys stored as text in JSON)."""
    return {int(key): int(days) for key, days in (rule.days_by_level or {}).items()}


def days_for(rule: RecycleRule, value_level_id: int | None) -> int:
    return level_days(rule).get(value_level_id, rule.days) if value_level_id else rule.days


def _start():
    """When the current owner got the customer: the claim/assignment, else its creation."""
    return Coalesce(F("claimed_at"), F("created_at"))


def _reference(rule: RecycleRule):
    """The moment the rule counts its days from."""
    if rule.kind == RecycleRule.Kind.NEVER_CONTACTED:
        return _start()
    # The last follow-up (or deal), unless it is older than the current owner's claim.
    last = F("last_deal_at") if rule.kind == RecycleRule.Kind.NO_DEAL else F("last_followup_at")
    return Greatest(Coalesce(last, _start()), _start(), output_field=DateTimeField())


def _per_level(rule: RecycleRule, value_of, output_field):
    """CASE value_level_id WHEN … THEN value_of(days) … ELSE value_of(rule.days) END."""
    overrides = level_days(rule)
    if not overrides:
        return Value(value_of(rule.days), output_field=output_field)
    return Case(
        *[
            When(value_level_id=level_id, then=Value(value_of(days), output_field=output_field))
            for level_id, days in sorted(overrides.items())
        ],
        default=Value(value_of(rule.days), output_field=output_field),
        output_field=output_field,
    )


def _targeted(rule: RecycleRule, now: datetime) -> QuerySet[Customer]:
    """Owned, live, unprotected customers the rule applies to (targets and exemptions), without
    the time condition. Reads the rule's targets from prefetched relations when present."""
    customers = (
        Customer.objects.filter(deleted_at__isnull=True, owner__isnull=False)
        .filter(Q(protected_until__isnull=True) | Q(protected_until__lte=now))
        .annotate(
            recycle_reference=_reference(rule),
            recycle_days=_per_level(rule, int, IntegerField()),
        )
    )
    statuses = _ids(rule.statuses.all())
    if statuses:
        customers = customers.filter(status_id__in=statuses)
    levels = _ids(rule.value_levels.all())
    if levels:
        customers = customers.filter(value_level_id__in=levels)
    departments = list(rule.departments.all())
    if departments:
        subtree = Q()
        for department in departments:
            subtree |= Q(path__startswith=department.path)
        customers = customers.filter(department_id__in=Department.objects.filter(subtree).values("pk"))
    exempt = _ids(rule.exempt_statuses.all())
    if exempt:
        customers = customers.exclude(status_id__in=exempt)
    if rule.exempt_scheduled:
        customers = customers.exclude(next_contact_at__gt=now)
    if rule.exempt_open_opportunities:
        from crm.opportunities.models import Opportunity

        open_deals = Opportunity.objects.filter(customer_id=OuterRef("pk"), status=Opportunity.Status.OPEN)
        customers = customers.exclude(Exists(open_deals))
    if rule.kind == RecycleRule.Kind.NEVER_CONTACTED:
        customers = customers.filter(Q(last_followup_at__isnull=True) | Q(last_followup_at__lt=_start()))
    return customers


def _due_by(rule: RecycleRule, moment: datetime):
    """Per-level cutoff: a customer is due at `moment` when its reference is at or before it."""
    return _per_level(rule, lambda days: moment - timedelta(days=days), DateTimeField())


def recycle_candidates(rule: RecycleRule, now: datetime | None = None) -> QuerySet[Customer]:
    """The customers `rule` would recycle at `now`: one SQL query, ordered by id."""
    now = now or timezone.now()
    return _targeted(rule, now).filter(recycle_reference__lte=_due_by(rule, now)).order_by("pk")


def due_at(customer: Customer) -> datetime:
    """When the rule (whose annotations the customer carries) recycles it."""
    return customer.recycle_reference + timedelta(days=customer.recycle_days)


def why(rule: RecycleRule, customer: Customer) -> str:
    """A sentence telling why the customer is (or will be) recycled, for pages and messages."""
    values = {
        "days": customer.recycle_days,
        "since": timezone.localtime(customer.recycle_reference).strftime("%Y-%m-%d"),
    }
    if rule.kind == RecycleRule.Kind.NEVER_CONTACTED:
        return _("%(since)s 领取后 %(days)d 天内未跟进") % values
    if rule.kind == RecycleRule.Kind.NO_DEAL:
        if customer.last_deal_at and customer.last_deal_at >= customer.recycle_reference:
            return _("最近成交于 %(since)s，超过 %(days)d 天未成交") % values
        return _("%(since)s 领取后一直未成交，超过 %(days)d 天") % values
    if customer.last_followup_at and customer.last_followup_at >= customer.recycle_reference:
        return _("最近跟进于 %(since)s，超过 %(days)d 天未跟进") % values
    return _("%(since)s 领取后一直未跟进，超过 %(days)d 天") % values


def reason_text(rule: RecycleRule, days: int) -> str:
    """The release reason written on the customer and in the log: the rule and its condition."""
    values = {"rule": rule.name, "days": days}
    if rule.kind == RecycleRule.Kind.NEVER_CONTACTED:
        return _("自动回收（规则“%(rule)s”）：领取后 %(days)d 天内未跟进") % values
    if rule.kind == RecycleRule.Kind.NO_DEAL:
        return _("自动回收（规则“%(rule)s”）：超过 %(days)d 天未成交") % values
    return _("自动回收（规则“%(rule)s”）：超过 %(days)d 天未跟进") % values


def _reason_case(rule: RecycleRule):
    overrides = level_days(rule)
    default = Value(reason_text(rule, rule.days))
    if not overrides:
        return default
    return Case(
        *[
            When(value_level_id=level_id, then=Value(reason_text(rule, days)))
            for level_id, days in sorted(overrides.items())
        ],
        default=default,
    )


@dataclass
class Preview:
    count: int
    rows: list[Customer] = field(default_factory=list)


def recycle_preview(rule: RecycleRule, now: datetime | None = None, limit: int = PREVIEW_LIMIT) -> Preview:
    """How many customers the rule would recycle now, and the first `limit` of them, each with
    `recycle_why` (why) and `recycle_due_at` set."""
    now = now or timezone.now()
    candidates = recycle_candidates(rule, now)
    rows = list(candidates.select_related("owner", "value_level", "status")[:limit])
    for customer in rows:
        customer.recycle_why = why(rule, customer)
        customer.recycle_due_at = due_at(customer)
    count = len(rows) if len(rows) < limit else candidates.count()
    return Preview(count=count, rows=rows)


def rules_loaded(*, active_only: bool = False, rule_ids: list[int] | None = None) -> list[RecycleRule]:
    rules = RecycleRule.objects.select_related("pool").prefetch_related(
        "statuses", "value_levels", "departments", "exempt_statuses"
    )
    if active_only:
        rules = rules.filter(is_active=True)
    if rule_ids is not None:
        rules = rules.filter(pk__in=rule_ids)
    return list(rules.order_by("pk"))


def rules_for_settings() -> list[RecycleRule]:
    """Every rule with `condition` (its condition in words) and `destination` set; a fixed number
    of queries whatever the number of rules."""
    from crm.customers.services import default_pool

    rules = rules_loaded()
    names = dict(
        DictionaryItem.objects.filter(kind=DictionaryItem.Kind.VALUE_LEVEL).values_list("pk", "name")
    )
    fallback = default_pool() if any(rule.pool_id is None for rule in rules) else None
    for rule in rules:
        rule.condition = condition_text(rule, names)
        rule.destination = rule.pool or fallback
    return rules


# ---------------------------------------------------------------- running


def _destination(rule: RecycleRule) -> Pool:
    from crm.customers.services import default_pool

    return rule.pool or default_pool()


def _names(names: list[str]) -> str:
    text = _("、").join(names[:MAX_NAMES])
    return text + (_("等") if len(names) > MAX_NAMES else "")


def _recycle_rule(rule: RecycleRule, *, now: datetime, actor, ip: str | None) -> int:
    pool = _destination(rule)
    candidates = recycle_candidates(rule, now).only("pk", "name", "owner_id", "value_level_id")
    reason = _reason_case(rule)
    per_owner: dict[int, list[str]] = defaultdict(list)
    total = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            # Lock the batch; rows someone is working on right now (claim, protect) are skipped
            # and looked at again on the next run. PostgreSQL re-checks the WHERE clause of a row
            # that changed while we waited, so every locked row still meets the rule.
            rows = list(
                candidates.filter(pk__gt=last_pk).select_for_update(of=("self",), skip_locked=True)[
                    :RECYCLE_BATCH
                ]
            )
            if not rows:
                break
            last_pk = rows[-1].pk
            ids = [c.pk for c in rows]
            send_to_pool(ids, pool=pool, reason=reason, now=now)
            by_days: dict[int, list[Customer]] = defaultdict(list)
            for customer in rows:
                by_days[customer.recycle_days].append(customer)
                per_owner[customer.owner_id].append(customer.name)
            for days, group in sorted(by_days.items()):
                text = reason_text(rule, days)
                log_actions_bulk(
                    actor=actor,
                    action="pool.recycled",
                    targets=group,
                    changes={"pool": [None, str(pool)], "release_reason": [None, text]},
                    message=text,
                    ip_address=ip,
                )
            total += len(rows)
            if len(rows) < RECYCLE_BATCH:
                break
    condition = condition_text(rule)  # once: it may read the level names
    with transaction.atomic():
        Notification.objects.bulk_create(
            Notification(
                recipient_id=owner_id,
                title=_("您有 %(count)d 个客户已被自动回收到“%(pool)s”")
                % {"count": len(names), "pool": pool},
                body=_("回收规则“%(rule)s”：%(condition)s。客户：%(names)s。")
                % {"rule": rule.name, "condition": condition, "names": _names(names)},
                kind=Notification.Kind.SYSTEM,
            )
            for owner_id, names in sorted(per_owner.items())
        )
        RecycleRule.objects.filter(pk=rule.pk).update(last_run_at=now, last_run_count=total)
        if total:
            log_action(
                actor=actor,
                action="pool.recycle_rule_run",
                target=rule,
                changes={"count": [None, total]},
                message=condition,
                ip_address=ip,
            )
    return total


def condition_text(rule: RecycleRule, level_names: dict[int, str] | None = None) -> str:
    """The rule's condition in words, with its per-level days."""
    values = {"days": rule.days}
    if rule.kind == RecycleRule.Kind.NEVER_CONTACTED:
        text = _("领取后 %(days)d 天内未跟进") % values
    elif rule.kind == RecycleRule.Kind.NO_DEAL:
        text = _("超过 %(days)d 天未成交") % values
    else:
        text = _("超过 %(days)d 天未跟进") % values
    overrides = level_days(rule)
    if overrides:
        names = level_names
        if names is None:
            names = dict(DictionaryItem.objects.filter(pk__in=list(overrides)).values_list("pk", "name"))
        parts = [
            _("%(level)s %(days)d 天") % {"level": names.get(pk, f"#{pk}"), "days": days}
            for pk, days in sorted(overrides.items())
        ]
        text += _("（%(levels)s）") % {"levels": _("，").join(parts)}
    return text


def recycle_run(
    *, now: datetime | None = None, actor=None, rules: list[RecycleRule] | None = None, ip: str | None = None
) -> dict[int, int]:
    """Apply every active rule (or the given ones) now; returns {rule id: customers recycled}.

    With an actor (立即执行 on the settings page) the actor needs pool.settings; the nightly job
    runs without one (the log shows the system as actor)."""
    if actor is not None:
        _require(actor)
    now = now or timezone.now()
    if rules is None:
        loaded = rules_loaded(active_only=True)
    else:
        loaded = rules_loaded(rule_ids=[r.pk for r in rules])
    return {rule.pk: _recycle_rule(rule, now=now, actor=actor, ip=ip) for rule in loaded}


# ---------------------------------------------------------------- warnings (CUS-13)


def recycle_warnings_send(*, now: datetime | None = None) -> int:
    """Warn owners whose customers an active rule will recycle within its warn_days_before days:
    one message per owner and rule, once per customer and lapse (a marker row per customer, rule
    and due date; a marker written after the last follow-up or claim means "warned"), so a re-run
    sends nothing and a follow-up that moves the due date brings a new warning later.
    Returns how many customers were newly warned."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    warned = 0
    for rule in rules_loaded(active_only=True):
        if not rule.warn_days_before:
            continue
        horizon = now + timedelta(days=rule.warn_days_before)
        # Warned already for this lapse: a marker written since the last follow-up or claim.
        marked = RecycleWarning.objects.filter(
            customer_id=OuterRef("pk"), rule_id=rule.pk, created_at__gte=OuterRef("recycle_reference")
        )
        due_soon = (
            _targeted(rule, now)
            .filter(recycle_reference__lte=_due_by(rule, horizon), owner__is_active=True)
            .filter(~Exists(marked))
            .only("pk", "name", "owner_id", "value_level_id", "last_followup_at", "last_deal_at")
            .order_by("pk")
        )
        per_owner: dict[int, list[Customer]] = defaultdict(list)
        last_pk = 0
        while True:
            with transaction.atomic():
                batch = list(due_soon.filter(pk__gt=last_pk)[:WARNING_BATCH])
                if not batch:
                    break
                last_pk = batch[-1].pk
                RecycleWarning.objects.bulk_create(
                    [
                        # An overdue customer (not recycled yet) is marked for today, so that
                        # the marker still counts tomorrow.
                        RecycleWarning(
                            customer_id=c.pk,
                            rule_id=rule.pk,
                            due_date=max(today, timezone.localdate(due_at(c))),
                        )
                        for c in batch
                    ],
                    ignore_conflicts=True,
                )
                for customer in batch:
                    per_owner[customer.owner_id].append(customer)
                warned += len(batch)
                if len(batch) < WARNING_BATCH:
                    break
        condition = condition_text(rule)  # once: it may read the level names
        Notification.objects.bulk_create(
            Notification(
                recipient_id=owner_id,
                kind=Notification.Kind.REMINDER,
                title=_("您有 %(count)d 个客户即将被自动回收") % {"count": len(customers)},
                body=_(
                    "回收规则“%(rule)s”：%(condition)s。最早将于 %(date)s 回收：%(names)s。"
                    "跟进客户或设置保护可以避免被回收。"
                )
                % {
                    "rule": rule.name,
                    "condition": condition,
                    "date": max(today, min(timezone.localdate(due_at(c)) for c in customers)).isoformat(),
                    "names": _names([c.name for c in customers]),
                },
            )
            for owner_id, customers in sorted(per_owner.items())
        )
    return warned


# ---------------------------------------------------------------- rule settings


def _int(value, message: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(message) from exc
    if isinstance(value, float) and value != number:
        raise ValidationError(message)
    if number < low or number > high:
        raise ValidationError(message)
    return number


def _items(values, kind: str, message: str) -> list[DictionaryItem]:
    values = list(values or [])
    ids = [getattr(v, "pk", v) for v in values]
    try:
        ids = sorted({int(pk) for pk in ids})
    except (TypeError, ValueError) as exc:
        raise ValidationError(message) from exc
    items = list(DictionaryItem.objects.filter(kind=kind, pk__in=ids))
    if len(items) != len(ids):
        raise ValidationError(message)
    return items


def _clean_levels(days_by_level) -> dict[str, int]:
    if days_by_level in (None, ""):
        return {}
    if not isinstance(days_by_level, dict):
        raise ValidationError({"days_by_level": _("按价值等级的天数格式不正确。")})
    cleaned: dict[str, int] = {}
    names = {}
    try:
        keys = {int(key) for key in days_by_level}
    except (TypeError, ValueError) as exc:
        raise ValidationError({"days_by_level": _("按价值等级的天数中有未知的价值等级。")}) from exc
    names = dict(
        DictionaryItem.objects.filter(kind=DictionaryItem.Kind.VALUE_LEVEL, pk__in=keys).values_list(
            "pk", "name"
        )
    )
    for key, days in days_by_level.items():
        level_id = int(key)
        if level_id not in names:
            raise ValidationError(
                {"days_by_level": _("按价值等级的天数中有未知的价值等级（%(id)s）。") % {"id": key}}
            )
        if days in (None, ""):
            continue  # no override for this level
        cleaned[str(level_id)] = _int(
            days,
            {
                "days_by_level": _("“%(level)s”的天数应为 1 到 %(max)d 之间的整数。")
                % {"level": names[level_id], "max": MAX_DAYS}
            },
            1,
            MAX_DAYS,
        )
    return dict(sorted(cleaned.items(), key=lambda item: int(item[0])))


def _snapshot(rule: RecycleRule) -> dict:
    if rule.pk is None:
        return {}
    return {
        "name": rule.name,
        "kind": rule.get_kind_display(),
        "days": rule.days,
        "days_by_level": [f"{k}:{v}" for k, v in sorted((rule.days_by_level or {}).items())],
        "statuses": sorted(str(s) for s in rule.statuses.all()),
        "value_levels": sorted(str(s) for s in rule.value_levels.all()),
        "departments": sorted(str(d) for d in rule.departments.all()),
        "exempt_statuses": sorted(str(s) for s in rule.exempt_statuses.all()),
        "exempt_scheduled": rule.exempt_scheduled,
        "exempt_open_opportunities": rule.exempt_open_opportunities,
        "warn_days_before": rule.warn_days_before,
        "pool": str(rule.pool) if rule.pool_id else None,
        "is_active": rule.is_active,
    }


@transaction.atomic
def recycle_rule_save(
    *,
    actor,
    rule: RecycleRule | None,
    name: str,
    kind: str,
    days,
    days_by_level: dict | None = None,
    statuses=(),
    value_levels=(),
    departments=(),
    exempt_statuses=(),
    exempt_scheduled: bool = False,
    exempt_open_opportunities: bool = False,
    warn_days_before=0,
    pool: Pool | None = None,
    is_active: bool = True,
    ip: str | None = None,
) -> RecycleRule:
    """Create or change a recycle rule. Everything is checked before anything is saved."""
    _require(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("规则名称不能为空。")})
    if len(name) > 64:
        raise ValidationError({"name": _("规则名称不能超过 64 个字符。")})
    if RecycleRule.objects.filter(name=name).exclude(pk=getattr(rule, "pk", None)).exists():
        raise ValidationError({"name": _("规则名称“%(name)s”已存在。") % {"name": name}})
    if kind not in RecycleRule.Kind.values:
        raise ValidationError({"kind": _("请选择回收条件。")})
    days = _int(days, {"days": _("天数应为 1 到 %(max)d 之间的整数。") % {"max": MAX_DAYS}}, 1, MAX_DAYS)
    levels = _clean_levels(days_by_level)
    warn = _int(
        warn_days_before,
        {"warn_days_before": _("提前提醒天数应为 0 到 %(max)d 之间的整数。") % {"max": MAX_WARN_DAYS}},
        0,
        MAX_WARN_DAYS,
    )
    status_items = _items(statuses, DictionaryItem.Kind.STATUS, _("适用客户状态中有未知的状态。"))
    level_items = _items(value_levels, DictionaryItem.Kind.VALUE_LEVEL, _("适用价值等级中有未知的等级。"))
    exempt_items = _items(exempt_statuses, DictionaryItem.Kind.STATUS, _("不回收的客户状态中有未知的状态。"))
    overlap = {s.pk for s in status_items} & {s.pk for s in exempt_items}
    if overlap:
        raise ValidationError({"exempt_statuses": _("同一客户状态不能既适用又不回收。")})
    department_ids = sorted({getattr(d, "pk", d) for d in departments or ()})
    department_items = list(Department.objects.filter(pk__in=department_ids))
    if len(department_items) != len(department_ids):
        raise ValidationError({"departments": _("适用部门中有未知的部门。")})
    if pool is not None and not Pool.objects.filter(pk=pool.pk).exists():
        raise ValidationError({"pool": _("请选择存在的公海。")})

    created = rule is None
    if not created:
        rule = RecycleRule.objects.select_for_update().get(pk=rule.pk)
    old = {} if created else _snapshot(rule)
    rule = rule or RecycleRule(created_by=actor if getattr(actor, "pk", None) else None)
    rule.name, rule.kind, rule.days, rule.days_by_level = name, kind, days, levels
    rule.exempt_scheduled, rule.warn_days_before = bool(exempt_scheduled), warn
    rule.exempt_open_opportunities = bool(exempt_open_opportunities)
    rule.pool, rule.is_active = pool, bool(is_active)
    rule.save()
    rule.statuses.set(status_items)
    rule.value_levels.set(level_items)
    rule.departments.set(department_items)
    rule.exempt_statuses.set(exempt_items)
    log_action(
        actor=actor,
        action="pool.recycle_rule_created" if created else "pool.recycle_rule_updated",
        target=rule,
        changes=diff(old, _snapshot(rule)),
        ip_address=ip,
    )
    return rule


def recycle_rule_preview_unsaved(*, actor, rule: RecycleRule | None, **values) -> tuple[Preview, str]:
    """What the rule as filled in would recycle now, before it is saved (POOL-4): it is saved
    with the same checks as `recycle_rule_save` inside a savepoint that is rolled back, so the
    preview and the later run read exactly the same rule. Returns (preview, condition text)."""
    with transaction.atomic():
        saved = recycle_rule_save(actor=actor, rule=rule, **values)
        loaded = rules_loaded(rule_ids=[saved.pk])[0]
        preview = recycle_preview(loaded)
        condition = condition_text(loaded)
        transaction.set_rollback(True)
    return preview, condition


@transaction.atomic
def recycle_rule_set_active(
    *, actor, rule: RecycleRule, is_active: bool, ip: str | None = None
) -> RecycleRule:
    _require(actor)
    rule = RecycleRule.objects.select_for_update().get(pk=rule.pk)
    if rule.is_active != is_active:
        rule.is_active = is_active
        rule.save(update_fields=["is_active", "updated_at"])
        log_action(
            actor=actor,
            action="pool.recycle_rule_updated",
            target=rule,
            changes={"is_active": [not is_active, is_active]},
            ip_address=ip,
        )
    return rule


@transaction.atomic
def recycle_rule_delete(*, actor, rule: RecycleRule, ip: str | None = None) -> None:
    _require(actor)
    log_action(
        actor=actor,
        action="pool.recycle_rule_deleted",
        target=rule,
        changes={"name": [rule.name, None]},
        ip_address=ip,
    )
    RecycleRule.objects.filter(pk=rule.pk).delete()
