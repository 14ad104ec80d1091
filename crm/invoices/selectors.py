"""Reads of invoices, always through the access policy.

Access rule (CTR-5): an invoice is visible to a user who holds ``invoices.view`` AND may see its
contract (crm.contracts.selectors.contracts_visible: contracts.view, the contract's owner in the
user's data scope and its customer visible). Writes need ``invoices.create`` (request) or
``invoices.approve`` (issue, mail, void — finance) on such a visible contract. A record outside
the scope answers 404 like a missing one.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, DecimalField, F, Q, QuerySet, Sum, Value, When, Window

from crm.access import policy
from crm.contracts.selectors import contracts_visible
from crm.core.paging import KeysetPage, keyset_page
from crm.invoices.models import Invoice

PAGE_SIZE = 20
CONTRACT_SECTION_LIMIT = 50
CUSTOMER_CARD_LIMIT = 10
_MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Decimal("0.00")


def invoices_visible(user) -> QuerySet[Invoice]:
    """Invoices `user` may see: invoices.view and the contract visible (one sub-select)."""
    if not policy.can(user, "invoices.view"):
        return Invoice.objects.none()
    return Invoice.objects.filter(contract_id__in=contracts_visible(user).values("pk"))


def invoice_get_for_user(*, user, invoice_id) -> Invoice:
    """The invoice, or 404 alike for missing and not visible."""
    invoices = invoices_visible(user).select_related(
        "contract", "customer", "owner", "department", "created_by"
    )
    return policy.get_visible_or_404(user, invoices, owner_field=None, pk=invoice_id)


def invoice_is_visible(user, invoice: Invoice) -> bool:
    return invoices_visible(user).filter(pk=invoice.pk).exists()


@dataclass(frozen=True)
class InvoiceFilters:
    q: str = ""
    status: str = ""
    customer_id: int | None = None
    contract_id: int | None = None


def invoice_list(*, user, filters: InvoiceFilters = InvoiceFilters()) -> QuerySet[Invoice]:
    """Search: the request code or the invoice number (exact), or the customer name (contains)."""
    invoices = invoices_visible(user)
    text = filters.q.strip()
    if text:
        invoices = invoices.filter(
            Q(code__iexact=text) | Q(invoice_number=text) | Q(customer__name__icontains=text)
        )
    if filters.status in Invoice.Status.values:
        invoices = invoices.filter(status=filters.status)
    if filters.customer_id is not None:
        invoices = invoices.filter(customer_id=filters.customer_id)
    if filters.contract_id is not None:
        invoices = invoices.filter(contract_id=filters.contract_id)
    return invoices


def invoice_page(*, user, filters: InvoiceFilters, cursor: str | None, size: int = PAGE_SIZE) -> KeysetPage:
    invoices = invoice_list(user=user, filters=filters).select_related("customer", "owner", "contract")
    return keyset_page(invoices, cursor, size)


@dataclass
class InvoiceSummary:
    """Invoices of a contract or a customer for a card: rows and non-void / issued totals."""

    items: list = field(default_factory=list)
    count: int = 0
    invoiced: Decimal = ZERO  # every non-void invoice (requested, issued, mailed)
    issued: Decimal = ZERO  # issued or mailed
    visible: bool = False


def _summary(invoices: QuerySet[Invoice], limit: int, *related: str) -> InvoiceSummary:
    """The newest `limit` invoices with the count and totals of all of them, in ONE query: the
    totals are window aggregates (OVER ()), computed over every matching row before the LIMIT."""
    live = Case(
        When(~Q(status=Invoice.Status.VOID), then=F("amount")), default=Value(ZERO), output_field=_MONEY
    )
    issued = Case(
        When(status__in=[Invoice.Status.ISSUED, Invoice.Status.MAILED], then=F("amount")),
        default=Value(ZERO),
        output_field=_MONEY,
    )
    rows = list(
        invoices.select_related(*related)
        .annotate(
            total_count=Window(Count("pk")),
            total_invoiced=Window(Sum(live)),
            total_issued=Window(Sum(issued)),
        )
        .order_by("-created_at", "-pk")[:limit]
    )
    if not rows:
        return InvoiceSummary(visible=True)
    first = rows[0]
    return InvoiceSummary(
        rows,
        first.total_count,
        Decimal(first.total_invoiced or 0).quantize(ZERO),  # SQLite sums lose the scale
        Decimal(first.total_issued or 0).quantize(ZERO),
        True,
    )


def contract_invoices(user, contract, *, limit: int = CONTRACT_SECTION_LIMIT) -> InvoiceSummary:
    """The invoices of `contract` (newest first) and their totals, in one query.

    `contract` must have been read through crm.contracts.selectors.contract_get_for_user for this
    user (the contract page), like the receivables' contract sections: an invoice is visible exactly
    when its contract is, so the scope sub-selects are not repeated (their planning cost more than
    the rest of the query)."""
    if not policy.can(user, "invoices.view"):
        return InvoiceSummary()
    return _summary(Invoice.objects.filter(contract_id=contract.pk), limit, "owner")


def customer_invoices(user, customer_id: int, *, limit: int = CUSTOMER_CARD_LIMIT) -> InvoiceSummary:
    """The customer's latest invoices the user may see and the totals of all of them: one query."""
    if not policy.can(user, "invoices.view"):
        return InvoiceSummary()
    return _summary(invoices_visible(user).filter(customer_id=customer_id), limit, "contract")
