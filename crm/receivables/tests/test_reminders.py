"""The daily job tells the contract owner once about a plan coming due and once when it is overdue."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from crm.audit.models import OperationLog
from crm.contracts.models import Contract
from crm.messaging.models import Notification
from crm.receivables import services, tasks
from crm.receivables.models import PaymentPlan


def make_plan(contract, number, due_in, *, amount="1000", received="0", remind=3):
    return PaymentPlan.objects.create(
        contract=contract,
        customer_id=contract.customer_id,
        number=number,
        amount=Decimal(amount),
        received_amount=Decimal(received),
        due_on=timezone.localdate() + timedelta(days=due_in),
        remind_days_before=remind,
    )


def titles(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("title", flat=True))


def test_plans_coming_due_and_overdue_are_notified_once(users, make_contract):
    contract = make_contract()
    soon = make_plan(contract, 1, 3)  # within its 3 days
    make_plan(contract, 2, 4)  # not yet
    wide = make_plan(contract, 3, 10, remind=10)  # its own window of 10 days
    late = make_plan(contract, 4, -1)
    make_plan(contract, 5, -5, received="1000")  # fully received: nothing to say
    draft = make_contract(status=Contract.Status.DRAFT)
    make_plan(draft, 1, -1)  # not an effective contract

    assert tasks.remind_payment_plans.call_local() == (2, 1)

    code = contract.code
    assert titles(users["sales1"]) == sorted(
        [f"回款提醒：{code} 第 1 期", f"回款提醒：{code} 第 3 期", f"回款逾期：{code} 第 4 期"]
    )
    body = Notification.objects.get(title=f"回款逾期：{code} 第 4 期").body
    assert "已逾期未回款 ¥1000.00" in body
    today = timezone.localdate()
    assert set(PaymentPlan.objects.filter(reminded_on=today).values_list("pk", flat=True)) == {
        soon.pk,
        wide.pk,
    }
    assert list(PaymentPlan.objects.filter(overdue_notified_on=today).values_list("pk", flat=True)) == [
        late.pk
    ]
    assert OperationLog.objects.filter(action="payment_plan.reminded").count() == 2

    # Idempotent: a second run (same day or later) tells nobody again.
    assert services.plans_remind() == (0, 0)
    assert services.plans_remind(today=today + timedelta(days=1)) == (1, 0)  # plan 2 enters its window
    assert Notification.objects.filter(recipient=users["sales1"]).count() == 4


def test_a_plan_coming_due_then_overdue_gets_both_messages_once(users, make_contract):
    contract = make_contract()
    plan = make_plan(contract, 1, 2)
    today = timezone.localdate()
    assert services.plans_remind(today=today) == (1, 0)
    assert services.plans_remind(today=today + timedelta(days=3)) == (0, 1)
    assert services.plans_remind(today=today + timedelta(days=4)) == (0, 0)
    plan.refresh_from_db()
    assert plan.reminded_on == today and plan.overdue_notified_on == today + timedelta(days=3)
