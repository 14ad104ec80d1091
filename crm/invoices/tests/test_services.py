from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.access.policy import PermissionRequiredError
from crm.audit.models import OperationLog
from crm.contracts.models import Contract
from crm.invoices import services
from crm.invoices.models import Invoice
from crm.messaging.models import Notification

pytestmark = pytest.mark.django_db
ISSUED_ON = date(2026, 11, 20)


def _reload(contract):
    contract.refresh_from_db()
    return contract.invoiced_amount


# ---------------------------------------------------------------- tax


@pytest.mark.parametrize(
    ("amount", "rate", "tax"),
    [
        ("100.00", "13", "11.50"),  # 11.504… (rounding down)
        ("113.00", "13", "13.00"),
        ("106.00", "6", "6.00"),
        ("0.01", "100", "0.01"),  # 0.005: half-up 0.01, banker's 0.00
        ("10.05", "100", "5.03"),  # 5.025: half-up 5.03, banker's 5.02
        ("1.40", "60", "0.53"),  # 0.525: half-up 0.53, banker's 0.52
        ("500.00", "0", "0.00"),
    ],
)
def test_tax_is_contained_in_the_amount_and_rounded_half_up(amount, rate, tax):
    assert services.tax_of(Decimal(amount), Decimal(rate)) == Decimal(tax)


def test_request_stores_the_half_up_tax_and_the_defaults(users, contract, request_invoice):
    invoice = request_invoice(contract, "10.05", tax_percent="100")
    assert invoice.tax_amount == Decimal("5.03")
    invoice = request_invoice(contract, "100.00")
    assert invoice.tax_percent == Decimal("13.00") and invoice.tax_amount == Decimal("11.50")
    assert invoice.title == "深圳华创科技有限公司" and invoice.tax_number == "91440300MA5F0XXX1E"
    assert invoice.code.startswith("FP") and invoice.status == Invoice.Status.REQUESTED
    assert invoice.owner == users["sales1"] and invoice.customer_id == contract.customer_id
    assert invoice.kind == Invoice.Kind.SPECIAL
    assert OperationLog.objects.filter(action="invoice.requested", target_id=str(invoice.pk)).exists()


# ---------------------------------------------------------------- totals


def test_invoices_never_exceed_the_contract_and_void_frees_room(users, contract, request_invoice):
    first = request_invoice(contract, "600.00")
    assert _reload(contract) == Decimal("600.00")
    with pytest.raises(ValidationError) as exc:
        request_invoice(contract, "400.01")
    assert "最多还可申请 ¥400.00" in " ".join(exc.value.messages)
    assert Invoice.objects.count() == 1 and _reload(contract) == Decimal("600.00")
    request_invoice(contract, "400.00")  # exactly the rest
    assert _reload(contract) == contract.total
    with pytest.raises(ValidationError):
        request_invoice(contract, "0.01")
    services.invoice_void(actor=users["finance"], invoice=first, reason="金额有误")
    assert _reload(contract) == Decimal("400.00")
    request_invoice(contract, "600.00")
    assert _reload(contract) == Decimal("1000.00")
    live = Invoice.objects.exclude(status=Invoice.Status.VOID)
    assert sum(i.amount for i in live) == contract.total


def test_issued_and_mailed_invoices_still_count(users, issued_invoice, contract, request_invoice):
    services.invoice_mail(
        actor=users["finance"], invoice=issued_invoice, tracking_number="SF1234567890", mailed_on=ISSUED_ON
    )
    with pytest.raises(ValidationError):
        request_invoice(contract, "700.01")
    assert _reload(contract) == Decimal("300.00")
    services.invoice_void(actor=users["finance"], invoice=issued_invoice, reason="客户抬头错误")
    assert _reload(contract) == Decimal("0.00")


@pytest.mark.parametrize(
    "status",
    [Contract.Status.DRAFT, Contract.Status.PENDING, Contract.Status.REJECTED, Contract.Status.VOID],
)
def test_invoice_on_a_contract_not_yet_effective_is_refused(make_contract, request_invoice, status):
    contract = make_contract(status=status)
    with pytest.raises(ValidationError) as exc:
        request_invoice(contract, "10.00")
    assert "尚未审批通过" in exc.value.messages[0]
    assert not Invoice.objects.exists() and _reload(contract) == 0


