"""Fixtures of the invoice tests: customers made through the services, contracts written directly
(status approved etc.), and helpers to request / issue invoices."""

from datetime import date
from decimal import Decimal

import pytest

from crm.contracts.models import Contract
from crm.customers import services as customer_services
from crm.invoices import services

CREDIT_CODE = "91440300MA5F0XXX1E"


@pytest.fixture
def customers(users):
    """One customer of sales1 (with a credit code) and one of sales2 (sales1 cannot see it)."""
    return {
        "mine": customer_services.customer_create(
            actor=users["sales1"], values={"name": "深圳华创科技有限公司", "credit_code": CREDIT_CODE}
        ),
        "other": customer_services.customer_create(
            actor=users["sales2"], values={"name": "上海远航贸易有限公司"}
        ),
    }


_counter = iter(range(1, 10_000_000))


@pytest.fixture
def make_contract(users, customers):
    def make(*, owner=None, customer=None, total="1000.00", status=Contract.Status.APPROVED, **extra):
        owner = owner or users["sales1"]
        number = next(_counter)
        return Contract.objects.create(
            code=f"HT-T{number:05d}",
            name=f"测试合同 {number}",
            customer=customer or customers["mine"],
            owner=owner,
            department_id=owner.department_id,
            status=status,
            signed_on=date(2026, 11, 1),
            total=Decimal(total),
            **extra,
        )

    return make


@pytest.fixture
def contract(make_contract):
    return make_contract()


@pytest.fixture
def other_contract(make_contract, users, customers):
    return make_contract(owner=users["sales2"], customer=customers["other"])


@pytest.fixture
def request_invoice(users):
    def make(contract, amount="100.00", actor=None, **values):
        values["amount"] = amount
        return services.invoice_request(actor=actor or contract.owner, contract=contract, values=values)

    return make


@pytest.fixture
def issued_invoice(users, contract, request_invoice):
    invoice = request_invoice(contract, "300.00")
    return services.invoice_issue(
        actor=users["finance"], invoice=invoice, invoice_number="12345678", issued_on=date(2026, 11, 20)
    )
