"""Reads of quotes, always through the access policy: the owner lies in the user's data scope AND
the customer is one the user may see (crm.customers.selectors.customers_visible)."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from crm.access import policy
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
    quotes = quotes_visible(user).select_related("customer", "contact", "owner", "department", "created_by")
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


def price_history(customer, product=None, *, user, limit: int = HISTORY_LIMIT) -> list[QuoteLine]:
    """Every price quoted to `customer` (optionally for one product) on quotes the user may see,
    newest first, at most `limit` rows in one query. Each row carries the quote (code, date,
    status, salesperson) and the line (product, quantity, unit price, discount).

    Contracts (CTR-4) will add their prices here: union their lines' (date, product, quantity,
    unit price, discount, salesperson, contract code) with these rows, newest first."""
    lines = QuoteLine.objects.filter(quote__in=quotes_visible(user).filter(customer=customer))
    if product is not None:
        lines = lines.filter(product=product)
    return list(
        lines.select_related("product", "quote", "quote__owner").order_by(
            "-quote__quoted_on", "-quote__created_at", "-quote_id", "order"
        )[:limit]
    )