def test_done_contracts_may_be_invoiced(make_contract, request_invoice):
    contract = make_contract(status=Contract.Status.DONE)
    assert request_invoice(contract, "10.00").status == Invoice.Status.REQUESTED


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"amount": ""}, "amount", "请填写开票金额"),
        ({"amount": "abc"}, "amount", "必须是数字"),
        ({"amount": "0"}, "amount", "必须大于 0"),
        ({"amount": "-5"}, "amount", "必须大于 0"),
        ({"amount": "1.234"}, "amount", "最多两位小数"),
        ({"amount": "10", "tax_percent": "101"}, "tax_percent", "0 到 100"),
        ({"amount": "10", "kind": "fake"}, "kind", "发票类型无效"),
        ({"amount": "10", "tax_number": "12#"}, "tax_number", "纳税人识别号"),
        ({"amount": "10", "title": "甲" * 201}, "title", "200"),
    ],
)
def test_bad_request_input_changes_nothing(users, contract, values, field, message):
    with pytest.raises(ValidationError) as exc:
        services.invoice_request(actor=users["sales1"], contract=contract, values=values)
    assert message in " ".join(exc.value.message_dict[field])
    assert not Invoice.objects.exists() and _reload(contract) == 0
    assert not OperationLog.objects.filter(action__startswith="invoice.").exists()


def test_special_invoice_needs_a_tax_number(users, make_contract, customers):
    contract = make_contract(owner=users["sales2"], customer=customers["other"])  # no credit code
    with pytest.raises(ValidationError) as exc:
        services.invoice_request(actor=users["sales2"], contract=contract, values={"amount": "10"})
    assert "纳税人识别号" in exc.value.message_dict["tax_number"][0]
    invoice = services.invoice_request(
        actor=users["sales2"], contract=contract, values={"amount": "10", "kind": "normal"}
    )
    assert invoice.tax_number == "" and invoice.title == "上海远航贸易有限公司"


# ---------------------------------------------------------------- transitions


def test_issue_mail_void_walk_and_notify_the_owner(users, contract, request_invoice):
    invoice = request_invoice(contract, "300.00")
    finance = users["finance"]
    services.invoice_issue(actor=finance, invoice=invoice, invoice_number="12345678", issued_on=ISSUED_ON)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED and invoice.invoice_number == "12345678"
    assert invoice.issued_on == ISSUED_ON
    note = Notification.objects.get(recipient=users["sales1"])
    assert invoice.code in note.title and note.url == f"/invoices/{invoice.pk}/"
    log = OperationLog.objects.get(action="invoice.issued")
    assert log.changes["status"] == ["requested", "issued"]
    services.invoice_mail(actor=finance, invoice=invoice, tracking_number="SF1234567890", mailed_on=ISSUED_ON)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.MAILED and invoice.tracking_number == "SF1234567890"
    services.invoice_void(actor=finance, invoice=invoice, reason="退票")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID and invoice.void_reason == "退票"
    assert OperationLog.objects.get(action="invoice.voided").changes["status"] == ["mailed", "void"]


def test_only_allowed_transitions(users, contract, request_invoice):
    finance = users["finance"]
    invoice = request_invoice(contract, "100.00")
    with pytest.raises(ValidationError, match="当前状态为“已申请”"):
        services.invoice_mail(actor=finance, invoice=invoice, tracking_number="SF123456", mailed_on=ISSUED_ON)
    services.invoice_issue(actor=finance, invoice=invoice, invoice_number="12345678", issued_on=ISSUED_ON)
    with pytest.raises(ValidationError, match="当前状态为“已开票”"):
        services.invoice_issue(actor=finance, invoice=invoice, invoice_number="87654321", issued_on=ISSUED_ON)
    services.invoice_void(actor=finance, invoice=invoice, reason="重开")
    for call in (
        lambda: services.invoice_void(actor=finance, invoice=invoice, reason="再次"),
        lambda: services.invoice_issue(
            actor=finance, invoice=invoice, invoice_number="87654321", issued_on=ISSUED_ON
        ),
        lambda: services.invoice_mail(
            actor=finance, invoice=invoice, tracking_number="SF123456", mailed_on=ISSUED_ON
        ),
    ):
        with pytest.raises(ValidationError, match="当前状态为“已作废”"):
            call()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID and invoice.invoice_number == "12345678"
    assert _reload(contract) == 0


