"""Lead pages (LEAD-1): list with search, filters and bulk actions; form; detail with follow-ups and
conversion. Thin: reads through crm.leads.selectors, writes through crm.leads.services."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.audit.services import client_ip
from crm.core.mixins import PermissionMixin, ServiceFormView
from crm.core.money import to_fen
from crm.core.spreadsheets import xlsx_response
from crm.leads import selectors, services
from crm.leads.forms import LeadFilterForm, LeadFollowUpForm, LeadForm
from crm.leads.models import Lead
from crm.leads.services import Outcome

MAX_BULK = 500
MAX_OPPORTUNITY_AMOUNT = Decimal("999999999999.99")


def _ids(request) -> list[int]:
    return [int(v) for v in request.POST.getlist("ids") if v.isdigit()][:MAX_BULK]


class LeadListView(PermissionMixin, View):
    permission = "leads.view"

    def get(self, request):
        form = LeadFilterForm(request.GET or None, user=request.user)
        data = form.cleaned_data if form.is_valid() else {}
        filters = selectors.LeadFilters(
            q=data.get("q") or "",
            status=data.get("status") or "",
            source_id=data["source"].pk if data.get("source") else None,
            owner_id=data["owner"].pk if data.get("owner") else None,
            sort=data.get("sort") or "created",
        )
        page = selectors.lead_page(user=request.user, filters=filters, cursor=request.GET.get("cursor"))
        user = request.user
        return render(
            request,
            "leads/list.html",
            {
                "form": form,
                "page": page,
                "can_create": policy.can(user, "leads.create"),
                "can_transfer": policy.can(user, "leads.transfer"),
                "can_convert": policy.can(user, "leads.edit") and policy.can(user, "customers.create"),
                "can_edit": policy.can(user, "leads.edit"),
                "can_delete": policy.can(user, "leads.delete"),
                "can_export": policy.can(user, "leads.export"),
            },
        )


class LeadFormView(ServiceFormView):
    template_name = "leads/form.html"
    create_permission = "leads.create"
    edit_permission = "leads.edit"
    object_name = "lead"

    def load(self, pk):
        lead = selectors.lead_get_for_user(user=self.request.user, lead_id=pk)
        if lead.status == Lead.Status.CONVERTED:
            raise PermissionDenied
        return lead

    def get_form(self):
        data = self.request.POST if self.request.method == "POST" else None
        return LeadForm(data, lead=self.object)

    def save(self, form):
        ip = client_ip(self.request)
        if self.object is None:
            return services.lead_create(actor=self.request.user, values=form.cleaned_data, ip=ip)
        return services.lead_update(
            actor=self.request.user, lead=self.object, values=form.cleaned_data, ip=ip
        )

    def success_message(self, saved):
        return _("线索“%(name)s”已保存。") % {"name": saved.company}

    def success_url(self, saved):
        return reverse("leads:detail", args=[saved.pk])


def _detail_context(request, lead, **extra) -> dict:
    user = request.user
    return {
        "lead": lead,
        "followups": selectors.followups_for_lead(user, lead),
        "followup_form": extra.pop("followup_form", None) or LeadFollowUpForm(),
        "can_edit": policy.can(user, "leads.edit") and lead.status != Lead.Status.CONVERTED,
        "can_convert": policy.can(user, "leads.edit")
        and policy.can(user, "customers.create")
        and not lead.is_closed,
        "can_create_opportunity": policy.can(user, "opportunities.create"),
        "can_follow": policy.can(user, "activities.create") and lead.status != Lead.Status.CONVERTED,
        "can_delete": policy.can(user, "leads.delete"),
        "can_transfer": policy.can(user, "leads.transfer") and lead.status != Lead.Status.CONVERTED,
        **extra,
    }


class LeadDetailView(PermissionMixin, View):
    permission = "leads.view"

    def get(self, request, pk):
        lead = selectors.lead_get_for_user(user=request.user, lead_id=pk)
        return render(request, "leads/detail.html", _detail_context(request, lead))


def _opportunity_values(data) -> dict | None:
    """The optional opportunity of a conversion form ("create_opportunity" ticked), else None."""
    if data.get("create_opportunity") != "1":
        return None
    raw = (data.get("opportunity_amount") or "").strip().replace(",", "")
    try:
        amount = to_fen(raw, allow_negative=False) if raw else Decimal("0.00")
    except ValueError as exc:
        raise ValidationError(_("预计金额必须是不小于 0 的数字。")) from exc
    if amount > MAX_OPPORTUNITY_AMOUNT:
        raise ValidationError(_("预计金额过大。"))
    return {"name": (data.get("opportunity_name") or "").strip()[:200], "expected_amount": amount}


class LeadConvertView(PermissionMixin, View):
    """Convert one lead. A 重名提示 warning shows the similar customers (name and owner) and offers
    to save anyway or to link to one the user may see; 重名禁止录入 answers with its message."""

    permission = "leads.edit"

    def post(self, request, pk):
        lead = selectors.lead_get_for_user(user=request.user, lead_id=pk)
        link = request.POST.get("link_customer", "")
        try:
            result = services.lead_convert(
                actor=request.user,
                lead=lead,
                allow_duplicates=request.POST.get("allow_duplicates") == "1",
                link_customer_id=int(link) if link.isdigit() else None,
                opportunity=_opportunity_values(request.POST),
                ip=client_ip(request),
            )
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            result = services.ConversionResult(lead.pk, Outcome.REFUSED, " ".join(exc.messages))
        if result.ok:
            messages.success(request, result.message)
            return redirect("customers:detail", result.customer_id)
        context = _detail_context(request, lead, conversion=result)
        return render(request, "leads/detail.html", context, status=400)


class LeadFollowUpCreateView(PermissionMixin, View):
    permission = "activities.create"

    def post(self, request, pk):
        lead = selectors.lead_get_for_user(user=request.user, lead_id=pk)
        form = LeadFollowUpForm(request.POST)
        if form.is_valid():
            try:
                services.lead_followup_create(
                    actor=request.user,
                    lead=lead,
                    type=form.cleaned_data["type"],
                    content=form.cleaned_data["content"],
                    followed_at=form.cleaned_data["followed_at"],
                    next_contact_at=form.cleaned_data["next_contact_at"],
                    next_action=form.cleaned_data["next_action"],
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc)
            else:
                messages.success(request, _("跟进记录已保存。"))
                return redirect("leads:detail", lead.pk)
        context = _detail_context(request, lead, followup_form=form)
        return render(request, "leads/detail.html", context, status=400)


class LeadBulkView(PermissionMixin, View):
    """POST ids + action (transfer / convert / invalid / delete) from the list or the detail page."""

    ACTIONS = {
        "transfer": "leads.transfer",
        "export": "leads.export",
        "convert": "leads.edit",
        "invalid": "leads.edit",
        "delete": "leads.delete",
    }

    def post(self, request):
        action = request.POST.get("action", "")
        if action not in self.ACTIONS or not policy.can(request.user, self.ACTIONS[action]):
            raise PermissionDenied
        ids = _ids(request)
        back = request.POST.get("next") or reverse("leads:list")
        if not back.startswith("/"):
            back = reverse("leads:list")
        if not ids:
            messages.error(request, _("请先选择线索。"))
            return redirect(back)
        leads = selectors.leads_visible(request.user).filter(pk__in=ids)
        ip = client_ip(request)
        if action == "export":
            return _export(request, leads, ip)
        try:
            if action == "transfer":
                to_user = (
                    policy.visible_users(request.user)
                    .filter(pk=int(request.POST.get("to_user") or 0), is_active=True)
                    .first()
                )
                if to_user is None:
                    raise ValidationError(_("请选择接手的在职员工。"))
                count = services.leads_transfer(actor=request.user, leads=leads, to_user=to_user, ip=ip)
                messages.success(request, _("已转移 %(count)d 条线索。") % {"count": count})
            elif action == "invalid":
                count = services.leads_mark_invalid(actor=request.user, leads=leads, ip=ip)
                messages.success(request, _("已将 %(count)d 条线索标记为无效。") % {"count": count})
            elif action == "delete":
                count = services.leads_delete(actor=request.user, leads=leads, ip=ip)
                messages.success(request, _("已删除 %(count)d 条线索。") % {"count": count})
                if back != reverse("leads:list"):
                    back = reverse("leads:list")
            else:
                results = services.leads_convert(
                    actor=request.user,
                    leads=leads,
                    allow_duplicates=request.POST.get("allow_duplicates") == "1",
                    opportunity=_opportunity_values(request.POST),
                    ip=ip,
                )
                return render(request, "leads/convert_results.html", {"results": _labelled(results)})
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(back)


def _export(request, leads, ip):
    headers, rows = services.leads_export(actor=request.user, leads=leads, ip=ip)
    filename = _("线索导出-%(date)s.xlsx") % {"date": timezone.localdate().strftime("%Y%m%d")}
    return xlsx_response(filename, headers, rows, title=str(_("线索")))


def _labelled(results):
    leads = {lead.pk: lead for lead in Lead.objects.filter(pk__in=[r.lead_id for r in results])}
    return [(leads.get(r.lead_id), r) for r in results]
