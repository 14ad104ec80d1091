"""Opportunity pages (OPP-1): kanban board per stage group (htmx stage moves), list, form, detail with
lines, contacts, follow-ups, win/lose/reopen and transfer; stage group settings. Thin: reads through
crm.opportunities.selectors, writes through crm.opportunities.services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.access import policy
from crm.access.policy import PermissionRequiredError
from crm.activities.forms import LinkedFollowUpForm
from crm.audit.services import client_ip
from crm.core.mixins import PermissionMixin, ServiceFormView
from crm.opportunities import selectors, services
from crm.opportunities.forms import (
    LineFormSet,
    LoseForm,
    OpportunityFilterForm,
    OpportunityForm,
)
from crm.opportunities.models import Opportunity, Stage, StageGroup

MAX_BULK = 500


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _filters(request) -> tuple[OpportunityFilterForm, selectors.OpportunityFilters]:
    form = OpportunityFilterForm(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.OpportunityFilters(
        q=data.get("q") or "",
        status=data.get("status") or "",
        stage_id=data["stage"].pk if data.get("stage") else None,
        owner_id=data["owner"].pk if data.get("owner") else None,
        customer_id=data.get("customer") or None,
        sort=data.get("sort") or "created",
    )
    return form, filters


class OpportunityListView(PermissionMixin, View):
    permission = "opportunities.view"

    def get(self, request):
        form, filters = _filters(request)
        page = selectors.opportunity_page(
            user=request.user, filters=filters, cursor=request.GET.get("cursor")
        )
        user = request.user
        return render(
            request,
            "opportunities/list.html",
            {
                "form": form,
                "page": page,
                "can_create": policy.can(user, "opportunities.create"),
                "can_transfer": policy.can(user, "opportunities.transfer"),
            },
        )


CARD_URLS = ("detail", "stage", "win", "lose")
_PK_MARK = "987654321"


def _with_card_urls(board: selectors.Kanban) -> selectors.Kanban:
    """Give every card its URLs (card.urls.detail / stage / win / lose) by string concatenation around
    one reverse() per URL name: four {% url %} tags per card (up to 480 per board) were most of the
    board's template time."""
    parts = {name: reverse(f"opportunities:{name}", args=[_PK_MARK]).split(_PK_MARK, 1) for name in CARD_URLS}
    for column in board.columns:
        for card in column.cards:
            pk = str(card.pk)
            card.urls = {name: f"{before}{pk}{after}" for name, (before, after) in parts.items()}
    return board


def _board_context(request, group: StageGroup, groups=None, **extra) -> dict:
    user = request.user
    return {
        "board": _with_card_urls(selectors.kanban(user=user, group=group)),
        "groups": selectors.stage_groups_active() if groups is None else groups,
        "can_edit": policy.can(user, "opportunities.edit"),
        "can_create": policy.can(user, "opportunities.create"),
        "lose_form": LoseForm(),
        **extra,
    }


class KanbanView(PermissionMixin, View):
    """GET the board of a stage group; with HX-Request only the board fragment."""

    permission = "opportunities.view"

    def get(self, request):
        groups = list(selectors.stage_groups_active())  # one query for the check, the choice and the select
        if not groups:
            return render(request, "opportunities/kanban.html", {"board": None, "can_create": False})
        raw = request.GET.get("group") or ""
        group = next((g for g in groups if g.pk == int(raw)), None) if raw.isdigit() else groups[0]
        if group is None:
            raise Http404
        context = _board_context(request, group, groups)
        template = (
            "opportunities/_board.html" if request.headers.get("HX-Request") else "opportunities/kanban.html"
        )
        return render(request, template, context)


class _OpportunityAction(PermissionMixin, View):
    """POST on one opportunity from the board (htmx: answers the board re-read from the database, so a
    refused move puts the card back, with the message) or from the detail page (redirects back)."""

    permission = "opportunities.edit"

    def act(self, request, opp):
        raise NotImplementedError

    def post(self, request, pk):
        opp = selectors.opportunity_get_for_user(user=request.user, opportunity_id=pk)
        error = ""
        try:
            done = self.act(request, opp)
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            error = _message(exc)
            done = ""
        if request.headers.get("HX-Request"):
            context = _board_context(request, opp.stage_group, board_error=error, board_success=done)
            return render(request, "opportunities/_board.html", context, status=200)
        if error:
            messages.error(request, error)
        elif done:
            messages.success(request, done)
        return redirect("opportunities:detail", opp.pk)


class StageMoveView(_OpportunityAction):
    def act(self, request, opp):
        raw = request.POST.get("stage", "")
        stage = Stage.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if stage is None:
            raise ValidationError(_("请选择阶段。"))
        services.opportunity_change_stage(
            actor=request.user, opportunity=opp, stage=stage, ip=client_ip(request)
        )
        return _("商机“%(name)s”已移到“%(stage)s”。") % {"name": opp.name, "stage": stage.name}


