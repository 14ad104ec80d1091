"""Writes of the approval engine: configure flows; submit, approve, reject, resubmit, withdraw.

Every decision locks the request row (SELECT … FOR UPDATE) before it reads the task, so two
approvers of a one-vote step deciding at once record exactly one decision, and an all-must-approve
step advances exactly once. Every transition writes the operation log and notifies through the
message centre: approvers get a 待审批 to-do with a link, the applicant gets the outcome.
"""

from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access import policy
from crm.accounts.models import User
from crm.approvals import kinds, signals
from crm.approvals.models import ApprovalFlow, ApprovalRequest, ApprovalStep, ApprovalTask
from crm.audit.services import log_action
from crm.messaging.models import Notification
from crm.messaging.services import notification_send

MAX_STEPS = 20
MAX_AMOUNT = Decimal("999999999999.99")


# ---------------------------------------------------------------- configuration


def can_configure(user, kind: str) -> bool:
    registered = kinds.get(kind)
    return registered is not None and policy.can(user, registered.permission)


def configurable_kinds(user) -> list[tuple[str, Any]]:
    return [(kind.key, kind.label) for kind in kinds.KINDS.values() if policy.can(user, kind.permission)]


def _clean_amount(value, step_name: str, what: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError as exc:
        raise ValidationError(
            _("步骤“%(step)s”的%(what)s不是有效的金额。") % {"step": step_name, "what": what}
        ) from exc
    if not amount.is_finite():
        raise ValidationError(
            _("步骤“%(step)s”的%(what)s不是有效的金额。") % {"step": step_name, "what": what}
        )
    if amount < 0:
        raise ValidationError(_("步骤“%(step)s”的%(what)s不能为负数。") % {"step": step_name, "what": what})
    if amount > MAX_AMOUNT:
        raise ValidationError(_("步骤“%(step)s”的%(what)s过大。") % {"step": step_name, "what": what})
    return amount.quantize(Decimal("0.01"))


def _clean_step(raw: dict, position: int) -> dict:
    name = (raw.get("name") or "").strip()[:64] or _("第 %(n)d 步") % {"n": position}
    approver_type = raw.get("approver_type") or ApprovalStep.ApproverType.USER
    if approver_type not in ApprovalStep.ApproverType.values:
        raise ValidationError(_("步骤“%(step)s”的审批人类型无效。") % {"step": name})
    mode = raw.get("mode") or ApprovalStep.Mode.ANY
    if mode not in ApprovalStep.Mode.values:
        raise ValidationError(_("步骤“%(step)s”的审批方式无效。") % {"step": name})
    user = raw.get("approver_user") if approver_type == ApprovalStep.ApproverType.USER else None
    role = raw.get("approver_role") if approver_type == ApprovalStep.ApproverType.ROLE else None
    if approver_type == ApprovalStep.ApproverType.USER:
        if user is None:
            raise ValidationError(_("步骤“%(step)s”没有指定审批员工。") % {"step": name})
        if not user.is_active:
            raise ValidationError(
                _("步骤“%(step)s”的审批员工%(user)s已停用。") % {"step": name, "user": user}
            )
    if approver_type == ApprovalStep.ApproverType.ROLE and role is None:
        raise ValidationError(_("步骤“%(step)s”没有指定审批角色。") % {"step": name})
    min_amount = _clean_amount(raw.get("min_amount"), name, _("金额下限"))
    max_amount = _clean_amount(raw.get("max_amount"), name, _("金额上限"))
    if max_amount is not None and max_amount == 0:
        raise ValidationError(_("步骤“%(step)s”的金额上限必须大于 0。") % {"step": name})
    if min_amount is not None and max_amount is not None and min_amount >= max_amount:
        raise ValidationError(_("步骤“%(step)s”的金额下限必须小于金额上限。") % {"step": name})
    doc_types = raw.get("doc_types") or []
    if isinstance(doc_types, str):
        doc_types = [t for t in (part.strip() for part in doc_types.replace("，", ",").split(",")) if t]
    if not isinstance(doc_types, list) or not all(isinstance(t, str) for t in doc_types):
        raise ValidationError(_("步骤“%(step)s”的单据类型条件无效。") % {"step": name})
    return {
        "order": position,
        "name": name,
        "approver_type": approver_type,
        "approver_user": user,
        "approver_role": role,
        "mode": mode,
        "min_amount": min_amount,
        "max_amount": max_amount,
        "doc_types": sorted({t.strip()[:64] for t in doc_types if t.strip()}),
    }


def _step_key(values: dict) -> tuple:
    return (
        values["order"],
        values["name"],
        values["approver_type"],
        getattr(values["approver_user"], "pk", None),
        getattr(values["approver_role"], "pk", None),
        values["mode"],
        values["min_amount"],
        values["max_amount"],
        tuple(values["doc_types"]),
    )


def _existing_step_keys(flow: ApprovalFlow) -> list[tuple]:
    return [
        _step_key(
            {
                "order": s.order,
                "name": s.name,
                "approver_type": s.approver_type,
                "approver_user": s.approver_user,
                "approver_role": s.approver_role,
                "mode": s.mode,
                "min_amount": s.min_amount,
                "max_amount": s.max_amount,
                "doc_types": list(s.doc_types or []),
            }
        )
        for s in flow.steps.select_related("approver_user", "approver_role").order_by("order")
    ]


@transaction.atomic
def flow_save(
    *,
    actor,
    flow: ApprovalFlow | None = None,
    name: str,
    kind: str,
    steps: list[dict],
    description: str = "",
    is_active: bool = True,
    priority: int = 0,
    ip: str | None = None,
) -> ApprovalFlow:
    """Create or change a flow with its ordered steps (the list order is the step order)."""
    if kinds.get(kind) is None:
        raise ValidationError(_("未知的单据类型“%(kind)s”。") % {"kind": kind})
    if not can_configure(actor, kind) or (flow is not None and not can_configure(actor, flow.kind)):
        raise PermissionDenied
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("请填写审批流名称。"))
    if len(name) > 100:
        raise ValidationError(_("审批流名称不能超过 100 个字。"))
    if not isinstance(priority, int) or not -1000 <= priority <= 1000:
        raise ValidationError(_("优先级必须是 -1000 到 1000 之间的整数。"))
    if not steps:
        raise ValidationError(_("审批流至少需要一个审批步骤。"))
    if len(steps) > MAX_STEPS:
        raise ValidationError(_("审批流最多 %(max)d 个步骤。") % {"max": MAX_STEPS})
    cleaned = [_clean_step(raw, position) for position, raw in enumerate(steps, start=1)]
    duplicate = ApprovalFlow.objects.filter(kind=kind, name=name)
    if flow is not None:
        duplicate = duplicate.exclude(pk=flow.pk)
    if duplicate.exists():
        raise ValidationError(_("已有同名的审批流“%(name)s”。") % {"name": name})

    creating = flow is None
    if creating:
        flow = ApprovalFlow(created_by=actor if getattr(actor, "pk", None) else None)
        old = {}
        steps_changed = True
    else:
        flow = ApprovalFlow.objects.select_for_update().get(pk=flow.pk)
        old = {"name": flow.name, "kind": flow.kind, "is_active": flow.is_active, "priority": flow.priority}
        steps_changed = _existing_step_keys(flow) != [_step_key(v) for v in cleaned]
        if steps_changed or kind != flow.kind:
            pending = flow.requests.filter(status=ApprovalRequest.Status.PENDING).count()
            if pending:
                raise ValidationError(
                    _("该审批流有 %(count)d 个审批中的申请，暂不能修改步骤或单据类型；可停用它并新建审批流。")
                    % {"count": pending}
                )
    flow.name, flow.kind, flow.description = name, kind, (description or "").strip()[:255]
    flow.is_active, flow.priority = bool(is_active), priority
    flow.save()
    if steps_changed:
        flow.steps.all().delete()
        ApprovalStep.objects.bulk_create(ApprovalStep(flow=flow, **values) for values in cleaned)
    new = {"name": flow.name, "kind": flow.kind, "is_active": flow.is_active, "priority": flow.priority}
    changes = {key: [old.get(key), value] for key, value in new.items() if old.get(key) != value}
    if steps_changed:
        changes["steps"] = [None, [f"{v['order']}. {v['name']}" for v in cleaned]]
    log_action(
        actor=actor,
        action="approval_flow.created" if creating else "approval_flow.updated",
        target=flow,
        changes=changes,
        ip_address=ip,
    )
    return flow


