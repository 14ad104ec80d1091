"""Pages of the recycle rules (回收规则, POOL-4), under the pool settings; all need pool.settings."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from crm.core.mixins import PermissionMixin, ServiceFormView, client_ip
from crm.customers import recycle
from crm.customers.models import RecycleRule
from crm.customers.recycle_forms import RecycleRuleForm

PERMISSION = "pool.settings"


def rule_get(pk) -> RecycleRule:
    rules = recycle.rules_loaded(rule_ids=[pk])
    if not rules:
        raise Http404
    return rules[0]


def _settings_url() -> str:
    return reverse("pool:settings") + "#recycle-rules"


class RecycleRuleFormView(ServiceFormView):
    create_permission = edit_permission = PERMISSION
    template_name = "customers/pool/recycle_rule_form.html"
    object_name = "rule"

    def load(self, pk):
        return rule_get(pk)

    def get_form(self):
        return RecycleRuleForm(self.request.POST or None, rule=self.object)

    def extra_context(self, form) -> dict:
        level_names = {f"level_{lv.pk}" for lv in form.levels}
        return {
            "level_fields": [form[name] for name in form.fields if name in level_names],
            "limit": recycle.PREVIEW_LIMIT,
            **getattr(self, "extra", {}),
        }

    def save(self, form):
        return recycle.recycle_rule_save(
            actor=self.request.user, rule=self.object, ip=client_ip(self.request), **form.service_values()
        )

    def post(self, request):
        if "preview" not in request.POST:
            return super().post(request)
        # 预览: what the rule as filled in would recycle today, nothing saved.
        self.object = self.load(self.pk) if self.pk else None
        form = self.get_form()
        if form.is_valid():
            try:
                self.preview, self.condition = recycle.recycle_rule_preview_unsaved(
                    actor=request.user, rule=self.object, **form.service_values()
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return self.render(form)
        return self.render(form, status=400)

    def render(self, form, status=200):
        self.extra = {"preview": getattr(self, "preview", None), "condition": getattr(self, "condition", "")}
        return super().render(form, status)

    def success_message(self, saved):
        return _("回收规则“%(name)s”已保存。") % {"name": saved.name}

    def success_url(self, saved):
        return reverse("pool:recycle_preview", args=[saved.pk])


class RecycleRuleToggleView(PermissionMixin, View):
    permission = PERMISSION

    def post(self, request, pk):
        rule = rule_get(pk)
        active = not rule.is_active
        recycle.recycle_rule_set_active(
            actor=request.user, rule=rule, is_active=active, ip=client_ip(request)
        )
        if active:
            messages.success(request, _("回收规则“%(name)s”已启用。") % {"name": rule.name})
        else:
            messages.success(request, _("回收规则“%(name)s”已停用。") % {"name": rule.name})
        return redirect(_settings_url())


class RecycleRuleDeleteView(PermissionMixin, View):
    permission = PERMISSION

    def post(self, request, pk):
        rule = rule_get(pk)
        recycle.recycle_rule_delete(actor=request.user, rule=rule, ip=client_ip(request))
        messages.success(request, _("回收规则“%(name)s”已删除。") % {"name": rule.name})
        return redirect(_settings_url())


class RecycleRulePreviewView(PermissionMixin, View):
    """How many customers the rule would recycle now, and the first 50 of them with the reason."""

    permission = PERMISSION

    def get(self, request, pk):
        rule = rule_get(pk)
        preview = recycle.recycle_preview(rule)
        context = {
            "rule": rule,
            "preview": preview,
            "condition": recycle.condition_text(rule),
            "limit": recycle.PREVIEW_LIMIT,
        }
        return render(request, "customers/pool/recycle_preview.html", context)


class RecycleRunView(PermissionMixin, View):
    """立即执行: one rule (pk), or every active rule."""

    permission = PERMISSION

    def post(self, request, pk=None):
        rules = [rule_get(pk)] if pk is not None else None
        try:
            results = recycle.recycle_run(actor=request.user, rules=rules, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            count = sum(results.values())
            messages.success(
                request,
                ngettext("已回收 %(count)d 个客户。", "已回收 %(count)d 个客户。", count) % {"count": count},
            )
        if pk is not None:
            return redirect("pool:recycle_preview", pk=pk)
        return redirect(_settings_url())
