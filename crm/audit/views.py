from django.shortcuts import render
from django.views import View

from crm.accounts.models import User
from crm.audit.models import OperationLog
from crm.core.mixins import PermissionMixin
from crm.core.paging import keyset_page


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
        return render(request, "audit/list.html", {"page": page, "action": action, "actor": actor})
