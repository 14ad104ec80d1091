"""seed_demo adds plans and receivables to the approved demo contracts once."""

from django.core.management import call_command

from crm.contracts.models import Contract
from crm.receivables import demo
from crm.receivables.models import PaymentPlan, Receivable


def test_seed_demo_adds_plans_and_receivables_once(db):
    call_command("seed_demo")
    approved = Contract.objects.filter(status=Contract.Status.APPROVED).count()
    assert approved >= 1
    plans = PaymentPlan.objects.count()
    assert plans >= 2 * approved
    statuses = list(Receivable.objects.values_list("status", flat=True))
    assert statuses.count("approved") == approved and statuses.count("pending") >= 1
    for contract in Contract.objects.filter(status=Contract.Status.APPROVED):
        assert contract.received_amount > 0
        assert contract.received_amount <= contract.total
        assert sum(p.amount for p in contract.payment_plans.all()) == contract.total
    call_command("seed_demo")
    assert demo.seed() == 0
    assert PaymentPlan.objects.count() == plans


def test_seed_without_contracts_does_nothing(db):
    assert demo.seed() == 0
    assert not PaymentPlan.objects.exists()