@transaction.atomic
def flow_set_active(*, actor, flow: ApprovalFlow, is_active: bool, ip: str | None = None) -> ApprovalFlow:
    if not can_configure(actor, flow.kind):
        raise PermissionDenied
    flow = ApprovalFlow.objects.select_for_update().get(pk=flow.pk)
    if is_active and not flow.steps.exists():
        raise ValidationError(_("审批流至少需要一个审批步骤。"))
    if flow.is_active != is_active:
        flow.is_active = is_active
        flow.save(update_fields=["is_active", "updated_at"])
        log_action(
            actor=actor,
            action="approval_flow.activated" if is_active else "approval_flow.deactivated",
            target=flow,
            changes={"is_active": [not is_active, is_active]},
            ip_address=ip,
        )
    return flow


# ---------------------------------------------------------------- running requests


def _snapshot(kind: kinds.Kind, document) -> tuple[Decimal | None, str]:
    amount = kind.amount_of(document)
    if amount is not None:
        if not amount.is_finite():
            raise ValidationError(_("单据金额无效。"))
        if amount < 0:
            raise ValidationError(_("单据金额不能为负数。"))
        amount = amount.quantize(Decimal("0.01"))
    return amount, kind.type_of(document)


def _applicable_steps(flow: ApprovalFlow, amount, doc_type: str) -> list[ApprovalStep]:
    steps = flow.steps.select_related("approver_user", "approver_role").order_by("order")
    return [step for step in steps if step.applies(amount, doc_type)]


