"""Saved views (CUS-2): create, change, delete and set the default, with permission checks.

Anyone who may view a list keeps personal views of it; shared views (visible to everyone who may
view the list) are created, changed and deleted only with the list's settings permission. The
parameters are validated by the list's own `clean_params` (its filter, sort and column
allow-lists and the actor's field permissions) before they are stored. Logged with crm/audit.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from crm.access import policy
from crm.audit.services import diff, log_action
from crm.savedviews import selectors
from crm.savedviews.models import SavedView
from crm.savedviews.registry import ListSpec, spec_of

NAME_MAX = 40


def _spec(list_key: str) -> ListSpec:
    spec = spec_of(list_key)
    if spec is None:
        raise ValidationError({"list_key": [_("未知的列表“%(key)s”。") % {"key": str(list_key)[:32]}]})
    return spec


def _clean_name(name) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"name": [_("请填写视图名称。")]})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": [_("视图名称最多 %(max)d 个字。") % {"max": NAME_MAX}]})
    return name


def _check_unique_name(*, owner_id: int, list_key: str, name: str, exclude: int | None = None) -> None:
    taken = SavedView.objects.filter(owner_id=owner_id, list_key=list_key, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ValidationError({"name": [_("已有名为“%(name)s”的视图。") % {"name": name}]})


def _snapshot(view: SavedView) -> dict:
    return {
        "name": view.name,
        "is_shared": view.is_shared,
        "params": view.params,
        "is_default": view.is_default,
    }


def _save(view: SavedView, **kwargs) -> None:
    try:
        with transaction.atomic():
            view.save(**kwargs)
    except IntegrityError as exc:  # a concurrent save took the name, or made another default
        taken = SavedView.objects.filter(owner_id=view.owner_id, list_key=view.list_key, name=view.name)
        if view.pk is not None:
            taken = taken.exclude(pk=view.pk)
        if taken.exists():
            raise ValidationError({"name": [_("已有名为“%(name)s”的视图。") % {"name": view.name}]}) from exc
        raise ValidationError(_("视图刚被同时修改，请重试。")) from exc


def _clear_default(owner_id: int, list_key: str, keep: int | None = None) -> None:
    others = SavedView.objects.filter(owner_id=owner_id, list_key=list_key, is_default=True)
    if keep is not None:
        others = others.exclude(pk=keep)
    others.update(is_default=False)


@transaction.atomic
def saved_view_create(
    *, actor, list_key: str, name, params, is_shared: bool = False, is_default: bool = False, ip=None
) -> SavedView:
    spec = _spec(list_key)
    if not policy.can(actor, spec.view_permission):
        raise PermissionDenied
    if is_shared and not policy.can(actor, spec.settings_permission):
        raise PermissionDenied
    name = _clean_name(name)
    params = spec.params.clean_params(actor, params)
    # Lock the owner's row so that two saves at once cannot pass the limit together.
    get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
    mine = SavedView.objects.filter(owner_id=actor.pk, list_key=list_key)
    if mine.count() >= selectors.MAX_VIEWS:
        raise ValidationError(
            _("每人最多保存 %(max)d 个视图，请先删除不用的视图。") % {"max": selectors.MAX_VIEWS}
        )
    _check_unique_name(owner_id=actor.pk, list_key=list_key, name=name)
    if is_default:
        _clear_default(actor.pk, list_key)
    view = SavedView(
        list_key=list_key,
        owner=actor,
        name=name,
        is_shared=bool(is_shared),
        params=params,
        is_default=bool(is_default),
        sort_order=(mine.aggregate(m=Max("sort_order"))["m"] or 0) + 1,
    )
    _save(view)
    log_action(
        actor=actor,
        action="saved_view.created",
        target=view,
        changes={"list": list_key, "is_shared": view.is_shared, "params": params},
        ip_address=ip,
    )
    return view


@transaction.atomic
def saved_view_update(
    *, actor, view: SavedView, name=None, params=None, is_shared=None, sort_order=None, ip=None
) -> SavedView:
    """Rename, replace the parameters, share or unshare, move. Only what is passed changes."""
    spec = _spec(view.list_key)
    if not selectors.can_manage(actor, view):
        raise PermissionDenied
    if is_shared and not policy.can(actor, spec.settings_permission):
        raise PermissionDenied
    before = _snapshot(view)
    if name is not None:
        view.name = _clean_name(name)
        _check_unique_name(owner_id=view.owner_id, list_key=view.list_key, name=view.name, exclude=view.pk)
    if params is not None:
        view.params = spec.params.clean_params(actor, params)
    if is_shared is not None:
        view.is_shared = bool(is_shared)
    if sort_order is not None:
        if not isinstance(sort_order, int) or not 0 <= sort_order <= 100000:
            raise ValidationError({"sort_order": [_("排序应为 0 到 100000 之间的整数。")]})
        view.sort_order = sort_order
    changes = diff(before, _snapshot(view))
    if changes:
        _save(view)
        log_action(actor=actor, action="saved_view.updated", target=view, changes=changes, ip_address=ip)
    return view


@transaction.atomic
def saved_view_delete(*, actor, view: SavedView, ip=None) -> None:
    if not selectors.can_manage(actor, view):
        raise PermissionDenied
    log_action(
        actor=actor,
        action="saved_view.deleted",
        target=view,
        changes={"list": view.list_key, "is_shared": view.is_shared, "params": view.params},
        ip_address=ip,
    )
    view.delete()


@transaction.atomic
def saved_view_set_default(*, actor, view: SavedView, default: bool = True, ip=None) -> SavedView:
    """Make one of the actor's own views the one the list opens with (or stop it being so)."""
    spec = _spec(view.list_key)
    if not policy.can(actor, spec.view_permission) or view.owner_id != actor.pk:
        raise PermissionDenied
    if view.is_default == bool(default):
        return view
    if default:
        _clear_default(actor.pk, view.list_key, keep=view.pk)
    view.is_default = bool(default)
    _save(view, update_fields=["is_default", "updated_at"])
    log_action(
        actor=actor,
        action="saved_view.default_set" if default else "saved_view.default_cleared",
        target=view,
        ip_address=ip,
    )
    return view
