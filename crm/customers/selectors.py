"""Reads of customers, always through the access policy.

A customer is visible to a user when its owner is in the user's data scope, when it was shared
with the user or the user is on its team, or when it lies in a pool the user may see.
"""

from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.db.models import Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone

from crm.access import field_policy, policy
from crm.core.request_cache import memoized
from crm.customers.models import Contact, Customer, CustomerAccess, Delegation, Pool
from crm.customers.search import search_q
from crm.customfields import filters as customfield_filters

LIST_PAGE_SIZE = 20


def pools_visible(user) -> QuerySet[Pool]:
    """Pools the user may see and claim from: configured by department or user; an empty
    configuration means everyone; the customers 'settings' permission sees them all."""
    pools = Pool.objects.all()
    if policy.can(user, "pool.settings"):
        return pools
    open_to_all = Q(departments__isnull=True, users__isnull=True)
    mine = Q(users=user)
    if user.department_id:
        mine |= Q(departments=user.department_id)
    return pools.filter(open_to_all | mine).distinct()


def _delegated(user) -> QuerySet:
    """Customer ids delegated to the user by a delegation in force right now (ORG-4)."""
    now = timezone.now()
    return Delegation.customers.through.objects.filter(
        delegation__to_user_id=user.pk,
        delegation__revoked_at__isnull=True,
        delegation__starts_at__lte=now,
        delegation__ends_at__gt=now,
    )


def _granted_ids(user) -> list[int]:
    """Customers shared with the user, on whose team the user is, or delegated to the user now."""
    shared = CustomerAccess.objects.filter(user_id=user.pk).order_by().values_list("customer_id", flat=True)
    return list(shared.union(_delegated(user).order_by().values_list("customer_id", flat=True)))


_OWNER, _GRANTED = 1, 2


def _scope_ids(user, scope: Q) -> tuple[list[int], list[int]]:
    """In one query: the ids of the users in the data scope, and of the customers granted to the
    user (shared, team, delegated now)."""
    from crm.accounts.models import User

    tagged = (
        User.objects.filter(scope)
        .order_by()
        .annotate(tag=Value(_OWNER))
        .values_list("pk", "tag")
        .union(
            CustomerAccess.objects.filter(user_id=user.pk)
            .order_by()
            .annotate(tag=Value(_GRANTED))
            .values_list("customer_id", "tag"),
            _delegated(user).order_by().annotate(tag=Value(_GRANTED)).values_list("customer_id", "tag"),
            all=True,
        )
    )
    owner_ids, granted_ids = [], []
    for pk, tag in tagged:
        (owner_ids if tag == _OWNER else granted_ids).append(pk)
    return owner_ids, granted_ids


def customers_visible(user, *, include_pool: bool = False) -> QuerySet[Customer]:
    """Live (not deleted) customers the user may see; owned ones, plus pool ones if asked.

    The scope's owner ids and the granted customer ids are read first (small lists, one query):
    PostgreSQL answers `owner_id IN (…) OR id IN (…)` with a BitmapOr of index scans, where
    `owner_id IN (SELECT …) OR EXISTS (…)` scanned every live customer (bench/customers.py)."""
    customers = Customer.objects.filter(deleted_at__isnull=True)
    if not policy.can(user, "customers.view"):
        owned = Q(pk__in=[])
    else:
        scope = policy.visible_users_q(user)
        if scope is None:
            owned = Q(owner__isnull=False)
        else:
            owner_ids, granted_ids = memoized(("customer_scope", user.pk), lambda: _scope_ids(user, scope))
            # Public customers are reached only through their pool, never through a stale grant.
            owned = Q(owner__isnull=False) & (Q(owner_id__in=owner_ids) | Q(pk__in=granted_ids))
    if include_pool and policy.can(user, "pool.view"):
        owned |= Q(owner__isnull=True, pool__in=pools_visible(user).values("pk"))
    return customers.filter(owned)


