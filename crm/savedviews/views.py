"""Saved-view pages: the forms of the list's views menu post here and go back to the list."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from crm.core.mixins import PermissionMixin, client_ip
from crm.savedviews import selectors, services
from crm.savedviews.registry import spec_of


def _back(request, default: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


def _errors(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


class SavedViewCreateView(PermissionMixin, View):
    """Save the list's current state (`query`: its query string) under a name."""

    def post(self, request):
        list_key = request.POST.get("list", "")
        spec = spec_of(list_key)
        if spec is None:
            raise Http404
        params = spec.params.params_from_query(request.POST.get("query", "")[:4000])
        try:
            view = services.saved_view_create(
                actor=request.user,
                list_key=list_key,
                name=request.POST.get("name", ""),
                params=params,
                is_shared=request.POST.get("is_shared") == "1",
                is_default=request.POST.get("is_default") == "1",
                ip=client_ip(request),
            )
        except ValidationError as exc:
            _errors(request, exc)
            return _back(request, reverse(spec.url_name))
        messages.success(request, _("已保存视图“%(name)s”。") % {"name": view.name})
        return redirect(selectors.list_url(view))


class SavedViewActionView(PermissionMixin, View):
    """rename (name), replace (query: the list's current state), delete, default, undefault."""

    actions = ("rename", "replace", "delete", "default", "undefault")

    def post(self, request, pk, action):
        if action not in self.actions:
            raise Http404
        view = selectors.view_get_for_user(user=request.user, pk=pk)
        spec = spec_of(view.list_key)
        ip = client_ip(request)
        try:
            if action == "rename":
                services.saved_view_update(
                    actor=request.user, view=view, name=request.POST.get("name", ""), ip=ip
                )
                done = _("已重命名为“%(name)s”。") % {"name": view.name}
            elif action == "replace":
                params = spec.params.params_from_query(request.POST.get("query", "")[:4000])
                services.saved_view_update(actor=request.user, view=view, params=params, ip=ip)
                messages.success(request, _("已用当前条件更新视图“%(name)s”。") % {"name": view.name})
                return redirect(selectors.list_url(view))
            elif action == "delete":
                services.saved_view_delete(actor=request.user, view=view, ip=ip)
                messages.success(request, _("已删除视图“%(name)s”。") % {"name": view.name})
                return redirect(f"{reverse(spec.url_name)}?scope=all")
            else:
                services.saved_view_set_default(
                    actor=request.user, view=view, default=action == "default", ip=ip
                )
                done = (
                    _("“%(name)s”已设为默认视图。")
                    if action == "default"
                    else _("“%(name)s”不再是默认视图。")
                ) % {"name": view.name}
        except ValidationError as exc:
            _errors(request, exc)
            return _back(request, reverse(spec.url_name))
        messages.success(request, done)
        return _back(request, selectors.list_url(view))