def flow_for(kind: str, document, *, amount=None, doc_type: str | None = None) -> ApprovalFlow | None:
    """The active flow of this kind, highest priority first, with at least one step that applies."""
    registered = kinds.get(kind)
    if registered is None:
        raise ValidationError(_("未知的单据类型“%(kind)s”。") % {"kind": kind})
    if amount is None and doc_type is None:
        amount, doc_type = _snapshot(registered, document)
    flows = (
        ApprovalFlow.objects.filter(kind=kind, is_active=True)
        .prefetch_related("steps")
        .order_by("-priority", "id")
    )
    for flow in flows:
        if any(step.applies(amount, doc_type or "") for step in flow.steps.all()):
            return flow
    return None


def _resolve_approvers(step: ApprovalStep, applicant) -> list:
    """The people who decide this step now; a missing or disabled one is an error naming the step."""
    if step.approver_type == ApprovalStep.ApproverType.USER:
        user = step.approver_user
        if user is None:
            raise ValidationError(_("审批步骤“%(step)s”没有指定审批人，请联系管理员。") % {"step": step.name})
        if not user.is_active:
            raise ValidationError(
                _("审批步骤“%(step)s”的审批人%(user)s已停用，请联系管理员调整审批流。")
                % {"step": step.name, "user": user}
            )
        return [user]
    if step.approver_type == ApprovalStep.ApproverType.ROLE:
        if step.approver_role is None:
            raise ValidationError(
                _("审批步骤“%(step)s”没有指定审批角色，请联系管理员。") % {"step": step.name}
            )
        users = list(User.objects.filter(roles=step.approver_role, is_active=True).order_by("pk"))
        if not users:
            raise ValidationError(
                _("审批步骤“%(step)s”的角色“%(role)s”下没有在职员工，请联系管理员调整审批流。")
                % {"step": step.name, "role": step.approver_role}
            )
        return users
    manager = User.objects.filter(pk=applicant.manager_id).first() if applicant.manager_id else None
    if manager is None:
        raise ValidationError(
            _("审批步骤“%(step)s”需要直属上级审批，但申请人%(user)s没有设置直属上级。")
            % {"step": step.name, "user": applicant}
        )
    if not manager.is_active:
        raise ValidationError(
            _("审批步骤“%(step)s”需要直属上级审批，但申请人的直属上级%(user)s已停用。")
            % {"step": step.name, "user": manager}
        )
    return [manager]