def customer_get_for_user(*, user, customer_id, write: bool = False) -> Customer:
    """The customer, or 404 alike for missing and not visible. With write=True the user must also
    be allowed to change it: owner in scope with customers.edit, or a read-write team member."""
    customers = customers_visible(user, include_pool=True).select_related(
        "owner",
        "department",
        "pool",
        "status",
        "category",
        "value_level",
        "stage",
        "region",
        "industry",
        "source",
        "created_by",
        "previous_owner",
    )
    try:
        customer = customers.get(pk=int(customer_id))
    except (Customer.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if write and not can_edit_customer(user, customer):
        raise Http404
    return customer


def can_edit_customer(user, customer: Customer) -> bool:
    if customer.owner_id is None:
        return policy.can(user, "pool.edit")
    if not policy.can(user, "customers.edit"):
        return False
    scope = policy.visible_q(user, "owner")
    in_scope = scope is None or Customer.objects.filter(scope, pk=customer.pk).exists()
    if in_scope:
        return True
    if CustomerAccess.objects.filter(customer=customer, user=user, can_edit=True).exists():
        return True
    return _delegated(user).filter(customer=customer).exists()


# ---------------------------------------------------------------- list: filters, search, paging

# The fields a list may be filtered and sorted on, and the operators each kind allows. Nothing
# from the request reaches SQL except through these allow-lists.
TEXT_OPS = {
    "contains": "icontains",
    "equals": "iexact",
    "startswith": "istartswith",
    "empty": "isnull_or_blank",
}
CHOICE_OPS = {"is": "exact", "in": "in", "empty": "isnull"}
DATE_OPS = {"after": "gte", "before": "lte", "empty": "isnull"}
FILTER_FIELDS: dict[str, dict[str, str]] = {
    "name": TEXT_OPS,
    "code": TEXT_OPS,
    "keyword": TEXT_OPS,
    "phone": TEXT_OPS,
    "mobile": TEXT_OPS,
    "email": TEXT_OPS,
    "address": TEXT_OPS,
    "tags": TEXT_OPS,
    "credit_code": TEXT_OPS,
    "kind": CHOICE_OPS,
    "status": CHOICE_OPS,
    "category": CHOICE_OPS,
    "value_level": CHOICE_OPS,
    "stage": CHOICE_OPS,
    "region": CHOICE_OPS,
    "industry": CHOICE_OPS,
    "source": CHOICE_OPS,
    "owner": CHOICE_OPS,
    "department": CHOICE_OPS,
    "pool": CHOICE_OPS,
    "created_at": DATE_OPS,
    "last_followup_at": DATE_OPS,
    "next_contact_at": DATE_OPS,
}
SORT_FIELDS = ("created_at", "updated_at", "name", "code", "last_followup_at", "next_contact_at")


class BadFilterError(ValueError):
    """A filter or sort that is not on the allow-list (the message names what was wrong)."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: str = ""


def is_filter_field(field: str) -> bool:
    """A built-in filter field, or a searchable custom field `custom.<key>` (CUS-11)."""
    if customfield_filters.is_custom(field):
        return customfield_filters.filter_field("customers", field) is not None
    return field in FILTER_FIELDS


def _condition_q(condition: Condition) -> Q:
    if customfield_filters.is_custom(condition.field):  # custom fields (CUS-11), crm/customfields/filters.py
        try:
            return customfield_filters.condition_q(
                "customers", condition.field, condition.op, condition.value
            )
        except customfield_filters.BadCustomFilterError as exc:
            raise BadFilterError(str(exc)) from exc
    ops = FILTER_FIELDS.get(condition.field)
    if ops is None:
        raise BadFilterError(condition.field)
    lookup = ops.get(condition.op)
    if lookup is None:
        raise BadFilterError(f"{condition.field}:{condition.op}")
    field = condition.field
    if lookup == "isnull_or_blank":
        return Q(**{f"{field}__isnull": True}) | Q(**{field: ""})
    if lookup == "isnull":
        return Q(**{f"{field}__isnull": True})
    value = condition.value.strip()[:200]
    if ops is CHOICE_OPS and field != "kind":
        ids = [v for v in value.split(",") if v.strip().isdigit()]
        if not ids:
            raise BadFilterError(f"{field}={value}")
        return Q(**{f"{field}_id__in": ids})
    if lookup == "in":
        return Q(**{f"{field}__in": value.split(",")})
    if ops is DATE_OPS:
        from django.utils.dateparse import parse_date

        day = parse_date(value)
        if day is None:
            raise BadFilterError(f"{field}={value}")
        return Q(**{f"{field}__date__{lookup}": day})
    return Q(**{f"{field}__{lookup}": value})


condition_q = _condition_q  # public: list_params validates saved conditions with it (no query)


def customer_list(
    *,
    user,
    query: str = "",
    conditions: list[Condition] = (),
    sort: str = "-created_at",
    scope: str = "all",
    include_pool: bool = False,
) -> QuerySet[Customer]:
    """The customer list the user may see, filtered and sorted; raises BadFilterError on bad input."""
    customers = customers_visible(user, include_pool=include_pool)
    if scope == "mine":
        customers = customers.filter(owner=user)
    elif scope == "shared_with_me":
        customers = customers.filter(accesses__user=user, accesses__kind=CustomerAccess.Kind.SHARED)
    elif scope == "shared_by_me":
        customers = customers.filter(owner=user, accesses__kind=CustomerAccess.Kind.SHARED).distinct()
    # Field permissions (ORG-8): a hidden field is no filter, sort or search field for this user.
    hidden = field_policy.hidden_fields(user, "customers")
    for condition in conditions:
        if condition.field in hidden:
            raise BadFilterError(condition.field)
        customers = customers.filter(_condition_q(condition))
    if query:
        found = search_q(query, hidden=hidden) if hidden else search_q(query)
        custom_found = customfield_filters.search_q("customers", query, exclude=hidden, holder=user)  # CUS-11
        customers = customers.filter(found if custom_found is None else found | custom_found)
    field = sort.lstrip("-")
    descending = sort.startswith("-")
    if customfield_filters.is_custom(field):  # sort by a custom field (CUS-11), empty values last
        expression = customfield_filters.sort_expression("customers", field, holder=user)
        if expression is None or field in hidden:
            raise BadFilterError(sort)
        order = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
        return customers.order_by(order, "-pk" if descending else "pk")
    if field not in SORT_FIELDS or field in hidden:
        raise BadFilterError(sort)
    return customers.order_by(f"{'-' if descending else ''}{field}", f"{'-' if descending else ''}pk")


def customer_list_rows(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """What a list row shows, fetched with the page in one query."""
    return customers.select_related("owner", "status", "value_level", "stage", "pool")


def capped_count(customers: QuerySet, cap: int = 1000) -> tuple[int, bool]:
    """Count at most `cap` rows ("1,000+"), never an exact COUNT(*) over a million rows."""
    found = customers.order_by()[: cap + 1].count()
    return min(found, cap), found > cap


# ---------------------------------------------------------------- list: group-by counts (CUS-2)

# Fields the list may be grouped by: all foreign keys, so one GROUP BY on an indexed column.
GROUP_FIELDS = (
    "status",
    "category",
    "value_level",
    "stage",
    "industry",
    "source",
    "region",
    "owner",
    "department",
    "pool",
)
GROUP_LIMIT = 20
GROUP_TIMEOUT_MS = 10_000


class GroupTimeoutError(Exception):
    """The group-by query ran longer than GROUP_TIMEOUT_MS and was cancelled."""


@dataclass(frozen=True)
class GroupCount:
    value: int | None  # the id, None for "empty"
    label: str
    count: int


@dataclass(frozen=True)
class GroupCounts:
    field: str
    groups: list[GroupCount]
    other: int  # rows in the groups after the first GROUP_LIMIT ("其他")
    other_groups: int
    total: int


def _group_labels(field: str, ids: list[int]) -> dict[int, str]:
    from crm.accounts.models import Department, User
    from crm.customers.models import DictionaryItem

    if not ids:
        return {}
    if field == "owner":
        return {u.pk: u.display_name for u in User.objects.filter(pk__in=ids)}
    if field == "department":
        return dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
    if field == "pool":
        return dict(Pool.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {item.pk: str(item) for item in DictionaryItem.objects.filter(pk__in=ids)}


def customer_group_counts(
    customers: QuerySet[Customer], field: str, *, user=None, limit: int = GROUP_LIMIT
) -> GroupCounts:
    """How many of `customers` (the list's queryset: same scope, search and filters) fall on each
    value of `field`: one GROUP BY query, plus one for the labels of the first `limit` values.
    Raises BadFilterError for a field that is not on the allow-list or hidden from the user."""
    if field not in GROUP_FIELDS:
        raise BadFilterError(field)
    if user is not None and field in field_policy.hidden_fields(user, "customers"):
        raise BadFilterError(field)
    from django.db.models import Count

    column = f"{field}_id"
    # A list whose scope joins shares is DISTINCT: count customers, not their share rows.
    counter = Count("pk", distinct=True) if customers.query.distinct else Count("pk")
    grouped = customers.order_by().values_list(column).annotate(n=counter)
    if connection.vendor == "postgresql":
        # Cap the cost of a very large scope (全部 over a million rows): the database cancels the
        # query after GROUP_TIMEOUT_MS and the caller gets GroupTimeoutError.
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL statement_timeout = {int(GROUP_TIMEOUT_MS)}")
                rows = list(grouped)
        except OperationalError as exc:
            raise GroupTimeoutError from exc
    else:
        rows = list(grouped)
    rows.sort(key=lambda r: (-r[1], r[0] is None, r[0] or 0))
    top, rest = rows[:limit], rows[limit:]
    labels = _group_labels(field, [pk for pk, _n in top if pk is not None])
    groups = [GroupCount(pk, labels.get(pk, "") if pk is not None else "", n) for pk, n in top]
    other = sum(n for _pk, n in rest)
    return GroupCounts(field, groups, other, len(rest), sum(g.count for g in groups) + other)


def contacts_of(customer: Customer) -> list[Contact]:
    return list(customer.contacts.all())


# ---------------------------------------------------------------- pages: bulk scope, timeline, recycle bin


def customers_editable(user) -> QuerySet[Customer]:
    """Live customers the user may change, as one SQL condition (the set form of
    `can_edit_customer`): bulk actions filter posted ids through it in a single query."""
    customers = customers_visible(user, include_pool=True)
    allowed = Q(pk__in=[])
    if policy.can(user, "customers.edit"):
        scope = policy.visible_q(user, "owner")
        owned = Q(owner__isnull=False) if scope is None else (Q(owner__isnull=False) & scope)
        # Read-write team members and delegates may change the customer too (see can_edit_customer).
        writable = (
            CustomerAccess.objects.filter(user_id=user.pk, can_edit=True)
            .order_by()
            .values_list("customer_id", flat=True)
        )
        delegated = _delegated(user).order_by().values_list("customer_id", flat=True)
        allowed |= owned | Q(pk__in=list(writable.union(delegated)))
    if policy.can(user, "pool.edit"):
        allowed |= Q(owner__isnull=True)
    return customers.filter(allowed)


def customer_accesses(customer: Customer) -> list[CustomerAccess]:
    """Shares and team members of a customer, with their users, in one query."""
    return list(
        customer.accesses.select_related("user", "user__department", "granted_by").order_by("kind", "id")
    )


def customer_timeline(customer: Customer, contacts: list[Contact], limit: int = 50) -> list:
    """The operation log of the customer and its (current) contacts, newest first."""
    from django.contrib.contenttypes.models import ContentType

    from crm.audit.models import OperationLog

    customer_type = ContentType.objects.get_for_model(Customer)
    contact_type = ContentType.objects.get_for_model(Contact)
    about = Q(target_type=customer_type, target_id=str(customer.pk))
    if contacts:
        about |= Q(target_type=contact_type, target_id__in=[str(c.pk) for c in contacts])
    return list(
        OperationLog.objects.filter(about).select_related("actor").order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class FeedEntry:
    """One line of a customer's activity feed: a follow-up or an operation-log entry."""

    kind: str  # "followup" | "log"
    at: object  # datetime
    item: object


FEEDS = ("all", "followups", "log")


def customer_feed(followups: list, logs: list, feed: str = "all") -> list[FeedEntry]:
    """Follow-ups (with their comments) and log entries of a customer in one newest-first list,
    from the two bounded reads the detail page already makes (CUS-3); tasks and approvals join
    here when they exist."""
    entries = []
    if feed in ("all", "followups"):
        entries += [FeedEntry("followup", f.followed_at, f) for f in followups]
    if feed in ("all", "log"):
        entries += [FeedEntry("log", log.created_at, log) for log in logs]
    return sorted(entries, key=lambda e: e.at, reverse=True)


def customers_in_recycle_bin(user) -> QuerySet[Customer]:
    """Deleted customers: all of them for super admins and holders of customers.settings; those
    the user could see for holders of customers.delete; none otherwise."""
    deleted = Customer.objects.filter(deleted_at__isnull=False)
    if policy.is_super_admin(user) or policy.can(user, "customers.settings"):
        return deleted
    if not policy.can(user, "customers.delete"):
        return deleted.none()
    scope = policy.visible_q(user, "owner")
    owned = Q(owner__isnull=False) if scope is None else (scope | Q(pk__in=_granted_ids(user)))
    pooled = Q(owner__isnull=True, pool__in=pools_visible(user).values("pk"))
    return deleted.filter(owned | pooled)


# ---------------------------------------------------------------- API: contacts


def contacts_visible(user) -> QuerySet[Contact]:
    """Contacts of the live customers the user may see (pool customers included, like the
    customer detail page)."""
    return Contact.objects.filter(customer__in=customers_visible(user, include_pool=True).values("pk"))