def test_a_stale_copy_cannot_skip_the_lock(users, contract, request_invoice):
    invoice = request_invoice(contract, "100.00")
    stale = Invoice.objects.get(pk=invoice.pk)
    services.invoice_void(actor=users["finance"], invoice=invoice, reason="作废")
    with pytest.raises(ValidationError, match="已作废"):
        services.invoice_void(actor=users["finance"], invoice=stale, reason="再次")
    assert _reload(contract) == 0  # subtracted once


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("12345678", True),
        ("12345678901234567890", True),
        (" 1234 5678 ", True),
        ("1234567", False),
        ("123456789", False),
        ("1234567890123456789", False),
        ("1234567A", False),
        ("", False),
    ],
)
def test_invoice_number_has_8_or_20_digits(users, contract, request_invoice, number, ok):
    invoice = request_invoice(contract, "100.00")
    call = lambda: services.invoice_issue(  # noqa: E731
        actor=users["finance"], invoice=invoice, invoice_number=number, issued_on=ISSUED_ON
    )
    if ok:
        call()
        invoice.refresh_from_db()
        assert invoice.invoice_number == number.replace(" ", "")
    else:
        with pytest.raises(ValidationError) as exc:
            call()
        assert "发票号码" in exc.value.message_dict["invoice_number"][0]
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.REQUESTED and invoice.invoice_number == ""


def test_invoice_number_unique_among_live_invoices(users, contract, request_invoice, issued_invoice):
    second = request_invoice(contract, "100.00")
    with pytest.raises(ValidationError) as exc:
        services.invoice_issue(
            actor=users["finance"], invoice=second, invoice_number="12345678", issued_on=ISSUED_ON
        )
    assert issued_invoice.code in exc.value.message_dict["invoice_number"][0]
    second.refresh_from_db()
    assert second.status == Invoice.Status.REQUESTED
    services.invoice_void(actor=users["finance"], invoice=issued_invoice, reason="号码作废重开")
    services.invoice_issue(
        actor=users["finance"], invoice=second, invoice_number="12345678", issued_on=ISSUED_ON
    )
    second.refresh_from_db()
    assert second.invoice_number == "12345678"


def test_issue_and_mail_dates(users, issued_invoice):
    finance = users["finance"]
    tomorrow = timezone.localdate() + timedelta(days=2)
    with pytest.raises(ValidationError, match="早于开票日期"):
        services.invoice_mail(
            actor=finance,
            invoice=issued_invoice,
            tracking_number="SF123456",
            mailed_on=ISSUED_ON - timedelta(1),
        )
    with pytest.raises(ValidationError, match="不能晚于今天"):
        services.invoice_mail(
            actor=finance, invoice=issued_invoice, tracking_number="SF123456", mailed_on=tomorrow
        )
    with pytest.raises(ValidationError, match="快递单号"):
        services.invoice_mail(actor=finance, invoice=issued_invoice, tracking_number="", mailed_on=ISSUED_ON)
    issued_invoice.refresh_from_db()
    assert issued_invoice.status == Invoice.Status.ISSUED and issued_invoice.mailed_on is None


def test_void_needs_a_reason(users, issued_invoice, contract):
    with pytest.raises(ValidationError, match="作废原因"):
        services.invoice_void(actor=users["finance"], invoice=issued_invoice, reason="  ")
    issued_invoice.refresh_from_db()
    assert issued_invoice.status == Invoice.Status.ISSUED and _reload(contract) == Decimal("300.00")


# ---------------------------------------------------------------- permissions


def test_salesperson_cannot_issue_mail_or_void(users, contract, request_invoice, issued_invoice):
    invoice = request_invoice(contract, "100.00")
    with pytest.raises(PermissionRequiredError):
        services.invoice_issue(
            actor=users["sales1"], invoice=invoice, invoice_number="11112222", issued_on=ISSUED_ON
        )
    with pytest.raises(PermissionRequiredError):
        services.invoice_mail(
            actor=users["sales1"], invoice=issued_invoice, tracking_number="SF123456", mailed_on=ISSUED_ON
        )
    with pytest.raises(PermissionRequiredError):
        services.invoice_void(actor=users["sales1"], invoice=invoice, reason="x")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.REQUESTED


def test_request_needs_the_permission_and_a_visible_contract(users, contract, other_contract):
    with pytest.raises(PermissionRequiredError):  # sales2 cannot see sales1's contract
        services.invoice_request(actor=users["sales2"], contract=contract, values={"amount": "1"})
    with pytest.raises(PermissionRequiredError):  # no invoices.create
        services.invoice_request(actor=users["norole"], contract=contract, values={"amount": "1"})
    assert not Invoice.objects.exists()
    # finance (全部, invoices.create) may request on anyone's contract
    assert services.invoice_request(
        actor=users["finance"], contract=other_contract, values={"amount": "1", "kind": "normal"}
    )
