"""Points pages (CUS-10): the redeem / adjust form of the customer page's points card. Thin: the
rules are in crm.points.services; the card is re-read from the database after every post."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import client_ip
from crm.core.mixins import PermissionMixin
from crm.customers.selectors import customer_get_for_user
from crm.points import selectors, services


def card_context(user, customer, **extra) -> dict:
    return {
        "customer": customer,
        "points": {
            "balance": selectors.points_balance(customer),
            "entries": selectors.points_entries(customer, selectors.RECENT_LIMIT),
            "can_manage": policy.can(user, services.MANAGE_PERMISSION),
        },
        **extra,
    }


class PointsManageView(PermissionMixin, View):
    """POST action=redeem|adjust, points, note: answers the card (htmx) or goes back to the customer."""

    permission = services.MANAGE_PERMISSION

    def post(self, request, customer_id):
        customer = customer_get_for_user(user=request.user, customer_id=customer_id)
        action = request.POST.get("action", "")
        points = request.POST.get("points", "")
        note = request.POST.get("note", "")
        error = done = ""
        try:
            if action == "redeem":
                entry = services.points_redeem(
                    actor=request.user, customer=customer, points=points, note=note, ip=client_ip(request)
                )
                done = _("已兑换 %(points)s 积分。") % {"points": -entry.points}
            elif action == "adjust":
                entry = services.points_adjust(
                    actor=request.user, customer=customer, points=points, note=note, ip=client_ip(request)
                )
                done = _("积分已调整 %(points)s。") % {"points": f"{entry.points:+d}"}
            else:
                raise ValidationError(_("请选择兑换或手工调整。"))
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            error = " ".join(exc.messages)
        if request.headers.get("HX-Request"):
            context = card_context(request.user, customer, points_error=error, points_success=done)
            return render(request, "points/_points_card.html", context, status=200)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect("customers:detail", customer.pk)
