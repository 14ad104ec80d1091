"""Contract services: lines and money, validation, approval with credit control, lock, revise, void,
from-quote."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.access.policy import PermissionRequiredError
from crm.approvals.models import ApprovalFlow, ApprovalRequest
from crm.audit.models import OperationLog
from crm.contracts import services, signals
from crm.contracts.models import Contract, ContractLine, ContractSettings
from crm.contracts.tests.conftest import pending_task
from crm.customers import services as customer_services
from crm.customers.models import Customer, DictionaryItem
from crm.quotes import services as quote_services
from crm.quotes.models import Quote

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- create, lines, money


def test_create_prices_lines_rounds_half_up_and_counts_points(users, catalog, make_contract):
    contract = make_contract(
        lines=[
            {"product": catalog["pen"].pk, "quantity": "3", "discount_percent": "5"},
            {"product": catalog["lock"].pk, "quantity": "2.5"},
        ],
        tax_percent="13",
    )
    assert contract.code.startswith("HT")
    assert contract.status == Contract.Status.DRAFT
    pen, lock = list(contract.lines.order_by("order"))
    # 3 × 33.34 = 100.02; less 5 % = 95.019; plus 13 % = 107.37147 → 107.37
    assert pen.amount == Decimal("107.37")
    assert lock.amount == Decimal("3669.68")  # 2.5 × 1299 × 1.13 = 3669.675 → 3669.68
    contract.refresh_from_db()
    assert contract.total == pen.amount + lock.amount
    assert lock.points == 17  # 7 points × 2.5 = 17.5 → 17 (rounded down)
    assert pen.points == 0


def test_create_without_permission_is_refused(users, customers):
    with pytest.raises(PermissionRequiredError):
        services.contract_create(
            actor=users["norole"], values={"name": "x", "customer": customers["mine"]}, lines=[]
        )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"lines": [{"quantity": "-1"}]}, "lines", "数量必须大于 0"),
        ({"lines": [{"discount_percent": "50"}]}, "lines", "成交价不能低于"),
        ({"start_on": "2026-05-01", "end_on": "2026-04-01"}, "end_on", "结束日期不能早于开始日期"),
        ({"name": ""}, "name", "请填写合同名称"),
    ],
)
def test_bad_input_changes_nothing(users, catalog, customers, change, field, message):
    from datetime import date

    values = {"name": "合同", "customer": customers["mine"]}
    lines = [{"product": catalog["lock"].pk, "quantity": "1"}]
    for key, value in change.items():
        if key == "lines":
            lines = [lines[0] | value[0]]
        elif key.endswith("_on"):
            values[key] = date.fromisoformat(value)
        else:
            values[key] = value
    before = (Contract.objects.count(), ContractLine.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.contract_create(actor=users["sales1"], values=values, lines=lines)
    assert field in exc.value.message_dict
    assert message in " ".join(exc.value.messages)
    assert (Contract.objects.count(), ContractLine.objects.count()) == before


def test_customer_contact_and_opportunity_must_match(users, catalog, customers, make_contract):
    with pytest.raises(ValidationError, match="只能给您可以查看的客户签订合同"):
        make_contract(customer=customers["other"])
    contact = customer_services.contact_create(
        actor=users["sales2"], customer=customers["other"], values={"name": "赵六"}
    )
    with pytest.raises(ValidationError, match="不属于客户"):
        make_contract(contact=contact)
    from crm.opportunities import services as opp_services
    from crm.opportunities.demo import ensure_default_group

    ensure_default_group()
    opp = opp_services.opportunity_create(
        actor=users["sales2"],
        values={"name": "远航项目", "customer": customers["other"], "expected_amount": Decimal("100")},
    )
    with pytest.raises(ValidationError, match="商机“远航项目”不属于客户"):
        make_contract(opportunity=opp)
    assert Contract.objects.count() == 0


# ---------------------------------------------------------------- approval


def test_submit_needs_a_line_and_a_flow(users, make_contract):
    empty = make_contract(lines=[])
    with pytest.raises(ValidationError, match="至少需要一行产品明细"):
        services.contract_submit(actor=users["sales1"], contract=empty)
    contract = make_contract()
    with pytest.raises(ValidationError, match="没有适用于该合同的审批流"):
        services.contract_submit(actor=users["sales1"], contract=contract)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.DRAFT
    assert contract.submitted_at is None
    assert not ApprovalRequest.objects.exists()


def test_two_step_approval_makes_contract_effective(users, flows, make_contract, decide):
    signed = DictionaryItem.objects.create(kind=DictionaryItem.Kind.STATUS, name="已成交客户")
    ContractSettings.objects.update_or_create(pk=1, defaults={"status_on_approval": signed})
    received = []
    signals.contract_approved.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t1")
    try:
        contract = make_contract(kind=Contract.Kind.ORDER)
        services.contract_submit(actor=users["sales1"], contract=contract)
        contract.refresh_from_db()
        assert contract.status == Contract.Status.PENDING
        decide(contract, users["manager"])
        assert contract.status == Contract.Status.PENDING  # finance still has to agree
        assert received == []
        decide(contract, users["finance"])
    finally:
        signals.contract_approved.disconnect(dispatch_uid="t1")
    assert contract.status == Contract.Status.APPROVED
    assert contract.approved_at is not None
    assert contract.order_status == Contract.OrderStatus.CONFIRMED
    customer = Customer.objects.get(pk=contract.customer_id)
    assert customer.last_deal_at is not None
    assert customer.status == signed
    assert OperationLog.objects.filter(action="customer.status_changed", target_id=customer.pk).exists()
    assert len(received) == 1
    assert received[0]["contract"].pk == contract.pk
    assert received[0]["actor"] == users["sales1"]


def test_approval_cannot_be_skipped_or_decided_by_someone_else(users, flows, make_contract):
    from crm.approvals import services as approvals

    contract = make_contract()
    services.contract_submit(actor=users["sales1"], contract=contract)
    task = pending_task(contract)
    assert task.approver == users["manager"]
    for intruder in (users["sales1"], users["sales2"], users["finance"]):
        with pytest.raises(PermissionDenied):
            approvals.approve(actor=intruder, task=task)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING


def test_rejection_then_resubmit(users, flows, make_contract, decide):
    contract = make_contract()
    services.contract_submit(actor=users["sales1"], contract=contract)
    decide(contract, users["manager"], approve=False)
    assert contract.status == Contract.Status.REJECTED
    assert contract.is_editable
    services.contract_update(actor=users["sales1"], contract=contract, values={"name": "改过的合同"})
    services.contract_submit(actor=users["sales1"], contract=contract)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING
    assert ApprovalRequest.objects.filter(object_id=str(contract.pk)).count() == 2


def test_withdraw_puts_back_to_draft_only_for_the_applicant(users, flows, make_contract):
    contract = make_contract()
    services.contract_submit(actor=users["sales1"], contract=contract)
    with pytest.raises(PermissionRequiredError):
        services.contract_withdraw(actor=users["sales2"], contract=contract)
    contract = services.contract_withdraw(actor=users["sales1"], contract=contract)
    assert contract.status == Contract.Status.DRAFT
    assert ApprovalRequest.objects.get(object_id=str(contract.pk)).status == ApprovalRequest.Status.WITHDRAWN
    assert pending_task(contract) is None


def _limit(customer, amount):
    Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal(amount))


def test_credit_refuse_mode_names_the_figures(users, flows, customers, make_contract, approved_contract):
    ContractSettings.objects.update_or_create(pk=1, defaults={"credit_mode": "refuse"})
    _limit(customers["mine"], approved_contract.total + 100)
    contract = make_contract()
    with pytest.raises(ValidationError) as exc:
        services.contract_submit(actor=users["sales1"], contract=contract)
    text = " ".join(exc.value.messages)
    assert f"信用额度 ¥{approved_contract.total + 100}" in text
    assert f"未回款 ¥{approved_contract.total}" in text
    assert f"本合同 ¥{contract.total}" in text
    contract.refresh_from_db()
    assert contract.status == Contract.Status.DRAFT
    assert not contract.credit_exceeded


def test_credit_within_limit_goes_straight_to_approval(users, flows, customers, make_contract):
    ContractSettings.objects.update_or_create(pk=1, defaults={"credit_mode": "refuse"})
    contract = make_contract()
    _limit(customers["mine"], contract.total)
    services.contract_submit(actor=users["sales1"], contract=contract)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING


def test_credit_approval_then_contract_approval(users, flows, customers, make_contract, decide):
    contract = make_contract()
    _limit(customers["mine"], "100")
    services.contract_submit(actor=users["sales1"], contract=contract)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.CREDIT_REVIEW
    assert contract.credit_exceeded
    assert ApprovalRequest.objects.get(object_id=str(contract.pk)).kind == "credit"
    decide(contract, users["finance"])  # the credit step
    assert contract.status == Contract.Status.PENDING
    request = ApprovalRequest.objects.get(object_id=str(contract.pk), status="pending")
    assert request.kind == "contract"
    assert request.applicant == users["sales1"]
    decide(contract, users["manager"])
    decide(contract, users["finance"])
    assert contract.status == Contract.Status.APPROVED


def test_credit_rejection_rejects_the_contract(users, flows, customers, make_contract, decide):
    contract = make_contract()
    _limit(customers["mine"], "100")
    services.contract_submit(actor=users["sales1"], contract=contract)
    decide(contract, users["finance"], approve=False)
    assert contract.status == Contract.Status.REJECTED


def test_credit_off_ignores_the_limit(users, flows, customers, make_contract):
    ContractSettings.objects.update_or_create(pk=1, defaults={"credit_mode": "off"})
    contract = make_contract()
    _limit(customers["mine"], "1")
    services.contract_submit(actor=users["sales1"], contract=contract)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING


# ---------------------------------------------------------------- lock, revise, void


def test_approved_contract_is_locked(users, catalog, approved_contract):
    before = (approved_contract.total, approved_contract.customer_id, approved_contract.lines.count())
    with pytest.raises(ValidationError, match="已审批，客户、明细和金额已锁定"):
        services.contract_update(
            actor=users["sales1"],
            contract=approved_contract,
            values={"name": "x"},
            lines=[{"product": catalog["pen"].pk, "quantity": 1}],
        )
    approved_contract.refresh_from_db()
    assert (approved_contract.total, approved_contract.customer_id, approved_contract.lines.count()) == before
    with pytest.raises(ValidationError, match="不能提交审批"):
        services.contract_submit(actor=users["sales1"], contract=approved_contract)


def test_revise_then_total_below_received_is_refused(users, catalog, approved_contract):
    Contract.objects.filter(pk=approved_contract.pk).update(received_amount=Decimal("1000.00"))
    contract = services.contract_revise(actor=users["sales1"], contract=approved_contract)
    assert contract.status == Contract.Status.DRAFT
    with pytest.raises(ValidationError, match="不能低于已回款金额"):
        services.contract_update(
            actor=users["sales1"],
            contract=contract,
            values={},
            lines=[{"product": catalog["pen"].pk, "quantity": 1}],
        )
    contract.refresh_from_db()
    assert contract.lines.get().product == catalog["lock"]


def test_revise_only_approved(users, make_contract):
    with pytest.raises(ValidationError, match="只有已审批的合同可以变更"):
        services.contract_revise(actor=users["sales1"], contract=make_contract())


def test_void_rules(users, make_contract, approved_contract):
    draft = make_contract()
    with pytest.raises(ValidationError, match="请填写作废原因"):
        services.contract_void(actor=users["sales1"], contract=draft, reason=" ")
    services.contract_void(actor=users["sales1"], contract=draft, reason="客户取消")
    draft.refresh_from_db()
    assert draft.status == Contract.Status.VOID
    # An approved contract needs contracts.approve (sales has not) and nothing received.
    with pytest.raises(PermissionRequiredError):
        services.contract_void(actor=users["sales1"], contract=approved_contract, reason="x")
    Contract.objects.filter(pk=approved_contract.pk).update(received_amount=Decimal("1"))
    with pytest.raises(ValidationError, match="已有回款"):
        services.contract_void(actor=users["admin"], contract=approved_contract, reason="x")
    Contract.objects.filter(pk=approved_contract.pk).update(received_amount=Decimal("0"))
    voided = []
    signals.contract_voided.connect(lambda **kw: voided.append(kw), weak=False, dispatch_uid="t2")
    try:
        services.contract_void(actor=users["admin"], contract=approved_contract, reason="重复录入")
    finally:
        signals.contract_voided.disconnect(dispatch_uid="t2")
    assert [v["contract"].pk for v in voided] == [approved_contract.pk]


def test_delete_only_unsubmitted_drafts(users, make_contract, approved_contract):
    draft = make_contract()
    with pytest.raises(PermissionRequiredError):
        services.contract_delete(actor=users["sales1"], contract=draft)
    with pytest.raises(ValidationError):
        services.contract_delete(actor=users["admin"], contract=approved_contract)
    services.contract_delete(actor=users["admin"], contract=draft)
    assert not Contract.objects.filter(pk=draft.pk).exists()


# ---------------------------------------------------------------- from quote


def _quote(users, catalog, customers, **values):
    values.setdefault("customer", customers["mine"])
    return quote_services.quote_create(
        actor=users["sales1"],
        values=values,
        lines=[{"product": catalog["pen"].pk, "quantity": 3, "discount_percent": 5}],
    )


def test_from_quote_copies_and_accepts(users, catalog, customers):
    quote = _quote(users, catalog, customers, payment_term="net30", tax_percent="6")
    quote_services.quote_send(actor=users["sales1"], quote=quote)
    contract = services.contract_from_quote(actor=users["sales1"], quote=quote)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED
    assert contract.quote == quote
    assert contract.customer == quote.customer
    assert contract.payment_term == "net30"
    assert contract.tax_percent == Decimal("6.00")
    assert contract.total == quote.total
    assert [(line.product_id, line.amount) for line in contract.lines.all()] == [
        (line.product_id, line.amount) for line in quote.lines.all()
    ]


def test_from_expired_quote_is_refused(users, catalog, customers):
    quote = _quote(users, catalog, customers)
    quote_services.quote_send(actor=users["sales1"], quote=quote)
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - timedelta(days=1))
    quote.refresh_from_db()
    with pytest.raises(ValidationError, match="已于 .* 过期，不能转为合同"):
        services.contract_from_quote(actor=users["sales1"], quote=quote)
    assert Contract.objects.count() == 0
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT


def test_from_quote_of_invisible_quote_is_refused(users, catalog, customers):
    quote = quote_services.quote_create(
        actor=users["sales2"],
        values={"customer": customers["other"]},
        lines=[{"product": catalog["pen"].pk, "quantity": 1}],
    )
    with pytest.raises(ValidationError, match="报价单不存在或您无权查看"):
        services.contract_from_quote(actor=users["sales1"], quote=quote)


def test_settings_update_checks_dictionary(users):
    region = DictionaryItem.objects.create(kind=DictionaryItem.Kind.REGION, name="华南")
    with pytest.raises(ValidationError):
        services.settings_update(
            actor=users["admin"], values={"status_on_approval": region, "credit_mode": "off"}
        )
    with pytest.raises(PermissionRequiredError):
        services.settings_update(actor=users["sales1"], values={"credit_mode": "off"})
    services.settings_update(actor=users["admin"], values={"credit_mode": "refuse", "earn_points": False})
    row = ContractSettings.load()
    assert (row.credit_mode, row.earn_points) == ("refuse", False)


def test_demo_seed_reaches_every_state(users, catalog, customers, flows):
    from crm.contracts import demo

    demo.CODES.append("PEN")
    try:
        assert demo.seed() > 0
        assert demo.seed() == 0
    finally:
        demo.CODES.remove("PEN")
    assert ApprovalFlow.objects.filter(kind="contract").count() == 1
    states = set(Contract.objects.values_list("status", flat=True))
    assert {"draft", "pending", "rejected", "approved", "void", "credit_review"} <= states
