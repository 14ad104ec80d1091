"""Concurrent requests on one contract (PostgreSQL, real threads): the contract row lock keeps the
non-void invoices within the contract's amount; two issues with one number: one wins."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from crm.accounts.models import User
from crm.contracts.models import Contract
from crm.customers.tests.test_pool_concurrency import run_at_once
from crm.invoices import services
from crm.invoices.models import Invoice

# Skipped at collection on SQLite (SQLite serialises writers: nothing to race). No serialized
# rollback: conftest restores the data-migration rows after each flush.
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def _skip_unless_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL; SQLite serialises writers")


def test_concurrent_requests_never_exceed_the_contract(users, contract):
    _skip_unless_postgres()

    def job():
        actor = User.objects.get(pk=users["sales1"].pk)
        fresh = Contract.objects.select_related("customer").get(pk=contract.pk)
        return services.invoice_request(actor=actor, contract=fresh, values={"amount": "300.00"}).pk

    results = run_at_once([job for _ in range(6)])
    assert [r[0] for r in results].count("ok") == 3, results
    assert all(r[0] in ("ok", "refused") for r in results), results
    contract.refresh_from_db()
    assert contract.invoiced_amount == Decimal("900.00") == sum(i.amount for i in Invoice.objects.all())


def test_concurrent_issues_with_one_number(users, contract, request_invoice):
    _skip_unless_postgres()
    ids = [request_invoice(contract, "100.00").pk for _ in range(4)]

    def job_for(pk):
        def job():
            actor = User.objects.get(pk=users["finance"].pk)
            invoice = Invoice.objects.get(pk=pk)
            return services.invoice_issue(
                actor=actor, invoice=invoice, invoice_number="12345678", issued_on=date(2026, 11, 20)
            ).pk

        return job

    results = run_at_once([job_for(pk) for pk in ids])
    assert [r[0] for r in results].count("ok") == 1, results
    assert all(r[0] in ("ok", "refused") for r in results), results
    assert Invoice.objects.filter(invoice_number="12345678").count() == 1
