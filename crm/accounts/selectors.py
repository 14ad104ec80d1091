"""Reads of the organisation, always through the access policy."""

from django.db.models import Count, Prefetch, Q, QuerySet

from crm.access import policy
from crm.accounts.models import Department, Role, Team, User


def department_tree() -> list[Department]:
    """All departments in tree order (path order), each with its head-count, in one query."""
    return list(
        Department.objects.annotate(
            user_count=Count("users", filter=Q(users__is_active=True), distinct=True)
        ).order_by("path")
    )


def department_teams(department: Department) -> list[Team]:
    return list(
        department.teams.select_related("leader").prefetch_related(
            Prefetch("members", queryset=User.objects.only("id", "username", "name"))
        )
    )


def user_list(
    *,
    viewer,
    query: str = "",
    department_id: int | None = None,
    status: str = "active",
    include_subdepartments: bool = True,
) -> QuerySet[User]:
    users = (
        policy.visible_users(viewer)
        .select_related("department", "manager")
        .prefetch_related(Prefetch("roles", queryset=Role.objects.only("id", "name")))
    )
    if status == "active":
        users = users.filter(is_active=True)
    elif status == "disabled":
        users = users.filter(is_active=False)
    if department_id:
        department = Department.objects.filter(pk=department_id).first()
        if department is None:
            return users.none()
        users = (
            users.filter(department__path__startswith=department.path)
            if include_subdepartments
            else users.filter(department=department)
        )
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(name__icontains=query)
            | Q(email__icontains=query)
            | Q(phone__icontains=query)
        )
    return users.order_by("department__path", "id")


def user_get_for_viewer(*, viewer, user_id) -> User:
    return policy.get_visible_or_404(
        viewer,
        User.objects.select_related("department", "manager").prefetch_related("roles"),
        owner_field="pk",
        pk=user_id,
    )


def role_list() -> QuerySet[Role]:
    return Role.objects.annotate(user_count=Count("users", filter=Q(users__is_active=True))).order_by(
        "-is_super", "-is_builtin", "id"
    )


def users_for_picker(query: str, limit: int = 20, *, within: QuerySet[User] | None = None) -> list[User]:
    """Active colleagues whose username or name contains `query`, for the user pickers that load
    their options as the user types (transfer, share): only names and departments leave here.
    `within` narrows them (e.g. to the viewer's data scope)."""
    users = (within if within is not None else User.objects.all()).filter(is_active=True)
    users = users.select_related("department")
    query = query.strip()[:50]
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(name__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
    return list(users.order_by("department__path", "pk")[:limit])
