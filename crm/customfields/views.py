"""Settings pages of custom fields (CUS-11): list, create, edit, enable/disable, reorder.

The URLs are included once per target with `{"target": …}` (crm/urls.py); the permission is the
target's settings permission (customers.settings for customers).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.access import policy
from crm.core.mixins import PermissionMixin, ServiceFormView, client_ip
from crm.customfields import selectors, services
from crm.customfields.forms import CustomFieldForm
from crm.customfields.models import CustomField
from crm.customfields.targets import target_info, target_model


class TargetMixin:
    """Resolves the target from the URL and requires its settings permission."""

    target = ""

    def dispatch(self, request, *args, target: str = "", **kwargs):
        info = target_info(target)
        if info is None:
            raise Http404
        self.target = target
        if request.user.is_authenticated and not policy.can(request.user, info.settings_permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def list_url(self) -> str:
        return reverse(f"{self.request.resolver_match.namespace}:list")


def _usage(target: str, fields: list[CustomField]) -> dict[str, int]:
    """How many records hold a value, per key, in one query."""
    if not fields:
        return {}
    model = target_model(target)
    counts = model.objects.aggregate(
        **{f"k{i}": Count("pk", filter=_has_key(f.key)) for i, f in enumerate(fields)}
    )
    return {f.key: counts[f"k{i}"] for i, f in enumerate(fields)}


def _has_key(key: str):
    from django.db.models import Q

    return Q(custom_data__has_key=key)


class CustomFieldListView(TargetMixin, PermissionMixin, View):
    def get(self, request):
        fields = list(selectors.fields_of(self.target))
        usage = _usage(self.target, fields)
        for field in fields:
            field.usage = usage.get(field.key, 0)
        context = {"fields": fields, "custom_fields_tab": True, "namespace": request.resolver_match.namespace}
        context.update(_tabs_context(self.target))
        return render(request, "customfields/list.html", context)


def _tabs_context(target: str) -> dict:
    if target == "customers":
        from crm.customers.models import DictionaryItem

        return {"kinds": DictionaryItem.Kind.choices, "kind": None}
    return {}


class CustomFieldFormView(TargetMixin, ServiceFormView):
    template_name = "customfields/form.html"
    object_name = "field"

    def load(self, pk):
        return get_object_or_404(CustomField, pk=pk, target=self.target)

    def get_form(self):
        return CustomFieldForm(self.request.POST or None, field=self.object)

    def extra_context(self, form):
        return {
            "list_url": self.list_url(),
            "has_values": bool(self.object and selectors.values_count(self.object)),
        }

    def save(self, form):
        values = form.definition_values()
        ip = client_ip(self.request)
        if self.object:
            values.pop("key", None)
            return services.customfield_update(
                actor=self.request.user, field=self.object, values=values, ip=ip
            )
        return services.customfield_create(actor=self.request.user, target=self.target, values=values, ip=ip)

    def success_message(self, saved):
        return _("自定义字段“%(label)s”已保存。") % {"label": saved.label}

    def success_url(self, saved):
        return self.list_url()


class CustomFieldActiveView(TargetMixin, PermissionMixin, View):
    def post(self, request, pk):
        field = get_object_or_404(CustomField, pk=pk, target=self.target)
        active = request.POST.get("active") == "1"
        services.customfield_set_active(actor=request.user, field=field, active=active, ip=client_ip(request))
        if active:
            messages.success(request, _("自定义字段“%(label)s”已启用。") % {"label": field.label})
        else:
            messages.success(
                request, _("自定义字段“%(label)s”已停用，已填写的值仍然保留。") % {"label": field.label}
            )
        return redirect(self.list_url())


class CustomFieldMoveView(TargetMixin, PermissionMixin, View):
    def post(self, request, pk):
        field = get_object_or_404(CustomField, pk=pk, target=self.target)
        direction = request.POST.get("direction", "")
        if direction not in ("up", "down"):
            messages.error(request, _("移动方向只能是上移或下移。"))
        else:
            services.customfield_move(
                actor=request.user, field=field, direction=direction, ip=client_ip(request)
            )
        return redirect(self.list_url())