def request_url(request: ApprovalRequest) -> str:
    return reverse("approvals:request_detail", args=[request.pk])


def _notify_approvers(request: ApprovalRequest, tasks: list[ApprovalTask]) -> None:
    for task in tasks:
        notification_send(
            recipient=task.approver,
            kind=Notification.Kind.APPROVAL,
            title=_("待审批：%(title)s") % {"title": request.title},
            body=_("%(applicant)s 提交的%(kind)s等待您审批（%(step)s）。")
            % {"applicant": request.applicant, "kind": request.kind_label, "step": task.step_name},
            url=request_url(request),
        )


def _enter_step(request: ApprovalRequest, *, after_order: int) -> list[ApprovalTask]:
    """Open the first applicable step after `after_order`: tasks for its approvers. [] if none is left."""
    for step in _applicable_steps(request.flow, request.amount, request.doc_type):
        if step.order <= after_order:
            continue
        approvers = _resolve_approvers(step, request.applicant)
        tasks = ApprovalTask.objects.bulk_create(
            ApprovalTask(
                request=request,
                round=request.round,
                step=step,
                step_order=step.order,
                step_name=step.name,
                mode=step.mode,
                approver=user,
            )
            for user in approvers
        )
        request.current_step = step
        _notify_approvers(request, tasks)
        return tasks
    request.current_step = None
    return []


def _start_round(request: ApprovalRequest) -> None:
    tasks = _enter_step(request, after_order=0)
    if not tasks:  # flow_for chose a flow with an applicable step; this only guards a changed flow
        raise ValidationError(_("审批流“%(flow)s”没有适用于该单据的审批步骤。") % {"flow": request.flow})


def _title_of(kind: kinds.Kind, document) -> str:
    return (f"{kind.label}：{document}")[:200]


