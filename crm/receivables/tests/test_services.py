"""Rules of payment plans and receivables: what may be registered, when money counts, and that the
contract's received amount can never pass its total."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.access.policy import PermissionRequiredError
from crm.approvals import services as approvals
from crm.approvals.selectors import request_for_document
from crm.audit.models import OperationLog
from crm.contracts.models import Contract
from crm.receivables import services
from crm.receivables.models import PaymentPlan, Receivable
from crm.receivables.tests.conftest import pending_task

TODAY = timezone.localdate


def plan(actor, contract, amount, days=10, **values):
    return services.plan_create(
        actor=actor,
        contract=contract,
        values={"amount": amount, "due_on": TODAY() + timedelta(days=days), **values},
    )


def register(actor, contract, amount, **values):
    return services.receivable_create(actor=actor, contract=contract, values={"amount": amount, **values})


def refreshed(obj):
    obj.refresh_from_db()
    return obj


# ---------------------------------------------------------------- plans


def test_plans_are_numbered_per_contract_and_logged(users, contract, make_contract):
    first = plan(users["sales1"], contract, "3000")
    second = plan(users["sales1"], contract, "2000")
    other = plan(users["sales1"], make_contract(), "100")
    assert (first.number, second.number, other.number) == (1, 2, 1)
    assert first.customer_id == contract.customer_id
    log = OperationLog.objects.get(action="payment_plan.created", target_id=str(first.pk))
    assert log.changes["amount"] == [None, "3000.00"]


def test_plans_may_not_add_up_to_more_than_the_contract_total(users, contract):
    plan(users["sales1"], contract, "6000")
    with pytest.raises(ValidationError) as exc:
        plan(users["sales1"], contract, "4000.01")
    message = " ".join(exc.value.messages)
    assert "¥10000.01" in message and "¥10000.00" in message and "¥4000.00" in message
    assert PaymentPlan.objects.filter(contract=contract).count() == 1
    plan(users["sales1"], contract, "4000")  # exactly the total is fine


def test_plan_update_keeps_the_sum_within_total_and_resets_the_reminder(users, contract):
    first = plan(users["sales1"], contract, "6000")
    plan(users["sales1"], contract, "4000")
    PaymentPlan.objects.filter(pk=first.pk).update(reminded_on=TODAY(), overdue_notified_on=TODAY())
    first.refresh_from_db()
    with pytest.raises(ValidationError, match="超过合同金额"):
        services.plan_update(actor=users["manager"], plan=first, values={"amount": "6000.01"})
    assert refreshed(first).amount == Decimal("6000.00")
    services.plan_update(actor=users["manager"], plan=first, values={"due_on": TODAY() + timedelta(days=40)})
    first.refresh_from_db()
    assert first.reminded_on is None and first.overdue_notified_on is None
    log = OperationLog.objects.get(action="payment_plan.updated", target_id=str(first.pk))
    assert list(log.changes) == ["due_on"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"amount": "0", "due_on": "2030-01-01"}, "金额必须大于 0"),
        ({"amount": "-5", "due_on": "2030-01-01"}, "金额必须大于 0"),
        ({"amount": "abc", "due_on": "2030-01-01"}, "金额必须是数字"),
        ({"amount": "100"}, "请填写计划回款日期"),
        ({"amount": "100", "due_on": "2030-02-30"}, "请输入有效的日期"),
        ({"amount": "100", "due_on": "2030-01-01", "method": "gold"}, "回款方式无效"),
        ({"amount": "100", "due_on": "2030-01-01", "remind_days_before": 999}, "提前提醒天数"),
    ],
)
def test_bad_plan_input_is_refused_with_a_clear_message(users, contract, values, message):
    with pytest.raises(ValidationError) as exc:
        services.plan_create(actor=users["sales1"], contract=contract, values=values)
    assert message in " ".join(exc.value.messages)
    assert not PaymentPlan.objects.exists()


def test_no_plans_on_a_void_contract_but_on_a_draft(users, make_contract):
    with pytest.raises(ValidationError, match="合同已作废"):
        plan(users["sales1"], make_contract(status=Contract.Status.VOID), "100")
    assert plan(users["sales1"], make_contract(status=Contract.Status.DRAFT), "100").number == 1


def test_plan_delete_is_refused_once_money_was_received(users, contract):
    paid = plan(users["sales1"], contract, "3000")
    free = plan(users["sales1"], contract, "3000")
    services.receivable_confirm(
        actor=users["finance"], receivable=register(users["sales1"], contract, "100", plan=paid)
    )
    with pytest.raises(ValidationError, match="已回款 ¥100.00，不能删除"):
        services.plan_delete(actor=users["finance"], plan=refreshed(paid))
    services.plan_delete(actor=users["finance"], plan=free)
    assert list(PaymentPlan.objects.values_list("pk", flat=True)) == [paid.pk]
    assert OperationLog.objects.filter(action="payment_plan.deleted", target_id=str(free.pk)).exists()


def test_plan_writes_need_the_permission_and_a_visible_contract(users, contract, make_contract, customers):
    with pytest.raises(PermissionRequiredError):
        plan(users["norole"], contract, "100")
    others = make_contract(owner=users["sales2"], customer=customers["other"])
    with pytest.raises(PermissionRequiredError):
        plan(users["sales1"], others, "100")
    first = plan(users["sales1"], contract, "100")
    with pytest.raises(PermissionRequiredError):  # the sales role may not edit or delete plans
        services.plan_update(actor=users["sales1"], plan=first, values={"amount": "50"})
    with pytest.raises(PermissionRequiredError):
        services.plan_delete(actor=users["sales1"], plan=first)


# ---------------------------------------------------------------- receivables


@pytest.mark.parametrize(
    "status", [Contract.Status.DRAFT, Contract.Status.PENDING, Contract.Status.REJECTED, Contract.Status.VOID]
)
def test_a_receivable_on_a_contract_not_approved_is_refused(users, make_contract, status):
    contract = make_contract(status=status)
    with pytest.raises(ValidationError) as exc:
        register(users["sales1"], contract, "100")
    assert exc.value.messages == ["合同尚未审批通过，不能登记回款。"]
    assert not Receivable.objects.exists()


def test_a_receivable_gets_a_code_the_contract_owner_and_a_log(users, contract):
    receivable = register(users["finance"], contract, "1200.50", method="wechat", note="首付款")
    assert receivable.code.startswith("HK")
    assert receivable.status == Receivable.Status.DRAFT
    assert (receivable.owner_id, receivable.customer_id, receivable.created_by_id) == (
        users["sales1"].pk,
        contract.customer_id,
        users["finance"].pk,
    )
    assert refreshed(contract).received_amount == 0  # a draft does not count
    log = OperationLog.objects.get(action="receivable.created", target_id=str(receivable.pk))
    assert log.changes["amount"] == [None, "1200.50"]


def test_an_amount_above_the_outstanding_is_refused_and_nothing_changes(users, contract):
    register(users["sales1"], contract, "7000")  # a draft holds 7000 of the 10000
    with pytest.raises(ValidationError) as exc:
        register(users["sales1"], contract, "3000.01")
    message = " ".join(exc.value.messages)
    assert "¥3000.01" in message and "¥3000.00" in message and "待确认 ¥7000.00" in message
    assert Receivable.objects.count() == 1
    assert refreshed(contract).received_amount == 0
    register(users["sales1"], contract, "3000")


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "金额必须大于 0"), ("-1", "金额必须大于 0"), ("", "请填写金额"), ("x", "金额必须是数字")],
)
def test_bad_amounts_are_refused(users, contract, amount, message):
    with pytest.raises(ValidationError, match=message):
        register(users["sales1"], contract, amount)
    assert not Receivable.objects.exists()


def test_the_plan_must_belong_to_the_contract(users, contract, make_contract):
    foreign = plan(users["sales1"], make_contract(), "100")
    with pytest.raises(ValidationError, match="不属于合同"):
        register(users["sales1"], contract, "100", plan=foreign)
    assert not Receivable.objects.exists()


def test_a_future_receipt_date_is_refused(users, contract):
    with pytest.raises(ValidationError, match="回款日期不能晚于今天"):
        register(users["sales1"], contract, "100", received_on=TODAY() + timedelta(days=1))


def test_amounts_are_rounded_half_up_to_the_fen(users, contract):
    receivable = register(users["sales1"], contract, "100.005")
    assert refreshed(receivable).amount == Decimal("100.01")
    with pytest.raises(ValidationError, match="金额必须大于 0"):
        register(users["sales1"], contract, "0.004")  # rounds to 0.00
    first = plan(users["sales1"], contract, "2.675")
    assert refreshed(first).amount == Decimal("2.68")


def test_submit_without_a_flow_keeps_the_draft_and_confirm_books_it(users, contract):
    first = plan(users["sales1"], contract, "4000")
    receivable = register(users["sales1"], contract, "2500", plan=first)
    with pytest.raises(ValidationError, match="没有适用于该回款的审批流"):
        services.receivable_submit(actor=users["sales1"], receivable=receivable)
    assert refreshed(receivable).status == Receivable.Status.DRAFT
    assert not services.can_confirm(users["sales1"], receivable)  # no receivables.approve
    assert services.can_confirm(users["finance"], receivable)
    with pytest.raises(PermissionRequiredError):
        services.receivable_confirm(actor=users["sales1"], receivable=receivable)
    services.receivable_confirm(actor=users["finance"], receivable=receivable)
    receivable.refresh_from_db()
    assert receivable.status == Receivable.Status.APPROVED and receivable.approved_at is not None
    assert refreshed(contract).received_amount == Decimal("2500.00")
    assert refreshed(first).received_amount == Decimal("2500.00")
    log = OperationLog.objects.get(action="receivable.confirmed", target_id=str(receivable.pk))
    assert log.changes["status"] == ["draft", "approved"]
    assert log.changes["contract_received"] == ["0.00", "2500.00"]


def test_confirm_is_refused_when_a_flow_is_configured(users, contract, flow):
    receivable = register(users["sales1"], contract, "100")
    assert not services.can_confirm(users["finance"], receivable)
    with pytest.raises(ValidationError, match="请提交审批"):
        services.receivable_confirm(actor=users["finance"], receivable=receivable)
    assert refreshed(receivable).status == Receivable.Status.DRAFT


def test_approval_through_the_engine_books_the_money(users, contract, flow):
    first = plan(users["sales1"], contract, "5000")
    receivable = register(users["sales1"], contract, "5000", plan=first)
    services.receivable_submit(actor=users["sales1"], receivable=receivable)
    assert refreshed(receivable).status == Receivable.Status.PENDING
    assert refreshed(contract).received_amount == 0
    with pytest.raises(ValidationError, match="当前状态为“审批中”"):
        services.receivable_submit(actor=users["sales1"], receivable=receivable)
    with pytest.raises(ValidationError, match="只有草稿或已驳回的回款可以修改"):
        services.receivable_update(actor=users["finance"], receivable=receivable, values={"amount": "1"})
    task = pending_task(receivable)
    approvals.approve(actor=task.approver, task=task)
    receivable.refresh_from_db()
    assert receivable.status == Receivable.Status.APPROVED
    assert refreshed(contract).received_amount == Decimal("5000.00")
    assert refreshed(first).received_amount == Decimal("5000.00")
    log = OperationLog.objects.get(action="receivable.approved", target_id=str(receivable.pk))
    assert log.actor_id == users["finance"].pk
    with pytest.raises(ValidationError, match="只有草稿或已驳回的回款可以删除"):
        services.receivable_delete(actor=users["finance"], receivable=receivable)


def test_rejection_allows_edit_and_resubmit(users, contract, flow):
    receivable = register(users["sales1"], contract, "800")
    services.receivable_submit(actor=users["sales1"], receivable=receivable)
    task = pending_task(receivable)
    approvals.reject(actor=task.approver, task=task, comment="未到账")
    assert refreshed(receivable).status == Receivable.Status.REJECTED
    services.receivable_update(actor=users["finance"], receivable=receivable, values={"amount": "750"})
    log = OperationLog.objects.get(action="receivable.updated", target_id=str(receivable.pk))
    assert log.changes["amount"] == ["800.00", "750.00"]
    services.receivable_submit(actor=users["sales1"], receivable=receivable)
    assert refreshed(receivable).status == Receivable.Status.PENDING
    task = pending_task(receivable)
    approvals.approve(actor=task.approver, task=task)
    assert refreshed(contract).received_amount == Decimal("750.00")


def test_withdrawing_the_request_makes_it_a_draft_again(users, contract, flow):
    receivable = register(users["sales1"], contract, "800")
    services.receivable_submit(actor=users["sales1"], receivable=receivable)
    approvals.withdraw(actor=users["sales1"], request=request_for_document(receivable))
    assert refreshed(receivable).status == Receivable.Status.DRAFT


def test_two_approvals_that_fit_alone_but_not_together_book_only_the_first(users, contract, flow):
    """Each receivable fits the outstanding alone; approving the second after the first would pass
    the total: the approval is refused, rolled back whole, and nothing more is booked."""
    first = register(users["sales1"], contract, "6000")
    services.receivable_submit(actor=users["sales1"], receivable=first)
    # The second was registered while the first was rejected (it left room for both then).
    task = pending_task(first)
    approvals.reject(actor=task.approver, task=task, comment="金额待核对")
    second = register(users["sales1"], contract, "6000")
    services.receivable_submit(actor=users["sales1"], receivable=second)
    # The first is resubmitted through the engine's own resubmit (which does not re-check amounts).
    approvals.resubmit(actor=users["sales1"], request=request_for_document(first))
    assert refreshed(first).status == Receivable.Status.PENDING

    task = pending_task(first)
    approvals.approve(actor=task.approver, task=task)
    assert refreshed(contract).received_amount == Decimal("6000.00")

    task = pending_task(second)
    with pytest.raises(ValidationError, match="超过合同“.*”未回款金额 ¥4000.00"):
        approvals.approve(actor=task.approver, task=task)
    assert refreshed(contract).received_amount == Decimal("6000.00")
    assert refreshed(second).status == Receivable.Status.PENDING
    assert pending_task(second) is not None  # the approval itself rolled back; it can be rejected
    assert refreshed(contract).received_amount <= contract.total


def test_receivable_writes_need_permissions(users, contract, make_contract, customers):
    with pytest.raises(PermissionRequiredError):
        register(users["norole"], contract, "100")
    with pytest.raises(PermissionRequiredError):
        register(users["sales2"], contract, "100")  # sales2 cannot see sales1's contract
    receivable = register(users["sales1"], contract, "100")
    with pytest.raises(PermissionRequiredError):
        services.receivable_delete(actor=users["sales1"], receivable=receivable)
    services.receivable_delete(actor=users["finance"], receivable=receivable)
    assert not Receivable.objects.exists()
    assert OperationLog.objects.filter(action="receivable.deleted", target_id=str(receivable.pk)).exists()
