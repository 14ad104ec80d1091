"""Global search (top bar). Each module registers a provider; every provider reads through the
access policy, so a result the user may not see never appears."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.access import policy

RESULTS_PER_GROUP = 8


@dataclass(frozen=True)
class SearchHit:
    title: str
    subtitle: str
    url: str


@dataclass(frozen=True)
class SearchProvider:
    key: str
    label: Promise
    permission: str | None
    search: Callable[..., list[SearchHit]]


def _users(user, query: str) -> list[SearchHit]:
    found = (
        policy.visible_users(user)
        .filter(
            Q(username__icontains=query)
            | Q(name__icontains=query)
            | Q(email__icontains=query)
            | Q(phone__icontains=query)
        )
        .select_related("department")
        .order_by("-is_active", "id")[:RESULTS_PER_GROUP]
    )
    can_edit = policy.can(user, "users.edit")
    return [
        SearchHit(
            u.display_name,
            " · ".join(filter(None, [u.username, str(u.department or ""), u.position])),
            reverse("accounts:user_edit", args=[u.pk])
            if can_edit
            else f"{reverse('accounts:users')}?q={u.username}&status=all",
        )
        for u in found
    ]


def _departments(user, query: str) -> list[SearchHit]:
    found = (
        policy.visible_departments(user).filter(name__icontains=query).order_by("path")[:RESULTS_PER_GROUP]
    )
    return [SearchHit(d.name, "", f"{reverse('accounts:departments')}?department={d.pk}") for d in found]


def _customers(user, query: str) -> list[SearchHit]:
    from crm.customers.selectors import customer_list, customer_list_rows

    found = customer_list_rows(customer_list(user=user, query=query))[:RESULTS_PER_GROUP]
    # Field permissions (ORG-8): a field hidden from the user is not shown in a result either.
    fields = policy.field_access(user, "customers", "list")
    return [
        SearchHit(
            c.name,
            " · ".join(
                filter(
                    None,
                    [
                        fields.value(c, "code") or "",
                        c.owner.display_name if c.owner else "",
                        str(fields.value(c, "status") or ""),
                    ],
                )
            ),
            reverse("customers:detail", args=[c.pk]),
        )
        for c in found
    ]


PROVIDERS: list[SearchProvider] = [
    SearchProvider("customers", _("客户"), "customers.view", _customers),
    SearchProvider("users", _("员工"), "users.view", _users),
    SearchProvider("departments", _("部门"), "departments.view", _departments),
]


def search_everything(*, user, query: str) -> list[dict]:
    query = query.strip()[:100]
    if not query:
        return []
    groups = []
    for provider in PROVIDERS:
        if provider.permission and not policy.can(user, provider.permission):
            continue
        hits = provider.search(user, query)
        if hits:
            groups.append({"key": provider.key, "label": provider.label, "hits": hits})
    return groups
