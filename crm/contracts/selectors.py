"""Reads of contracts, always through the access policy: the owner lies in the user's data scope AND
the customer is one the user may see (crm.customers.selectors.customers_visible), like quotes."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from crm.access import policy
from crm.approvals.selectors import approval_read_or_refuse, mark_read_via_approval
from crm.contracts.models import Contract, ContractAttachment, ContractLine
from crm.core.paging import KeysetPage, keyset_page
from crm.customers.selectors import customers_visible

PAGE_SIZE = 20
CUSTOMER_CARD_LIMIT = 20


def contracts_visible(user) -> QuerySet[Contract]:
    """Contracts `user` may see: contracts.view, owner in scope, customer visible."""
    if not policy.can(user, "contracts.view"):
        return Contract.objects.none()
    visible_customers = customers_visible(user, include_pool=True).values("pk")
    return policy.visible(user, Contract.objects.filter(customer_id__in=visible_customers))


def contract_get_for_user(*, user, contract_id, read_only: bool = False) -> Contract:
    """The contract, or 404 alike for missing and not visible.

    `read_only=True` (pages that only show the contract: detail, print, attachment download) also
    admits an approver of the contract outside the normal policy
    (crm.approvals.selectors.approval_read_or_refuse; one more query, only when the normal path said
    no); such a contract comes back marked `read_via_approval` and its pages offer no action.
    Writers never pass read_only.

    Two short queries: the access check on the id alone, then the row with its related rows by
    primary key. In one query (eight joined tables beside the scope sub-selects) PostgreSQL spent
    ~25 ms planning for 0.5 ms of execution (bench/pipeline.py). The planning time grows steeply
    with every joined table (16 ms for eight even without the scope), so only the rows the pages
    show are joined: the department and the creator load lazily where something reads them."""
    try:
        pk = int(contract_id)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    in_scope = contracts_visible(user).filter(pk=pk).exists()
    if not in_scope:
        if not read_only:
            raise Http404
        approval_read_or_refuse(user, model=Contract, object_id=pk, permission="contracts.view")
    contracts = Contract.objects.select_related(
        "customer", "contact", "opportunity", "quote", "owner", "our_signatory"
    )
    try:
        contract = contracts.get(pk=pk)
    except Contract.DoesNotExist as exc:  # deleted in between
        raise Http404 from exc
    return mark_read_via_approval(contract, not in_scope)


def contract_lines(contract: Contract) -> list[ContractLine]:
    return list(contract.lines.select_related("product").order_by("order", "pk"))


def contract_attachments(contract: Contract) -> list[ContractAttachment]:
    return list(contract.attachments.select_related("uploaded_by").order_by("id"))


def attachment_get_for_user(
    *, user, contract_id, attachment_id, read_only: bool = False
) -> ContractAttachment:
    """An attachment of a contract the user may see (or, read_only, approves); 404 alike otherwise."""
    contract = contract_get_for_user(user=user, contract_id=contract_id, read_only=read_only)
    try:
        return contract.attachments.get(pk=int(attachment_id))
    except (ContractAttachment.DoesNotExist, ValueError, TypeError) as exc:
        from django.http import Http404

        raise Http404 from exc


@dataclass(frozen=True)
class ContractFilters:
    q: str = ""
    status: str = ""
    kind: str = ""
    customer_id: int | None = None


def contract_list(*, user, filters: ContractFilters = ContractFilters()) -> QuerySet[Contract]:
    contracts = contracts_visible(user)
    text = filters.q.strip()
    if text:
        contracts = contracts.filter(
            Q(code__iexact=text) | Q(name__icontains=text) | Q(customer__name__icontains=text)
        )
    if filters.status in Contract.Status.values:
        contracts = contracts.filter(status=filters.status)
    if filters.kind in Contract.Kind.values:
        contracts = contracts.filter(kind=filters.kind)
    if filters.customer_id is not None:
        contracts = contracts.filter(customer_id=filters.customer_id)
    return contracts


def contract_page(*, user, filters: ContractFilters, cursor: str | None, size: int = PAGE_SIZE) -> KeysetPage:
    contracts = contract_list(user=user, filters=filters).select_related("customer", "owner")
    return keyset_page(contracts, cursor, size)


def customer_contracts(user, customer_id: int, *, limit: int = CUSTOMER_CARD_LIMIT) -> list[Contract]:
    """The customer's contracts the user may see, newest first (the customer page card)."""
    return list(
        contracts_visible(user)
        .filter(customer_id=customer_id)
        .select_related("owner")
        .order_by("-signed_on", "-created_at", "-pk")[:limit]
    )


def customer_outstanding(customer_id: int, *, exclude_pk: int | None = None) -> Decimal:
    """What the customer still owes on effective (approved / done) contracts: Σ total − received."""
    contracts = Contract.objects.filter(
        customer_id=customer_id, status__in=[Contract.Status.APPROVED, Contract.Status.DONE]
    )
    if exclude_pk is not None:
        contracts = contracts.exclude(pk=exclude_pk)
    money = DecimalField(max_digits=16, decimal_places=2)
    value = contracts.aggregate(
        owed=Coalesce(
            Sum(F("total") - F("received_amount"), output_field=money), Decimal("0"), output_field=money
        )
    )["owed"]
    return Decimal(value or 0).quantize(Decimal("0.01"))
