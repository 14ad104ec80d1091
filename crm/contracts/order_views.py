"""Order flow pages (CTR-3): one POST per step from the contract page's order section. Thin: the
rules are in crm.contracts.orders; with htmx the section is answered re-read from the database
(a refused step shows its message in place), otherwise the browser goes back to the contract."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.access.policy import PermissionRequiredError
from crm.audit.services import client_ip
from crm.contracts import orders
from crm.contracts.selectors import contract_get_for_user
from crm.core.mixins import PermissionMixin

DONE_MESSAGES = {
    "paid": gettext_lazy("订单“%(code)s”已标记为已付款。"),
    "ship": gettext_lazy("订单“%(code)s”已发货，库存已扣减。"),
    "complete": gettext_lazy("订单“%(code)s”已完成。"),
}


class OrderStepView(PermissionMixin, View):
    """POST /contracts/<pk>/order/<step>/ (step = paid / ship / complete; allow_negative=1 to ship
    below zero stock, products.settings only)."""

    permission = orders.EDIT_PERMISSION

    def post(self, request, pk, step):
        if step not in orders.ACTIONS:
            raise Http404
        contract = contract_get_for_user(user=request.user, contract_id=pk)
        error = done = ""
        kwargs = {"actor": request.user, "contract": contract, "ip": client_ip(request)}
        if step == "ship":
            kwargs["allow_negative"] = request.POST.get("allow_negative") in ("1", "on", "true")
        try:
            orders.ACTIONS[step](**kwargs)
            done = DONE_MESSAGES[step] % {"code": contract.code}
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            error = " ".join(exc.messages)
        if request.headers.get("HX-Request"):
            contract = contract_get_for_user(user=request.user, contract_id=pk)
            context = {"contract": contract, "order_error": error, "order_success": done}
            return render(request, "contracts/_order_section.html", context, status=200)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done or _("操作已完成。"))
        return redirect("contracts:detail", contract.pk)
