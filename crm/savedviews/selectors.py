"""Reads of saved views: a user sees their own views of a list and the shared ones, and only for
lists they may view."""

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from crm.access import policy
from crm.savedviews.models import SavedView
from crm.savedviews.registry import spec_of

MAX_VIEWS = 50  # per user and list


def views_visible(user, list_key: str) -> QuerySet[SavedView]:
    """The user's own views of the list, then the shared ones, each in their order."""
    spec = spec_of(list_key)
    if spec is None or not policy.can(user, spec.view_permission):
        return SavedView.objects.none()
    mine_first = Case(When(owner_id=user.pk, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        SavedView.objects.filter(Q(owner_id=user.pk) | Q(is_shared=True), list_key=list_key)
        .select_related("owner")
        .order_by(mine_first, "sort_order", "pk")
    )


def view_get_for_user(*, user, pk, list_key: str | None = None) -> SavedView:
    """A view the user may open, or 404 alike for missing and not visible."""
    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    view = SavedView.objects.select_related("owner").filter(pk=pk).first()
    if view is None or (list_key is not None and view.list_key != list_key):
        raise Http404
    if not views_visible(user, view.list_key).filter(pk=view.pk).exists():
        raise Http404
    return view


def default_view(user, list_key: str) -> SavedView | None:
    """The user's default view of the list, if any (one of their own views)."""
    spec = spec_of(list_key)
    if spec is None or not policy.can(user, spec.view_permission):
        return None
    return SavedView.objects.filter(owner_id=user.pk, list_key=list_key, is_default=True).first()


def can_manage(user, view: SavedView) -> bool:
    """Rename, change or delete: one's own personal views; shared views with the list's settings
    permission."""
    spec = spec_of(view.list_key)
    if spec is None or not policy.can(user, spec.view_permission):
        return False
    if view.is_shared:
        return policy.can(user, spec.settings_permission)
    return view.owner_id == user.pk


def can_share(user, list_key: str) -> bool:
    spec = spec_of(list_key)
    return spec is not None and policy.can(user, spec.settings_permission)


def list_url(view: SavedView) -> str:
    """The list page showing the view: its parameters plus `view=<id>` (marks it as open)."""
    from django.urls import reverse

    spec = spec_of(view.list_key)
    query = spec.params.params_to_query(view.params or {})
    return f"{reverse(spec.url_name)}?{query}&view={view.pk}"
