"""Demo invoices for seed_demo, made through the services (checked, rounded and logged like real
ones): on each approved demo contract that has no invoice yet, one invoice issued and mailed (30 %
of the contract) and one requested (20 %). Runs after crm/contracts/demo.py; with no approved
contract it does nothing. Idempotent: contracts that already have invoices are skipped."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from crm.accounts.models import User
from crm.contracts.models import Contract
from crm.core.money import to_fen
from crm.invoices import services
from crm.invoices.models import Invoice

LIMIT = 10


def _finance_user():
    """Who issues the demo invoices: the demo accountant, else any super admin."""
    from crm.access import policy

    candidates = list(
        User.objects.filter(is_active=True, username__in=["finance", "admin"]).order_by("username")
    )
    candidates += list(User.objects.filter(is_active=True, roles__is_super=True).order_by("pk")[:1])
    for user in candidates:
        if policy.can(user, "invoices.approve") and policy.can(user, "contracts.view"):
            return user
    return None


@transaction.atomic
def seed_invoices(*, limit: int = LIMIT) -> int:
    """Create the demo invoices once; returns how many were created."""
    finance = _finance_user()
    if finance is None:
        return 0
    contracts = list(
        Contract.objects.filter(status=Contract.Status.APPROVED, total__gt=0, invoiced_amount=0)
        .exclude(pk__in=Invoice.objects.values("contract_id"))
        .select_related("customer", "owner")
        .order_by("pk")[:limit]
    )
    today = timezone.localdate()
    created = 0
    for contract in contracts:
        first = to_fen(contract.total * Decimal("0.3"))
        second = to_fen(contract.total * Decimal("0.2"))
        if first <= 0 or second <= 0:
            continue
        kind = Invoice.Kind.SPECIAL if contract.customer.credit_code else Invoice.Kind.NORMAL
        issued = services.invoice_request(
            actor=finance, contract=contract, values={"amount": first, "kind": kind, "note": "首期款发票"}
        )
        services.invoice_issue(
            actor=finance,
            invoice=issued,
            invoice_number=f"{26000000 + contract.pk:08d}"[-8:],
            issued_on=today - timedelta(days=7),
        )
        services.invoice_mail(
            actor=finance,
            invoice=issued,
            tracking_number=f"SF{1400000000 + contract.pk:010d}",
            mailed_on=today - timedelta(days=6),
        )
        services.invoice_request(
            actor=finance, contract=contract, values={"amount": second, "kind": kind, "note": "二期款发票"}
        )
        created += 2
    return created


def seed() -> None:
    seed_invoices()
