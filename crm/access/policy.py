"""Data scopes and operation permissions, answered once per request and in SQL.

`visible(user, qs)` narrows a queryset of owned records to those whose owner lies in the user's
data scope: one sub-select, never a per-row check. `can(user, "module.action")` answers operation
permissions. Results are cached on the user object for the length of a request.
"""

from dataclasses import dataclass

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from crm.access.registry import ALL_PERMISSIONS

_CACHE_ATTR = "_crm_access_cache"


@dataclass(frozen=True)
class Access:
    is_super: bool
    permissions: frozenset[str]
    scopes: frozenset[str]
    custom_department_ids: frozenset[int]
    # Each role's field permissions (ORG-8), read by crm.access.field_policy.
    field_permissions: tuple = ()


class PermissionRequiredError(Exception):
    """Raised by services when the actor lacks an operation permission."""


def _load(user) -> Access:
    from crm.accounts.models import Role

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Access(False, frozenset(), frozenset(), frozenset())
    roles = list(Role.objects.filter(users=user).prefetch_related("custom_departments"))
    if any(role.is_super for role in roles):
        return Access(True, ALL_PERMISSIONS, frozenset({Role.DataScope.ALL}), frozenset())
    permissions: set[str] = set()
    scopes: set[str] = {Role.DataScope.SELF}
    custom: set[int] = set()
    for role in roles:
        permissions.update(
            code for code in role.permissions if isinstance(code, str) and code in ALL_PERMISSIONS
        )
        scopes.add(role.data_scope)
        if role.data_scope == Role.DataScope.CUSTOM:
            custom.update(dept.pk for dept in role.custom_departments.all())
    field_permissions = tuple(
        role.field_permissions if isinstance(role.field_permissions, dict) else {} for role in roles
    )
    return Access(False, frozenset(permissions), frozenset(scopes), frozenset(custom), field_permissions)


def access_of(user) -> Access:
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = _load(user)
        if getattr(user, "pk", None) is not None:
            setattr(user, _CACHE_ATTR, cached)
    return cached


def forget(user) -> None:
    """Drop the cached answer (after the user's roles changed)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def is_super_admin(user) -> bool:
    return access_of(user).is_super


def permissions_of(user) -> frozenset[str]:
    return access_of(user).permissions


def can(user, permission: str, obj: Model | None = None, owner_field: str = "owner") -> bool:
    """May `user` do `permission` ("module.action"), on `obj` if given (which must be in scope)."""
    access = access_of(user)
    if permission not in access.permissions:
        return False
    if obj is None or access.is_super:
        return True
    return visible(user, type(obj)._default_manager.filter(pk=obj.pk), owner_field).exists()


def subordinate_ids(user) -> set[int]:
    """Everyone below `user` in the manager chain, at any depth (one query per level)."""
    from crm.accounts.models import User

    found: set[int] = set()
    frontier = {user.pk}
    while frontier:
        level = set(User.objects.filter(manager_id__in=frontier).values_list("pk", flat=True)) - found
        level.discard(user.pk)
        found |= level
        frontier = level
    return found


def visible_users_q(user) -> Q | None:
    """A Q over users whose owned records `user` sees; None means everyone."""
    from crm.accounts.models import Role

    access = access_of(user)
    if Role.DataScope.ALL in access.scopes:
        return None
    q = Q(pk=user.pk)
    for scope in access.scopes:
        if scope == Role.DataScope.SELF_AND_SUBORDINATES:
            q |= Q(pk__in=subordinate_ids(user))
        elif scope == Role.DataScope.DEPARTMENT and user.department_id:
            q |= Q(department_id=user.department_id)
        elif scope == Role.DataScope.DEPARTMENT_TREE and user.department_id and user.department.path:
            q |= Q(department__path__startswith=user.department.path)
        elif scope == Role.DataScope.CUSTOM and access.custom_department_ids:
            q |= Q(department_id__in=access.custom_department_ids)
    return q


def visible_users(user) -> QuerySet:
    from crm.accounts.models import User

    q = visible_users_q(user)
    return User.objects.all() if q is None else User.objects.filter(q)


def visible_q(user, owner_field: str = "owner") -> Q | None:
    """The data-scope condition as a Q on `owner_field` (None: no restriction), for callers that
    combine it with other grants such as sharing: `qs.filter(visible_q(...) | Q(shared...))`."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    q = visible_users_q(user)
    if q is None:
        return None
    from crm.accounts.models import User

    return Q(**{f"{owner_field}__in": User.objects.filter(q).values("pk")})


def visible(user, queryset: QuerySet, owner_field: str = "owner") -> QuerySet:
    """Narrow `queryset` to the records whose `owner_field` is in the user's data scope."""
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    q = visible_users_q(user)
    if q is None:
        return queryset
    from crm.accounts.models import User

    return queryset.filter(**{f"{owner_field}__in": User.objects.filter(q).values("pk")})


def visible_departments(user) -> QuerySet:
    """Departments whose people the user's scope reaches (all of them for 全部)."""
    from crm.accounts.models import Department, Role

    if not getattr(user, "is_authenticated", False):
        return Department.objects.none()
    access = access_of(user)
    if Role.DataScope.ALL in access.scopes:
        return Department.objects.all()
    q = Q(pk__in=[])
    if user.department_id:
        q |= Q(pk=user.department_id)
    if Role.DataScope.DEPARTMENT_TREE in access.scopes and user.department_id:
        q |= Q(path__startswith=user.department.path)
    if Role.DataScope.CUSTOM in access.scopes:
        q |= Q(pk__in=access.custom_department_ids)
    if Role.DataScope.SELF_AND_SUBORDINATES in access.scopes:
        q |= Q(users__pk__in=subordinate_ids(user))
    return Department.objects.filter(q).distinct()


def get_visible_or_404(user, queryset: QuerySet, owner_field: str | None = "owner", **lookup):
    """The record, or 404 alike for "missing" and "not yours to see"."""
    if owner_field is not None:
        queryset = visible(user, queryset, owner_field)
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# Field permissions (ORG-8) are answered by their own module, with the same cached roles.
from crm.access.field_policy import (  # noqa: E402,F401
    editable_fields,
    export_rows,
    field_access,
    field_rules,
    hidden_fields,
    mask_value,
    masked,
    visible_fields,
)
