"""Demo contracts for seed_demo (idempotent): a 2-step "contract" approval flow (the applicant's
manager, then the finance role) and a 1-step "credit" flow (finance), and contracts of the demo
customers in every approval state (draft, credit review, pending, rejected, approved, void), all
made through the real services and the approval engine. Nothing is created when contracts exist."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from crm.accounts.models import Role, User
from crm.approvals import services as approvals
from crm.approvals.models import ApprovalFlow, ApprovalStep, ApprovalTask
from crm.contracts import services
from crm.contracts.models import Contract
from crm.customers.models import Customer
from crm.products.models import Product
from crm.quotes.models import Quote

CODES = ["SW-ENT", "SW-STD", "SV-IMPL", "SV-TRAIN", "SV-MAINT", "HW-X1", "HW-GW"]


def _admin():
    return User.objects.filter(roles__is_super=True, is_active=True).order_by("pk").first()


def ensure_flows() -> None:
    admin = _admin()
    finance = Role.objects.filter(code="finance").first()
    if admin is None or finance is None:
        return
    if not ApprovalFlow.objects.filter(kind="contract", is_active=True).exists():
        approvals.flow_save(
            actor=admin,
            name="合同审批",
            kind="contract",
            description="直属上级审批后由财务复核",
            steps=[
                {"name": "直属上级审批", "approver_type": ApprovalStep.ApproverType.MANAGER},
                {
                    "name": "财务复核",
                    "approver_type": ApprovalStep.ApproverType.ROLE,
                    "approver_role": finance,
                },
            ],
        )
    if not ApprovalFlow.objects.filter(kind="credit", is_active=True).exists():
        approvals.flow_save(
            actor=admin,
            name="信用额度超限审批",
            kind="credit",
            steps=[
                {
                    "name": "财务审批",
                    "approver_type": ApprovalStep.ApproverType.ROLE,
                    "approver_role": finance,
                }
            ],
        )


def _decide(contract: Contract, *, approve: bool = True) -> None:
    """The current step's first approver decides (one step)."""
    task = (
        ApprovalTask.objects.filter(
            request__object_id=str(contract.pk), request__status="pending", status=ApprovalTask.Status.PENDING
        )
        .select_related("approver")
        .order_by("pk")
        .first()
    )
    if task is None:
        return
    if approve:
        approvals.approve(actor=task.approver, task=task, comment="同意")
    else:
        approvals.reject(actor=task.approver, task=task, comment="价格过低，请与客户重新确认折扣。")


@transaction.atomic
def seed() -> int:
    if Contract.objects.exists():
        return 0
    ensure_flows()
    products = list(Product.objects.filter(code__in=CODES, is_active=True).order_by("code"))
    customers = list(
        Customer.objects.filter(
            deleted_at__isnull=True, owner__isnull=False, owner__is_active=True, owner__manager__isnull=False
        )
        .select_related("owner")
        .order_by("pk")[:8]
    )
    if not products or len(customers) < 2:
        return 0
    today = timezone.localdate()
    plans = [
        ("draft", Contract.Kind.CONTRACT),
        ("pending", Contract.Kind.CONTRACT),
        ("manager_ok", Contract.Kind.CONTRACT),
        ("rejected", Contract.Kind.CONTRACT),
        ("approved", Contract.Kind.CONTRACT),
        ("approved", Contract.Kind.ORDER),
        ("approved", Contract.Kind.CONTRACT),
        ("void", Contract.Kind.CONTRACT),
        ("credit_review", Contract.Kind.CONTRACT),
    ]
    created = 0
    for index, (state, kind) in enumerate(plans):
        customer = customers[index % len(customers)]
        owner = customer.owner
        picked = [products[(index + k) % len(products)] for k in range(1 + index % 3)]
        lines = [
            {"product": p.pk, "quantity": 1 + (index + k) % 5, "discount_percent": (index % 2) * 2}
            for k, p in enumerate(picked)
        ]
        values = {
            "name": f"{customer.name} {'产品订单' if kind == Contract.Kind.ORDER else '年度采购合同'}",
            "kind": kind,
            "customer": customer,
            "contact": customer.contacts.order_by("-is_primary", "pk").first(),
            "signed_on": today - timedelta(days=30 - index * 3),
            "start_on": today - timedelta(days=30 - index * 3),
            "end_on": today + timedelta(days=335),
            "customer_signatory": "",
            "our_signatory": owner,
            "payment_term": "net30" if index % 2 else "",
            "terms": "1. 乙方按合同约定交付产品与服务。\n2. 甲方按付款条件支付合同款项。",
        }
        contract = services.contract_create(actor=owner, values=values, lines=lines)
        created += 1
        if state == "draft":
            continue
        if state == "void":
            services.contract_void(actor=owner, contract=contract, reason="客户取消采购计划")
            continue
        if state == "credit_review":
            Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("1000.00"))
        services.contract_submit(actor=owner, contract=contract)
        if state in ("manager_ok", "approved"):
            _decide(contract)
        if state == "approved":
            _decide(contract)
        if state == "rejected":
            _decide(contract, approve=False)
    # One contract made from an accepted quote (left as a draft).
    quote = (
        Quote.objects.filter(status=Quote.Status.ACCEPTED, contracts__isnull=True)
        .select_related("owner")
        .first()
    )
    if quote is not None and quote.owner.is_active:
        services.contract_from_quote(actor=quote.owner, quote=quote)
        created += 1
    return created
