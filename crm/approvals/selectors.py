"""Reads of the approval engine. A request is visible to its applicant and to everyone who holds
(or held) a task on it; a task only to its approver. Anything else answers 404 like a missing row."""

from itertools import groupby

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from crm.access import policy
from crm.approvals import kinds
from crm.approvals.models import ApprovalFlow, ApprovalRequest, ApprovalTask


def flows_configurable(user) -> QuerySet[ApprovalFlow]:
    keys = [kind.key for kind in kinds.KINDS.values() if policy.can(user, kind.permission)]
    return ApprovalFlow.objects.filter(kind__in=keys).prefetch_related(
        "steps__approver_user", "steps__approver_role"
    )


def flow_get_for_user(*, user, flow_id) -> ApprovalFlow:
    try:
        return flows_configurable(user).get(pk=flow_id)
    except (ApprovalFlow.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def _task_qs() -> QuerySet[ApprovalTask]:
    return ApprovalTask.objects.select_related("request__applicant", "request__flow", "approver")


def tasks_pending_for(user) -> QuerySet[ApprovalTask]:
    return _task_qs().filter(approver=user, status=ApprovalTask.Status.PENDING).order_by("-created_at", "-id")


def tasks_decided_by(user) -> QuerySet[ApprovalTask]:
    return (
        _task_qs()
        .filter(approver=user, status__in=[ApprovalTask.Status.APPROVED, ApprovalTask.Status.REJECTED])
        .order_by("-decided_at", "-id")
    )


def tasks_of(user) -> QuerySet[ApprovalTask]:
    """Every task of this approver (the API list)."""
    return _task_qs().filter(approver=user)


def task_get_for_approver(*, user, task_id) -> ApprovalTask:
    try:
        return _task_qs().get(pk=task_id, approver=user)
    except (ApprovalTask.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def requests_submitted_by(user) -> QuerySet[ApprovalRequest]:
    return (
        ApprovalRequest.objects.filter(applicant=user)
        .select_related("flow", "applicant", "current_step")
        .order_by("-submitted_at", "-id")
    )


def requests_visible(user) -> QuerySet[ApprovalRequest]:
    qs = ApprovalRequest.objects.select_related("flow", "applicant", "current_step")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if policy.is_super_admin(user):
        return qs
    holds_task = ApprovalTask.objects.filter(request=OuterRef("pk"), approver=user)
    return qs.filter(Q(applicant=user) | Exists(holds_task))


def request_get_for_user(*, user, request_id) -> ApprovalRequest:
    try:
        return requests_visible(user).get(pk=request_id)
    except (ApprovalRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# ---------------------------------------------------------------- approvers read their documents
#
# One rule: whoever holds or held a task on a request for a document (any round, any status) may
# READ that document, even outside their data scope or without the module's view permission, so
# that "查看单据" on the request page opens it. Nothing more: the documents' read-only access helpers
# (contract_get_for_user / receivable_get_for_user with read_only=True) try their normal path first
# and only then this one, mark the record (`read_via_approval`), and the pages offer no action on a
# record so marked. Writes never take this path.

READ_VIA_APPROVAL = "read_via_approval"


def approval_grants_read_of(user, model, object_id) -> bool:
    """Does `user` hold (or did they hold) an approval task on a request for this document? One query."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    content_type = ContentType.objects.get_for_model(model)  # cached by Django after the first call
    return ApprovalTask.objects.filter(
        approver=user, request__content_type=content_type, request__object_id=str(object_id)
    ).exists()


def approval_grants_read(user, obj) -> bool:
    return obj is not None and approval_grants_read_of(user, type(obj), obj.pk)


def approval_read_or_refuse(user, *, model, object_id, permission: str) -> None:
    """The second path of a read-only access helper, taken after its normal path said no.

    Returns when an approval task grants the read. Otherwise answers as the page did before the
    second path existed: 403 without the module's view permission (`permission`), 404 for the rest
    (outside the scope or missing alike)."""
    if approval_grants_read_of(user, model, object_id):
        return
    if not policy.can(user, permission):
        raise PermissionDenied
    raise Http404


def mark_read_via_approval(obj, value: bool):
    setattr(obj, READ_VIA_APPROVAL, value)
    return obj


def is_read_via_approval(obj) -> bool:
    """Was `obj` handed out only because its viewer is an approver of it (read-only then)?"""
    return bool(getattr(obj, READ_VIA_APPROVAL, False))


def request_for_document(document) -> ApprovalRequest | None:
    """The latest request on a document (its page shows it with approvals/_request_status.html).
    The document page has already decided that its viewer may see the document."""
    content_type = ContentType.objects.get_for_model(document)
    return (
        ApprovalRequest.objects.filter(content_type=content_type, object_id=str(document.pk))
        .select_related("flow", "applicant", "current_step")
        .order_by("-submitted_at", "-id")
        .first()
    )


def request_timeline(request: ApprovalRequest) -> list[dict]:
    """Rounds, newest first, each with its steps in order and every approver's decision."""
    tasks = list(request.tasks.select_related("approver").order_by("-round", "step_order", "id"))
    rounds = []
    for round_no, round_tasks in groupby(tasks, key=lambda t: t.round):
        steps = []
        for (order, name), step_tasks in groupby(
            list(round_tasks), key=lambda t: (t.step_order, t.step_name)
        ):
            step_tasks = list(step_tasks)
            steps.append(
                {"order": order, "name": name, "mode": step_tasks[0].get_mode_display(), "tasks": step_tasks}
            )
        rounds.append({"round": round_no, "steps": steps})
    return rounds


def pending_task_of(user, request: ApprovalRequest) -> ApprovalTask | None:
    return request.tasks.filter(
        approver=user, round=request.round, status=ApprovalTask.Status.PENDING
    ).first()


def upcoming_steps(request: ApprovalRequest) -> list:
    """The steps still ahead of a pending request (conditions applied), for its timeline."""
    if request.status != ApprovalRequest.Status.PENDING or request.current_step is None:
        return []
    steps = request.flow.steps.select_related("approver_user", "approver_role").order_by("order")
    return [
        step
        for step in steps
        if step.order > request.current_step.order and step.applies(request.amount, request.doc_type)
    ]
