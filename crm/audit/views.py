from django.contrib.contenttypes.models import ContentType
from django.shortcuts import render
from django.views import View

from crm.access import field_policy
from crm.access.fields import module_of_model
from crm.accounts.models import User
from crm.audit.models import OperationLog
from crm.core.mixins import PermissionMixin
from crm.core.paging import keyset_page

_AS_LISTS = {"customers": field_policy.LIST, "contacts": field_policy.LIST}


def _module_of_target(log) -> str | None:
    if log.target_type_id is None:
        return None
    return module_of_model(ContentType.objects.get_for_id(log.target_type_id).model_class())


class OperationLogListView(PermissionMixin, View):
    permission = "auditlog.view"
    page_size = 50

    def get(self, request):
        logs = OperationLog.objects.select_related("actor")
        action = request.GET.get("action", "").strip()[:64]
        actor = request.GET.get("actor", "").strip()[:150]
        if action:
            logs = logs.filter(action__startswith=action)
        if actor:
            # Resolve the name first so the log query is a plain (actor_id, created_at) index walk.
            actor_ids = list(User.objects.filter(username__iexact=actor).values_list("pk", flat=True)[:1])
            logs = logs.filter(actor_id__in=actor_ids)
        page = keyset_page(logs, request.GET.get("cursor"), self.page_size)
        # Field permissions (ORG-8): hidden values left out, masked ones masked, as in lists.
        field_policy.redact_timeline(request.user, page.items, _module_of_target, _AS_LISTS)
        return render(request, "audit/list.html", {"page": page, "action": action, "actor": actor})
