"""Webhook pages (settings.settings): endpoints, their secret and delivery log, replay, test event,
and the allow-list of internal hosts. Thin: reads through selectors, writes through services."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.audit.services import client_ip
from crm.core.mixins import PermissionMixin
from crm.webhooks import selectors, services
from crm.webhooks.events import event_groups, event_label
from crm.webhooks.forms import AllowedHostForm, EndpointForm
from crm.webhooks.models import WebhookDelivery

PERMISSION = "settings.settings"


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class EndpointListView(PermissionMixin, View):
    permission = PERMISSION

    def get(self, request):
        endpoints = list(selectors.endpoints_with_last_delivery())
        labels = dict(WebhookDelivery.Status.choices)
        for endpoint in endpoints:
            endpoint.event_labels = [event_label(e) for e in endpoint.events]
            endpoint.last_status_label = labels.get(endpoint.last_status, "")
        return render(request, "webhooks/list.html", {"endpoints": endpoints})


class EndpointFormView(PermissionMixin, View):
    """新建 (no pk) or 编辑 (pk) an endpoint."""

    permission = PERMISSION

    def dispatch(self, request, *args, pk=None, **kwargs):
        self.pk = pk
        return super().dispatch(request, *args, **kwargs)

    def _endpoint(self):
        return selectors.endpoint_get(endpoint_id=self.pk) if self.pk else None

    def get(self, request):
        endpoint = self._endpoint()
        initial = (
            {
                "name": endpoint.name,
                "url": endpoint.url,
                "events": endpoint.events,
                "is_active": endpoint.is_active,
            }
            if endpoint
            else {"is_active": True}
        )
        return self.render(EndpointForm(initial=initial), endpoint)

    def post(self, request):
        endpoint = self._endpoint()
        form = EndpointForm(request.POST)
        if form.is_valid():
            values = {
                "name": form.cleaned_data["name"],
                "url": form.cleaned_data["url"],
                "events": form.cleaned_data["events"],
                "is_active": form.cleaned_data["is_active"],
            }
            try:
                if endpoint:
                    saved = services.endpoint_update(
                        actor=request.user, endpoint=endpoint, values=values, ip=client_ip(request)
                    )
                    messages.success(request, _("已保存 Webhook“%(name)s”。") % {"name": saved.name})
                else:
                    saved = services.endpoint_create(actor=request.user, values=values, ip=client_ip(request))
                    messages.success(
                        request,
                        _("已创建 Webhook“%(name)s”，请把签名密钥配置到接收方。") % {"name": saved.name},
                    )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return redirect("webhooks:detail", saved.pk)
        return self.render(form, endpoint, status=400)

    def render(self, form, endpoint, status=200):
        selected = form.selected_events()
        groups = event_groups()
        for group in groups:
            for event in group["events"]:
                event["checked"] = event["code"] in selected
        return render(
            self.request,
            "webhooks/form.html",
            {"form": form, "endpoint": endpoint, "groups": groups},
            status=status,
        )


class EndpointDetailView(PermissionMixin, View):
    permission = PERMISSION

    def get(self, request, pk):
        endpoint = selectors.endpoint_get(endpoint_id=pk)
        status = request.GET.get("status", "")
        if status not in WebhookDelivery.Status.values:
            status = ""
        page = selectors.delivery_page(endpoint=endpoint, status=status, before=request.GET.get("before"))
        for delivery in page.items:
            delivery.event_label = event_label(delivery.event)
        return render(
            request,
            "webhooks/detail.html",
            {
                "endpoint": endpoint,
                "event_labels": [event_label(e) for e in endpoint.events],
                "page": page,
                "status": status,
                "statuses": WebhookDelivery.Status.choices,
            },
        )


class EndpointActionView(PermissionMixin, View):
    """POST action=regenerate | test | delete."""

    permission = PERMISSION

    def post(self, request, pk):
        endpoint = selectors.endpoint_get(endpoint_id=pk)
        action = request.POST.get("action", "")
        ip = client_ip(request)
        if action == "regenerate":
            services.endpoint_regenerate_secret(actor=request.user, endpoint=endpoint, ip=ip)
            messages.success(request, _("已生成新的签名密钥，旧密钥立即失效；请同步更新接收方。"))
        elif action == "test":
            delivery = services.endpoint_send_test(actor=request.user, endpoint=endpoint, ip=ip)
            messages.success(request, _("已发送测试事件。"))
            return redirect("webhooks:delivery", delivery.pk)
        elif action == "delete":
            name = endpoint.name
            services.endpoint_delete(actor=request.user, endpoint=endpoint, ip=ip)
            messages.success(request, _("已删除 Webhook“%(name)s”及其投递记录。") % {"name": name})
            return redirect("webhooks:list")
        else:
            messages.error(request, _("未知操作。"))
        return redirect("webhooks:detail", endpoint.pk)


class DeliveryDetailView(PermissionMixin, View):
    permission = PERMISSION

    def get(self, request, pk):
        delivery = selectors.delivery_get(delivery_id=pk)
        return render(
            request,
            "webhooks/delivery.html",
            {
                "delivery": delivery,
                "endpoint": delivery.endpoint,
                "event_label": event_label(delivery.event),
                "body": services.body_of(delivery.payload).decode(),
                "pretty": _pretty(delivery.payload),
            },
        )


def _pretty(payload) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True)


class DeliveryReplayView(PermissionMixin, View):
    permission = PERMISSION

    def post(self, request, pk):
        delivery = selectors.delivery_get(delivery_id=pk)
        replay = services.delivery_replay(actor=request.user, delivery=delivery, ip=client_ip(request))
        messages.success(request, _("已重新发送该事件。"))
        return redirect("webhooks:delivery", replay.pk)


class AllowedHostListView(PermissionMixin, View):
    permission = PERMISSION

    def get(self, request):
        return self.render(AllowedHostForm())

    def post(self, request):
        form = AllowedHostForm(request.POST)
        if form.is_valid():
            try:
                entry = services.allowed_host_create(
                    actor=request.user,
                    host=form.cleaned_data["host"],
                    note=form.cleaned_data["note"],
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("已允许“%(host)s”。") % {"host": entry.host})
                return redirect("webhooks:allowed_hosts")
        return self.render(form, status=400)

    def render(self, form, status=200):
        from crm.webhooks.models import WebhookAllowedHost

        entries = WebhookAllowedHost.objects.select_related("created_by")
        return render(
            self.request, "webhooks/allowed_hosts.html", {"form": form, "entries": entries}, status=status
        )


class AllowedHostDeleteView(PermissionMixin, View):
    permission = PERMISSION

    def post(self, request, pk):
        entry = selectors.allowed_host_get(entry_id=pk)
        host = entry.host
        services.allowed_host_delete(actor=request.user, entry=entry, ip=client_ip(request))
        messages.success(request, _("已移除“%(host)s”。") % {"host": host})
        return redirect(reverse("webhooks:allowed_hosts"))
