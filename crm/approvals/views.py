"""Pages of the approval engine: flow configuration (admins), 我的审批 (everyone), request detail."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from crm.approvals import kinds, selectors, services
from crm.approvals.forms import FlowForm, StepFormSet, step_initial
from crm.approvals.models import ApprovalFlow
from crm.core.mixins import PermissionMixin, client_ip

TABS = ("todo", "done", "mine")


def _require_configurer(user) -> list:
    kinds = services.configurable_kinds(user)
    if not kinds:
        raise PermissionDenied
    return kinds


@login_required
def flow_list(request):
    _require_configurer(request.user)
    flows = selectors.flows_configurable(request.user).order_by("kind", "-priority", "id")
    return render(request, "approvals/flow_list.html", {"flows": flows})


class FlowFormView(PermissionMixin, View):
    """Create (no pk) or change (pk) a flow and its ordered steps."""

    def dispatch(self, request, *args, pk=None, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.kinds = _require_configurer(request.user)
        self.flow = selectors.flow_get_for_user(user=request.user, flow_id=pk) if pk else None
        return super().dispatch(request, *args, **kwargs)

    def forms(self, data=None):
        form = FlowForm(data, kinds=self.kinds, flow=self.flow)
        steps = StepFormSet(
            data, initial=None if data is not None else step_initial(self.flow), prefix="steps"
        )
        return form, steps

    def get(self, request):
        return self.render(*self.forms())

    def post(self, request):
        form, steps = self.forms(request.POST)
        if form.is_valid() and steps.is_valid():
            try:
                flow = services.flow_save(
                    actor=request.user,
                    flow=self.flow,
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    description=form.cleaned_data["description"],
                    priority=form.cleaned_data["priority"],
                    is_active=form.cleaned_data["is_active"],
                    steps=steps.steps_in_order(),
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("审批流“%(name)s”已保存。") % {"name": flow.name})
                return redirect("approvals:flows")
        return self.render(form, steps, status=400)

    def render(self, form, steps, status=200):
        context = {"form": form, "steps": steps, "flow": self.flow}
        return render(self.request, "approvals/flow_form.html", context, status=status)


@login_required
@require_POST
def flow_toggle(request, pk):
    _require_configurer(request.user)
    flow: ApprovalFlow = selectors.flow_get_for_user(user=request.user, flow_id=pk)
    try:
        services.flow_set_active(
            actor=request.user, flow=flow, is_active=not flow.is_active, ip=client_ip(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已更新审批流“%(name)s”。") % {"name": flow.name})
    return redirect("approvals:flows")


@login_required
def my_approvals(request):
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "todo"
    user = request.user
    if tab == "todo":
        rows = selectors.tasks_pending_for(user)
    elif tab == "done":
        rows = selectors.tasks_decided_by(user)
    else:
        rows = selectors.requests_submitted_by(user)
    page = Paginator(rows, 20).get_page(request.GET.get("page"))
    context = {
        "tab": tab,
        "page": page,
        "todo_count": selectors.tasks_pending_for(user).count(),
    }
    return render(request, "approvals/mine.html", context)


@login_required
def request_detail(request, pk):
    approval = selectors.request_get_for_user(user=request.user, request_id=pk)
    kind = kinds.get(approval.kind)
    context = {
        "approval": approval,
        "document_url": kind.url_of(approval.document) if kind else "",
        "doc_type_label": kind.type_label(approval.doc_type) if kind else approval.doc_type,
        "timeline": selectors.request_timeline(approval),
        "my_task": selectors.pending_task_of(request.user, approval),
        "upcoming": selectors.upcoming_steps(approval),
    }
    return render(request, "approvals/request_detail.html", context)


def _decide(request, pk, service, done_message):
    task = selectors.task_get_for_approver(user=request.user, task_id=pk)
    comment = (request.POST.get("comment") or "")[:500]
    try:
        service(actor=request.user, task=task, comment=comment, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done_message % {"title": task.request.title})
    next_url = request.POST.get("next")
    if next_url == "detail":
        return redirect("approvals:request_detail", task.request_id)
    return redirect("approvals:mine")


@login_required
@require_POST
def task_approve(request, pk):
    return _decide(request, pk, services.approve, _("已同意：%(title)s"))


@login_required
@require_POST
def task_reject(request, pk):
    return _decide(request, pk, services.reject, _("已驳回：%(title)s"))


@login_required
@require_POST
def request_withdraw(request, pk):
    approval = selectors.request_get_for_user(user=request.user, request_id=pk)
    try:
        services.withdraw(actor=request.user, request=approval, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已撤回：%(title)s") % {"title": approval.title})
    return redirect("approvals:request_detail", approval.pk)


@login_required
@require_POST
def request_resubmit(request, pk):
    approval = selectors.request_get_for_user(user=request.user, request_id=pk)
    try:
        services.resubmit(actor=request.user, request=approval, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已重新提交：%(title)s") % {"title": approval.title})
    return redirect("approvals:request_detail", approval.pk)