class WinView(_OpportunityAction):
    def act(self, request, opp):
        services.opportunity_win(actor=request.user, opportunity=opp, ip=client_ip(request))
        return _("商机“%(name)s”已赢单。") % {"name": opp.name}


class LoseView(_OpportunityAction):
    def act(self, request, opp):
        form = LoseForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_message(ValidationError(list(form.errors.values()))))
        services.opportunity_lose(
            actor=request.user,
            opportunity=opp,
            reason=form.cleaned_data["lost_reason"],
            note=form.cleaned_data["lost_note"],
            ip=client_ip(request),
        )
        return _("商机“%(name)s”已输单。") % {"name": opp.name}


class ReopenView(_OpportunityAction):
    def act(self, request, opp):
        services.opportunity_reopen(actor=request.user, opportunity=opp, ip=client_ip(request))
        return _("商机“%(name)s”已重新打开。") % {"name": opp.name}


def _lines(formset) -> list[services.LineInput]:
    return [
        services.LineInput(
            product=row["product"],
            quantity=row.get("quantity") or 1,
            unit_price=row.get("unit_price"),
            discount_percent=row.get("discount_percent") or 0,
        )
        for row in formset.cleaned_data
        if row.get("product")
    ]


class OpportunityFormView(ServiceFormView):
    template_name = "opportunities/form.html"
    create_permission = "opportunities.create"
    edit_permission = "opportunities.edit"
    object_name = "opportunity"

    def load(self, pk):
        return selectors.opportunity_get_for_user(user=self.request.user, opportunity_id=pk)

    def get_form(self):
        data = self.request.POST if self.request.method == "POST" else None
        customer = self.request.GET.get("customer", "")
        self.formset = self._formset(data)
        return OpportunityForm(
            data,
            user=self.request.user,
            opportunity=self.object,
            customer_id=int(customer) if customer.isdigit() else None,
        )

    def _formset(self, data):
        initial = None
        if self.object is not None and data is None:
            initial = [
                {
                    "product": line.product_id,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "discount_percent": line.discount_percent,
                }
                for line in self.object.lines.all()
            ]
        return LineFormSet(data, initial=initial, prefix="lines")

    def post(self, request):
        self.object = self.load(self.pk) if self.pk else None
        form = self.get_form()
        if form.is_valid() and self.formset.is_valid():
            try:
                saved = self.save(form)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, self.success_message(saved))
                return redirect(self.success_url(saved))
        elif not self.formset.is_valid():
            form.add_error(None, _("产品明细有误，请检查数量、单价和折扣。"))
        return self.render(form, status=400)

    def extra_context(self, form) -> dict:
        return {"formset": self.formset}

    def save(self, form):
        data = dict(form.cleaned_data)
        contacts = list(data.pop("contacts", []))
        stage = data.pop("stage", None)
        lines = _lines(self.formset)
        ip = client_ip(self.request)
        if self.object is None:
            return services.opportunity_create(
                actor=self.request.user, values=data, contacts=contacts, lines=lines, stage=stage, ip=ip
            )
        return services.opportunity_update(
            actor=self.request.user,
            opportunity=self.object,
            values=data,
            contacts=contacts,
            lines=lines,
            ip=ip,
        )

    def success_message(self, saved):
        return _("商机“%(name)s”已保存。") % {"name": saved.name}

    def success_url(self, saved):
        return reverse("opportunities:detail", args=[saved.pk])


QUOTES_ON_DETAIL = 20


def _quotes_of(user, opp) -> list:
    """The opportunity's quotes the user may see, newest first (one query)."""
    from crm.quotes.selectors import quotes_visible

    rows = quotes_visible(user).filter(opportunity=opp).select_related("owner")
    return list(rows.order_by("-created_at", "-pk")[:QUOTES_ON_DETAIL])


def _detail_context(request, opp, **extra) -> dict:
    user = request.user
    is_open = opp.status == Opportunity.Status.OPEN
    can_edit = policy.can(user, "opportunities.edit")
    return {
        "opportunity": opp,
        "lines": list(opp.lines.select_related("product")),
        "contacts": list(opp.contacts.all()),
        "stages": list(opp.stage_group.stages.order_by("order", "pk")),
        "followups": selectors.followups_for_opportunity(user, opp),
        "followup_form": extra.pop("followup_form", None) or LinkedFollowUpForm(customer=opp.customer),
        "lose_form": LoseForm(),
        "can_edit": can_edit,
        "can_move": can_edit and is_open,
        "can_reopen": can_edit and not is_open,
        "can_follow": policy.can(user, "activities.create"),
        "can_delete": policy.can(user, "opportunities.delete"),
        "can_transfer": policy.can(user, "opportunities.transfer"),
        "quotes": _quotes_of(user, opp),
        "can_quote": policy.can(user, "quotes.create"),
        **extra,
    }


class OpportunityDetailView(PermissionMixin, View):
    permission = "opportunities.view"

    def get(self, request, pk):
        opp = selectors.opportunity_get_for_user(user=request.user, opportunity_id=pk)
        return render(request, "opportunities/detail.html", _detail_context(request, opp))