@transaction.atomic
def submit(*, actor, document: Model, kind: str, ip: str | None = None) -> ApprovalRequest:
    """Send a document into its kind's approval flow; the first applicable step gets its tasks."""
    registered = kinds.get(kind)
    if registered is None:
        raise ValidationError(_("未知的单据类型“%(kind)s”。") % {"kind": kind})
    if getattr(document, "pk", None) is None:
        raise ValidationError(_("请先保存单据再提交审批。"))
    content_type = ContentType.objects.get_for_model(document)
    if ApprovalRequest.objects.filter(
        content_type=content_type, object_id=str(document.pk), status=ApprovalRequest.Status.PENDING
    ).exists():
        raise ValidationError(_("该单据已在审批中，不能重复提交。"))
    amount, doc_type = _snapshot(registered, document)
    flow = flow_for(kind, document, amount=amount, doc_type=doc_type)
    if flow is None:
        raise ValidationError(
            _("没有适用于该%(kind)s的审批流，请联系管理员配置审批流。") % {"kind": registered.label}
        )
    request = ApprovalRequest(
        content_type=content_type,
        object_id=str(document.pk),
        kind=kind,
        title=_title_of(registered, document),
        flow=flow,
        applicant=actor,
        amount=amount,
        doc_type=doc_type,
        submitted_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as exc:  # a concurrent submit of the same document won
        raise ValidationError(_("该单据已在审批中，不能重复提交。")) from exc
    _start_round(request)
    request.save(update_fields=["current_step", "updated_at"])
    log_action(
        actor=actor,
        action="approval.submitted",
        target=request,
        changes={"flow": [None, flow.name], "amount": [None, amount], "status": [None, request.status]},
        ip_address=ip,
    )
    signals.request_submitted.send(sender=kind, request=request)
    return request


def _lock(request_id: int) -> ApprovalRequest:
    return ApprovalRequest.objects.select_for_update().select_related("flow", "applicant").get(pk=request_id)


def _lock_task(*, actor, task: ApprovalTask) -> tuple[ApprovalRequest, ApprovalTask]:
    """Lock the request first (all decisions on it queue here), then re-read the task."""
    if task.approver_id != getattr(actor, "pk", None):
        raise PermissionDenied
    request = _lock(task.request_id)
    task = ApprovalTask.objects.select_related("approver", "step").get(pk=task.pk)
    if task.status != ApprovalTask.Status.PENDING or request.status != ApprovalRequest.Status.PENDING:
        raise ValidationError(_("该审批任务已处理，不能重复审批。"))
    if task.round != request.round:
        raise ValidationError(_("该审批任务已失效。"))
    return request, task


def _skip_pending(request: ApprovalRequest, now, **extra) -> list[ApprovalTask]:
    pending = request.tasks.filter(round=request.round, status=ApprovalTask.Status.PENDING, **extra)
    skipped = list(pending.select_related("approver"))
    pending.update(status=ApprovalTask.Status.SKIPPED, decided_at=now)
    return skipped


def _notify_applicant(request: ApprovalRequest, title: str, body: str = "") -> None:
    notification_send(
        recipient=request.applicant,
        kind=Notification.Kind.APPROVAL,
        title=title,
        body=body,
        url=request_url(request),
    )


def _run_callbacks(request: ApprovalRequest, which: str) -> None:
    registered = kinds.get(request.kind)
    for callback in getattr(registered, which, []) if registered else []:
        callback(request)


@transaction.atomic
def approve(*, actor, task: ApprovalTask, comment: str = "", ip: str | None = None) -> ApprovalTask:
    """Agree to a pending task. A one-vote step passes at once; a 会签 step when everyone agreed.
    The last step finishing approves the request and runs the kind's `on_approved`."""
    request, task = _lock_task(actor=actor, task=task)
    now = timezone.now()
    task.status, task.comment, task.decided_at = (
        ApprovalTask.Status.APPROVED,
        (comment or "").strip()[:500],
        now,
    )
    task.save(update_fields=["status", "comment", "decided_at"])
    log_action(
        actor=actor,
        action="approval.approved",
        target=request,
        changes={"step": [None, task.step_name]},
        message=task.comment,
        ip_address=ip,
    )
    same_step = {"step_order": task.step_order}
    if task.mode == ApprovalStep.Mode.ANY:
        _skip_pending(request, now, **same_step)
    elif request.tasks.filter(round=request.round, status=ApprovalTask.Status.PENDING, **same_step).exists():
        return task  # 会签: others of this step still have to agree
    next_tasks = _enter_step(request, after_order=task.step_order)
    if next_tasks:
        request.save(update_fields=["current_step", "updated_at"])
        return task
    request.status, request.decided_at, request.current_step = ApprovalRequest.Status.APPROVED, now, None
    request.save(update_fields=["status", "decided_at", "current_step", "updated_at"])
    log_action(
        actor=actor,
        action="approval.completed",
        target=request,
        changes={"status": [ApprovalRequest.Status.PENDING, ApprovalRequest.Status.APPROVED]},
        ip_address=ip,
    )
    _notify_applicant(request, _("审批已通过：%(title)s") % {"title": request.title})
    _run_callbacks(request, "on_approved")
    signals.request_approved.send(sender=request.kind, request=request)
    return task


@transaction.atomic
def reject(*, actor, task: ApprovalTask, comment: str, ip: str | None = None) -> ApprovalTask:
    """Reject a pending task: the request goes back to the applicant with the comment."""
    comment = (comment or "").strip()[:500]
    if not comment:
        raise ValidationError(_("驳回时请填写审批意见。"))
    request, task = _lock_task(actor=actor, task=task)
    now = timezone.now()
    task.status, task.comment, task.decided_at = ApprovalTask.Status.REJECTED, comment, now
    task.save(update_fields=["status", "comment", "decided_at"])
    _skip_pending(request, now)
    request.status, request.decided_at, request.current_step = ApprovalRequest.Status.REJECTED, now, None
    request.save(update_fields=["status", "decided_at", "current_step", "updated_at"])
    log_action(
        actor=actor,
        action="approval.rejected",
        target=request,
        changes={
            "status": [ApprovalRequest.Status.PENDING, ApprovalRequest.Status.REJECTED],
            "step": [None, task.step_name],
        },
        message=comment,
        ip_address=ip,
    )
    _notify_applicant(
        request,
        _("审批被驳回：%(title)s") % {"title": request.title},
        _("%(user)s 在“%(step)s”驳回：%(comment)s")
        % {"user": actor, "step": task.step_name, "comment": comment},
    )
    _run_callbacks(request, "on_rejected")
    signals.request_rejected.send(sender=request.kind, request=request, comment=comment)
    return task


@transaction.atomic
def resubmit(*, actor, request: ApprovalRequest, ip: str | None = None) -> ApprovalRequest:
    """After a rejection (or a withdrawal) the applicant starts a new round from the first step.
    Earlier rounds stay as history; amount, type and flow are read again from the document."""
    if request.applicant_id != getattr(actor, "pk", None):
        raise PermissionDenied
    request = _lock(request.pk)
    if request.status not in (ApprovalRequest.Status.REJECTED, ApprovalRequest.Status.WITHDRAWN):
        raise ValidationError(_("只有被驳回或已撤回的申请可以重新提交。"))
    registered = kinds.get(request.kind)
    document = request.document
    if registered is None or document is None:
        raise ValidationError(_("该单据已不存在，不能重新提交。"))
    amount, doc_type = _snapshot(registered, document)
    flow = flow_for(request.kind, document, amount=amount, doc_type=doc_type)
    if flow is None:
        raise ValidationError(
            _("没有适用于该%(kind)s的审批流，请联系管理员配置审批流。") % {"kind": registered.label}
        )
    old_status = request.status
    request.flow, request.amount, request.doc_type = flow, amount, doc_type
    request.title = _title_of(registered, document)
    request.round += 1
    request.status, request.submitted_at, request.decided_at = (
        ApprovalRequest.Status.PENDING,
        timezone.now(),
        None,
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as exc:
        raise ValidationError(_("该单据已在审批中，不能重复提交。")) from exc
    _start_round(request)
    request.save(update_fields=["current_step", "updated_at"])
    log_action(
        actor=actor,
        action="approval.resubmitted",
        target=request,
        changes={"status": [old_status, request.status], "round": [request.round - 1, request.round]},
        ip_address=ip,
    )
    signals.request_submitted.send(sender=request.kind, request=request)
    return request


@transaction.atomic
def withdraw(*, actor, request: ApprovalRequest, ip: str | None = None) -> ApprovalRequest:
    """The applicant takes back a pending request; open tasks close and their approvers are told."""
    if request.applicant_id != getattr(actor, "pk", None):
        raise PermissionDenied
    request = _lock(request.pk)
    if request.status != ApprovalRequest.Status.PENDING:
        raise ValidationError(_("只有审批中的申请可以撤回。"))
    now = timezone.now()
    closed = _skip_pending(request, now)
    request.status, request.decided_at, request.current_step = ApprovalRequest.Status.WITHDRAWN, now, None
    request.save(update_fields=["status", "decided_at", "current_step", "updated_at"])
    log_action(
        actor=actor,
        action="approval.withdrawn",
        target=request,
        changes={"status": [ApprovalRequest.Status.PENDING, ApprovalRequest.Status.WITHDRAWN]},
        ip_address=ip,
    )
    for task in closed:
        notification_send(
            recipient=task.approver,
            kind=Notification.Kind.APPROVAL,
            title=_("申请人已撤回：%(title)s") % {"title": request.title},
            url=request_url(request),
        )
    signals.request_withdrawn.send(sender=request.kind, request=request)
    return request
