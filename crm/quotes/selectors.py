"""Reads of quotes, always through the access policy: the owner lies in the user's data scope AND
the customer is one the user may see (crm.customers.selectors.customers_visible)."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.access import policy
from crm.contracts.models import ContractLine
from crm.core.paging import KeysetPage, keyset_page
from crm.customers.selectors import customers_visible
from crm.quotes.models import Quote, QuoteLine

PAGE_SIZE = 20
HISTORY_LIMIT = 50


def quotes_visible(user) -> QuerySet[Quote]:
    if not policy.can(user, "quotes.view"):
        return Quote.objects.none()
    visible_customers = customers_visible(user, include_pool=True).values("pk")
    return policy.visible(user, Quote.objects.filter(customer_id__in=visible_customers))


def quote_get_for_user(*, user, quote_id) -> Quote:
    quotes = quotes_visible(user).select_related(
        "customer", "contact", "opportunity", "owner", "department", "created_by"
    )
    return policy.get_visible_or_404(user, quotes, owner_field=None, pk=quote_id)


def quote_lines(quote: Quote) -> list[QuoteLine]:
    return list(quote.lines.select_related("product").order_by("order", "pk"))


@dataclass(frozen=True)
class QuoteFilters:
    q: str = ""
    status: str = ""
    customer_id: int | None = None


def quote_list(*, user, filters: QuoteFilters = QuoteFilters()) -> QuerySet[Quote]:
    quotes = quotes_visible(user)
    text = filters.q.strip()
    if text:
        quotes = quotes.filter(Q(code__iexact=text) | Q(customer__name__icontains=text))
    if filters.status in Quote.Status.values:
        quotes = quotes.filter(status=filters.status)
    if filters.customer_id is not None:
        quotes = quotes.filter(customer_id=filters.customer_id)
    return quotes


def quote_page(*, user, filters: QuoteFilters, cursor: str | None, size: int = PAGE_SIZE) -> KeysetPage:
    quotes = quote_list(user=user, filters=filters).select_related("customer", "owner")
    return keyset_page(quotes, cursor, size)


def price_history(customer, product=None, *, user, limit: int = HISTORY_LIMIT) -> list:
    """Every price quoted or contracted to `customer` (optionally for one product) on quotes and
    effective (approved / done) contracts the user may see, newest first, at most `limit` rows in
    two queries (one per source, merged here). Quote rows are QuoteLine (with `.quote`), contract
    rows ContractLine (with `.contract`); both carry `source` ("quote" / "contract"),
    `source_label` (报价 / 合同), `date`, `code`, `status_label`, `salesperson` and the line
    (product, quantity, unit price, discount)."""
    from crm.contracts.models import Contract
    from crm.contracts.purchases import EFFECTIVE

    # The rules of quotes_visible and crm.contracts.selectors.contracts_visible (permission, owner
    # in scope, customer visible), with the customer's visibility worked out once for both.
    visible_customer = customers_visible(user, include_pool=True).filter(pk=customer.pk).values("pk")
    quotes = Quote.objects.none()
    if policy.can(user, "quotes.view"):
        quotes = policy.visible(user, Quote.objects.filter(customer_id__in=visible_customer))
    lines = QuoteLine.objects.filter(quote__in=quotes)
    if product is not None:
        lines = lines.filter(product=product)
    rows = list(
        lines.select_related("product", "quote", "quote__owner").order_by(
            "-quote__quoted_on", "-quote__created_at", "-quote_id", "order"
        )[:limit]
    )
    for row in rows:
        row.source, row.source_label, row.document = "quote", _("报价"), row.quote
        row.date, row.code, row.salesperson = row.quote.quoted_on, row.quote.code, row.quote.owner
        row.status_label = row.quote.get_status_display()
    contracts = Contract.objects.none()
    if policy.can(user, "contracts.view"):
        contracts = policy.visible(
            user, Contract.objects.filter(customer_id__in=visible_customer, status__in=EFFECTIVE)
        )
    contract_lines = ContractLine.objects.filter(contract__in=contracts)
    if product is not None:
        contract_lines = contract_lines.filter(product=product)
    contracted = list(
        contract_lines.select_related("product", "contract", "contract__owner").order_by(
            "-contract__signed_on", "-contract__created_at", "-contract_id", "order"
        )[:limit]
    )
    for row in contracted:
        row.source, row.source_label, row.document = "contract", _("合同"), row.contract
        row.date, row.code, row.salesperson = row.contract.signed_on, row.contract.code, row.contract.owner
        row.status_label = row.contract.get_status_display()
    if not contracted:
        return rows
    merged = rows + contracted
    # Newest document first; within a document, its lines in their order (stable sort).
    merged.sort(key=lambda r: r.order)
    merged.sort(key=lambda r: (r.date, r.document.created_at, r.source, r.document.pk), reverse=True)
    return merged[:limit]