class OpportunityFollowUpCreateView(PermissionMixin, View):
    permission = "activities.create"

    def post(self, request, pk):
        opp = selectors.opportunity_get_for_user(user=request.user, opportunity_id=pk)
        form = LinkedFollowUpForm(request.POST, customer=opp.customer)
        if form.is_valid():
            try:
                services.opportunity_followup_create(
                    actor=request.user,
                    opportunity=opp,
                    type=form.cleaned_data["type"],
                    content=form.cleaned_data["content"],
                    contact=form.cleaned_data.get("contact"),
                    followed_at=form.cleaned_data["followed_at"],
                    next_contact_at=form.cleaned_data["next_contact_at"],
                    next_action=form.cleaned_data["next_action"],
                    ip=client_ip(request),
                )
            except PermissionRequiredError as exc:
                raise PermissionDenied from exc
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc)
            else:
                messages.success(request, _("跟进记录已保存。"))
                return redirect("opportunities:detail", opp.pk)
        context = _detail_context(request, opp, followup_form=form)
        return render(request, "opportunities/detail.html", context, status=400)


class OpportunityBulkView(PermissionMixin, View):
    """POST ids + action (transfer / delete) from the list or the detail page."""

    ACTIONS = {"transfer": "opportunities.transfer", "delete": "opportunities.delete"}

    def post(self, request):
        action = request.POST.get("action", "")
        if action not in self.ACTIONS or not policy.can(request.user, self.ACTIONS[action]):
            raise PermissionDenied
        ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()][:MAX_BULK]
        back = request.POST.get("next") or reverse("opportunities:list")
        if not back.startswith("/"):
            back = reverse("opportunities:list")
        if not ids:
            messages.error(request, _("请先选择商机。"))
            return redirect(back)
        rows = selectors.opportunities_visible(request.user).filter(pk__in=ids)
        ip = client_ip(request)
        try:
            if action == "transfer":
                to_user = (
                    policy.visible_users(request.user)
                    .filter(
                        pk=int(request.POST.get("to_user") or 0)
                        if (request.POST.get("to_user") or "").isdigit()
                        else 0,
                        is_active=True,
                    )
                    .first()
                )
                if to_user is None:
                    raise ValidationError(_("请选择接手的在职员工。"))
                count = services.opportunities_transfer(
                    actor=request.user, opportunities=rows, to_user=to_user, ip=ip
                )
                messages.success(request, _("已转移 %(count)d 个商机。") % {"count": count})
            else:
                count = 0
                for opp in rows:
                    services.opportunity_delete(actor=request.user, opportunity=opp, ip=ip)
                    count += 1
                messages.success(request, _("已删除 %(count)d 个商机。") % {"count": count})
                back = reverse("opportunities:list")
        except PermissionRequiredError as exc:
            raise PermissionDenied from exc
        except ValidationError as exc:
            messages.error(request, _message(exc))
        return redirect(back)


class StageSettingsView(PermissionMixin, View):
    """Stage groups and their stages (order, win rate); settings.settings."""

    permission = "settings.settings"

    def get(self, request):
        return self.page(request)

    def page(self, request, status=200):
        groups = StageGroup.objects.prefetch_related("stages").order_by("-is_default", "name")
        return render(request, "opportunities/settings.html", {"groups": groups}, status=status)

    def post(self, request):
        action = request.POST.get("action", "")
        ip = client_ip(request)
        try:
            if action == "create_group":
                names = [n for n in request.POST.getlist("stage_name")]
                rates = request.POST.getlist("stage_rate")
                stages = [(n, rates[i] if i < len(rates) else "") for i, n in enumerate(names) if n.strip()]
                services.stage_group_create(
                    actor=request.user,
                    name=request.POST.get("name", ""),
                    stages=stages,
                    is_default=request.POST.get("is_default") == "1",
                    ip=ip,
                )
                messages.success(request, _("阶段组已创建。"))
            elif action == "update_stage":
                stage = get_object_or_404(Stage, pk=request.POST.get("stage") or 0)
                services.stage_update(
                    actor=request.user,
                    stage=stage,
                    name=request.POST.get("name", ""),
                    order=request.POST.get("order", ""),
                    win_rate=request.POST.get("win_rate", ""),
                    ip=ip,
                )
                messages.success(request, _("阶段“%(name)s”已保存。") % {"name": stage.name})
            elif action == "add_stage":
                group = get_object_or_404(StageGroup, pk=request.POST.get("group") or 0)
                services.stage_add(
                    actor=request.user,
                    group=group,
                    name=request.POST.get("name", ""),
                    win_rate=request.POST.get("win_rate", ""),
                    ip=ip,
                )
                messages.success(request, _("阶段已添加。"))
            else:
                raise ValidationError(_("未知操作。"))
        except ValidationError as exc:
            messages.error(request, _message(exc))
            return self.page(request, status=400)
        return redirect("opportunities:settings")
