import pytest

from crm.audit.models import OperationLog
from crm.invoices import demo
from crm.invoices.models import Invoice

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_skips_without_contracts(users, make_contract):
    assert demo.seed_invoices() == 0  # no approved contract yet
    contract = make_contract(total="10000.00")
    make_contract(status="draft")
    demo.seed()
    demo.seed()
    invoices = list(Invoice.objects.order_by("pk"))
    assert [i.status for i in invoices] == ["mailed", "requested"]
    assert [str(i.amount) for i in invoices] == ["3000.00", "2000.00"]
    assert all(i.contract_id == contract.pk for i in invoices)
    contract.refresh_from_db()
    assert str(contract.invoiced_amount) == "5000.00"
    assert OperationLog.objects.filter(action="invoice.issued").count() == 1
