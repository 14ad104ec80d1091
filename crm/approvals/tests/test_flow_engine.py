"""The approval engine's rules, through its services: steps, conditions, approvers, modes, rounds."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.accounts.tests.factories import UserFactory
from crm.approvals import services, signals
from crm.approvals.models import ApprovalFlow, ApprovalRequest, ApprovalStep, ApprovalTask
from crm.approvals.tests.conftest import KIND, manager_step, role_step, user_step
from crm.audit.models import OperationLog
from crm.messaging.models import Notification

pytestmark = pytest.mark.django_db


def pending(request):
    return list(
        request.tasks.filter(round=request.round, status=ApprovalTask.Status.PENDING).order_by("approver_id")
    )


def statuses(request):
    return [
        (t.round, t.step_name, t.approver.username, t.status)
        for t in request.tasks.select_related("approver").order_by("round", "step_order", "approver_id")
    ]


# ---------------------------------------------------------------- conditions and approvers


def test_steps_whose_amount_condition_fails_are_skipped(users, docs, make_flow):
    make_flow(
        [
            manager_step("经理审批"),
            user_step(users["finance"], "大额财务审批", min_amount="100000"),
            user_step(users["administrator"], "小额备案", max_amount="5000"),
        ]
    )
    small = services.submit(actor=users["sales1"], document=docs.make("3000"), kind=KIND)
    big = services.submit(actor=users["sales2"], document=docs.make("200000"), kind=KIND)

    services.approve(actor=users["manager"], task=pending(small)[0])
    small.refresh_from_db()
    assert small.current_step.name == "小额备案"  # 大额财务审批 skipped: 3000 < 100000
    services.approve(actor=users["administrator"], task=pending(small)[0])
    small.refresh_from_db()
    assert small.status == ApprovalRequest.Status.APPROVED

    services.approve(actor=users["manager"], task=pending(big)[0])
    big.refresh_from_db()
    assert big.current_step.name == "大额财务审批"
    services.approve(actor=users["finance"], task=pending(big)[0])
    big.refresh_from_db()
    assert big.status == ApprovalRequest.Status.APPROVED  # 小额备案 skipped: 200000 ≥ 5000
    assert [s for _r, s, _u, _st in statuses(big)] == ["经理审批", "大额财务审批"]
    assert big.amount == Decimal("200000.00")


def test_amount_boundaries_min_is_inclusive_max_exclusive(users, docs, make_flow):
    make_flow([user_step(users["finance"], "区间", min_amount="1000", max_amount="2000")])
    assert services.flow_for(KIND, docs.make("1000")) is not None
    assert services.flow_for(KIND, docs.make("1999.99")) is not None
    assert services.flow_for(KIND, docs.make("2000")) is None
    assert services.flow_for(KIND, docs.make("999.99")) is None
    assert services.flow_for(KIND, docs.make(None)) is None  # no amount: an amount condition fails


def test_type_condition(users, docs, make_flow):
    make_flow(
        [manager_step(), user_step(users["finance"], "框架合同法务", doc_types=["框架合同", "年度合同"])]
    )
    request = services.submit(actor=users["sales1"], document=docs.make("10", "框架合同"), kind=KIND)
    services.approve(actor=users["manager"], task=pending(request)[0])
    request.refresh_from_db()
    assert request.current_step.name == "框架合同法务"

    other = services.submit(actor=users["sales1"], document=docs.make("10", "普通合同"), kind=KIND)
    services.approve(actor=users["manager"], task=pending(other)[0])
    other.refresh_from_db()
    assert other.status == ApprovalRequest.Status.APPROVED


def test_flow_for_picks_highest_priority_with_an_applicable_step(users, docs, make_flow):
    low = make_flow([manager_step()], name="普通", priority=0)
    high = make_flow([user_step(users["finance"], min_amount="50000")], name="大额", priority=10)
    make_flow([user_step(users["administrator"])], name="停用的", priority=99, is_active=False)
    assert services.flow_for(KIND, docs.make("60000")) == high
    assert services.flow_for(KIND, docs.make("100")) == low  # the big-amount flow's only step is skipped


def test_role_approvers_are_every_active_holder_resolved_at_submit(users, docs, make_flow, org):
    second = UserFactory(username="finance2", department=org["finance"], roles=["finance"])
    UserFactory(username="finance_gone", department=org["finance"], roles=["finance"], is_active=False)
    make_flow([role_step("finance", "财务审批")])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    assert [t.approver for t in pending(request)] == [users["finance"], second]


def test_manager_step_goes_to_the_applicants_manager(users, docs, make_flow):
    make_flow([manager_step()])
    request = services.submit(actor=users["sales2"], document=docs.make(), kind=KIND)
    assert [t.approver for t in pending(request)] == [users["manager"]]


# ---------------------------------------------------------------- modes


def test_one_vote_step_passes_with_the_first_approval_and_skips_the_others(users, docs, make_flow, org):
    UserFactory(username="finance2", department=org["finance"], roles=["finance"])
    make_flow(
        [
            role_step("finance", "财务审批", mode=ApprovalStep.Mode.ANY),
            user_step(users["administrator"], "备案"),
        ]
    )
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    first, second = pending(request)
    services.approve(actor=first.approver, task=first, comment="同意")
    second.refresh_from_db()
    assert second.status == ApprovalTask.Status.SKIPPED
    request.refresh_from_db()
    assert request.current_step.name == "备案"
    with pytest.raises(ValidationError) as exc:
        services.approve(actor=second.approver, task=second)
    assert "该审批任务已处理" in exc.value.messages[0]


def test_all_must_approve_waits_for_everyone(users, docs, make_flow, org):
    second = UserFactory(username="finance2", department=org["finance"], roles=["finance"])
    make_flow([role_step("finance", "财务会签", mode=ApprovalStep.Mode.ALL)])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    first_task, second_task = pending(request)
    services.approve(actor=users["finance"], task=first_task)
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.PENDING
    assert pending(request) == [second_task]
    services.approve(actor=second, task=second_task)
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.APPROVED
    assert docs.approved == [int(request.object_id)]


def test_all_must_approve_one_rejection_rejects(users, docs, make_flow, org):
    second = UserFactory(username="finance2", department=org["finance"], roles=["finance"])
    make_flow([role_step("finance", "财务会签", mode=ApprovalStep.Mode.ALL)])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    services.approve(actor=users["finance"], task=pending(request)[0])
    services.reject(actor=second, task=pending(request)[0], comment="金额不对")
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.REJECTED
    assert pending(request) == []


# ---------------------------------------------------------------- reject, resubmit, withdraw


def test_reject_resubmit_approve_keeps_the_full_history(users, docs, make_flow):
    make_flow([manager_step("经理审批"), user_step(users["finance"], "财务审批")])
    document = docs.make("8000")
    seen = []

    def receiver(sender, request, comment, **kwargs):
        seen.append((sender, comment))

    signals.request_rejected.connect(receiver)
    request = services.submit(actor=users["sales1"], document=document, kind=KIND)
    services.approve(actor=users["manager"], task=pending(request)[0], comment="可以")
    services.reject(actor=users["finance"], task=pending(request)[0], comment="请补充付款条款")
    signals.request_rejected.disconnect(receiver)
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.REJECTED
    assert docs.rejected == [document.pk]
    assert seen == [(KIND, "请补充付款条款")]
    rejected_note = Notification.objects.filter(
        recipient=users["sales1"], title__startswith="审批被驳回"
    ).get()
    assert "请补充付款条款" in rejected_note.body

    docs.amounts[document.pk] = Decimal("9000")  # the applicant fixed the document
    services.resubmit(actor=users["sales1"], request=request)
    request.refresh_from_db()
    assert (request.round, request.status, request.amount) == (2, "pending", Decimal("9000.00"))
    assert request.current_step.name == "经理审批"  # a new round starts from the first step
    services.approve(actor=users["manager"], task=pending(request)[0])
    services.approve(actor=users["finance"], task=pending(request)[0], comment="已核对")
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.APPROVED
    assert statuses(request) == [
        (1, "经理审批", "manager", "approved"),
        (1, "财务审批", "finance", "rejected"),
        (2, "经理审批", "manager", "approved"),
        (2, "财务审批", "finance", "approved"),
    ]
    actions = list(
        OperationLog.objects.filter(target_id=str(request.pk), action__startswith="approval.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "approval.submitted",
        "approval.approved",
        "approval.rejected",
        "approval.resubmitted",
        "approval.approved",
        "approval.approved",
        "approval.completed",
    ]
    assert docs.approved == [document.pk]


def test_withdraw_closes_open_tasks_and_tells_the_approvers(users, docs, make_flow):
    make_flow([manager_step()])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    task = pending(request)[0]
    with pytest.raises(PermissionDenied):
        services.withdraw(actor=users["manager"], request=request)
    services.withdraw(actor=users["sales1"], request=request)
    request.refresh_from_db()
    task.refresh_from_db()
    assert request.status == ApprovalRequest.Status.WITHDRAWN
    assert task.status == ApprovalTask.Status.SKIPPED
    assert Notification.objects.filter(recipient=users["manager"], title__startswith="申请人已撤回").exists()
    with pytest.raises(ValidationError, match="该审批任务已处理"):
        services.approve(actor=users["manager"], task=task)
    with pytest.raises(ValidationError, match="只有审批中的申请可以撤回"):
        services.withdraw(actor=users["sales1"], request=request)
    services.resubmit(actor=users["sales1"], request=request)
    request.refresh_from_db()
    assert (request.status, request.round) == ("pending", 2)


def test_a_document_cannot_be_submitted_twice_while_pending(users, docs, make_flow):
    make_flow([manager_step()])
    document = docs.make()
    services.submit(actor=users["sales1"], document=document, kind=KIND)
    with pytest.raises(ValidationError, match="该单据已在审批中"):
        services.submit(actor=users["sales1"], document=document, kind=KIND)
    assert ApprovalRequest.objects.count() == 1


def test_reject_needs_a_comment(users, docs, make_flow):
    make_flow([manager_step()])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    with pytest.raises(ValidationError, match="驳回时请填写审批意见"):
        services.reject(actor=users["manager"], task=pending(request)[0], comment="  ")
    assert pending(request)[0].status == "pending"


# ---------------------------------------------------------------- who may decide


def test_only_the_tasks_approver_may_decide_it(users, docs, make_flow):
    make_flow([manager_step()])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    task = pending(request)[0]
    for outsider in (users["admin"], users["sales1"], users["finance"]):
        with pytest.raises(PermissionDenied):
            services.approve(actor=outsider, task=task)
        with pytest.raises(PermissionDenied):
            services.reject(actor=outsider, task=task, comment="不行")
    task.refresh_from_db()
    request.refresh_from_db()
    assert (task.status, request.status) == ("pending", "pending")
    assert not OperationLog.objects.filter(action__in=["approval.approved", "approval.rejected"]).exists()


def test_resubmit_is_for_the_applicant_after_a_rejection_only(users, docs, make_flow):
    make_flow([manager_step()])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    with pytest.raises(ValidationError, match="只有被驳回或已撤回的申请可以重新提交"):
        services.resubmit(actor=users["sales1"], request=request)
    services.reject(actor=users["manager"], task=pending(request)[0], comment="不行")
    with pytest.raises(PermissionDenied):
        services.resubmit(actor=users["manager"], request=request)
    request.refresh_from_db()
    assert (request.round, request.status) == (1, "rejected")


# ---------------------------------------------------------------- notifications


def test_approvers_get_a_todo_with_a_link_and_the_applicant_the_outcome(users, docs, make_flow):
    make_flow([manager_step("经理审批"), user_step(users["finance"], "财务审批")])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    todo = Notification.objects.get(recipient=users["manager"])
    assert todo.kind == Notification.Kind.APPROVAL
    assert todo.title.startswith("待审批：测试单据")
    assert "经理审批" in todo.body
    assert todo.url == f"/approvals/requests/{request.pk}/"
    assert not Notification.objects.filter(recipient=users["finance"]).exists()  # not their turn yet

    services.approve(actor=users["manager"], task=pending(request)[0])
    assert Notification.objects.filter(recipient=users["finance"], title__startswith="待审批").count() == 1
    services.approve(actor=users["finance"], task=pending(request)[0])
    outcome = Notification.objects.get(recipient=users["sales1"])
    assert outcome.title.startswith("审批已通过")
    assert outcome.url == f"/approvals/requests/{request.pk}/"


# ---------------------------------------------------------------- bad input


def test_flow_without_steps_is_refused(users, docs, make_flow):
    with pytest.raises(ValidationError, match="审批流至少需要一个审批步骤"):
        make_flow([])
    assert not ApprovalFlow.objects.exists()


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"name": "空审批人", "approver_type": "user"}, "步骤“空审批人”没有指定审批员工"),
        ({"name": "空角色", "approver_type": "role"}, "步骤“空角色”没有指定审批角色"),
        ({"name": "负数", "approver_type": "manager", "min_amount": "-1"}, "步骤“负数”的金额下限不能为负数"),
        (
            {"name": "负上限", "approver_type": "manager", "max_amount": "-5"},
            "步骤“负上限”的金额上限不能为负数",
        ),
        (
            {"name": "倒置", "approver_type": "manager", "min_amount": "500", "max_amount": "100"},
            "步骤“倒置”的金额下限必须小于金额上限",
        ),
        (
            {"name": "乱填", "approver_type": "manager", "min_amount": "abc"},
            "步骤“乱填”的金额下限不是有效的金额",
        ),
        ({"name": "怪类型", "approver_type": "boss"}, "步骤“怪类型”的审批人类型无效"),
    ],
)
def test_bad_steps_are_refused_with_a_clear_message(users, docs, make_flow, step, message):
    with pytest.raises(ValidationError) as exc:
        make_flow([manager_step("正常"), step])
    assert message in exc.value.messages[0]
    assert not ApprovalFlow.objects.exists()
    assert not ApprovalStep.objects.exists()


def test_disabled_user_cannot_be_configured_as_approver(users, docs, make_flow):
    users["finance"].is_active = False
    users["finance"].save()
    with pytest.raises(ValidationError, match="已停用"):
        make_flow([user_step(users["finance"], "财务审批")])


def test_missing_or_disabled_approver_at_submit_names_the_step(users, docs, make_flow):
    make_flow([user_step(users["finance"], "财务审批")])
    users["finance"].is_active = False
    users["finance"].save()
    with pytest.raises(ValidationError) as exc:
        services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    assert "审批步骤“财务审批”的审批人" in exc.value.messages[0] and "已停用" in exc.value.messages[0]
    assert not ApprovalRequest.objects.exists()


def test_manager_step_without_a_manager_is_refused(users, docs, make_flow):
    make_flow([manager_step("经理审批")])
    with pytest.raises(ValidationError) as exc:
        services.submit(actor=users["finance"], document=docs.make(), kind=KIND)
    assert "审批步骤“经理审批”需要直属上级审批，但申请人" in exc.value.messages[0]
    assert not ApprovalRequest.objects.exists()


def test_a_failing_next_step_keeps_the_current_approval_undone(users, docs, make_flow):
    make_flow([manager_step("经理审批"), role_step("finance", "财务审批")])
    request = services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    users["finance"].is_active = False
    users["finance"].save()
    task = pending(request)[0]
    with pytest.raises(ValidationError, match="审批步骤“财务审批”的角色“财务”下没有在职员工"):
        services.approve(actor=users["manager"], task=task)
    task.refresh_from_db()
    assert task.status == "pending"


def test_negative_document_amount_and_no_flow_are_refused(users, docs, make_flow):
    with pytest.raises(ValidationError, match="没有适用于该测试单据的审批流"):
        services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    make_flow([manager_step()])
    with pytest.raises(ValidationError, match="单据金额不能为负数"):
        services.submit(actor=users["sales1"], document=docs.make("-1"), kind=KIND)
    with pytest.raises(ValidationError, match="未知的单据类型"):
        services.submit(actor=users["sales1"], document=docs.make(), kind="nonsense")
    assert not ApprovalRequest.objects.exists()


def test_steps_of_a_flow_with_pending_requests_cannot_change(users, docs, make_flow):
    flow = make_flow([manager_step()])
    services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
    with pytest.raises(ValidationError, match="有 1 个审批中的申请"):
        services.flow_save(
            actor=users["admin"], flow=flow, name=flow.name, kind=KIND, steps=[user_step(users["finance"])]
        )
    # renaming or reprioritising is fine
    services.flow_save(
        actor=users["admin"], flow=flow, name="改名", kind=KIND, steps=[manager_step()], priority=3
    )
    flow.refresh_from_db()
    assert (flow.name, flow.priority, flow.steps.get().approver_type) == ("改名", 3, "manager")


def test_configuring_needs_the_kinds_permission(users, docs):
    with pytest.raises(PermissionDenied):
        services.flow_save(actor=users["manager"], name="x", kind=KIND, steps=[manager_step()])
    assert services.can_configure(users["administrator"], "contract")
    assert not services.can_configure(users["manager"], "contract")
    assert not ApprovalFlow.objects.exists()


def test_deleting_a_role_used_by_a_step_leaves_a_clear_message_at_submit(users, docs, make_flow):
    from crm.accounts import services as account_services
    from crm.accounts.tests.factories import RoleFactory

    role = RoleFactory(name="法务")
    make_flow([{"name": "法务审批", "approver_type": "role", "approver_role": role}])
    account_services.role_delete(actor=users["admin"], role=role)
    assert ApprovalStep.objects.get().approver_role is None
    with pytest.raises(ValidationError, match="审批步骤“法务审批”没有指定审批角色"):
        services.submit(actor=users["sales1"], document=docs.make(), kind=KIND)
