"""`{% customer_price_history customer as rows %}`: the prices quoted to a customer, for the card
quotes/_customer_price_history.html that the customer page includes."""

from django import template

from crm.access import policy
from crm.quotes import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_price_history(context, customer):
    """Up to 50 quoted prices for `customer`, newest first (None when the user may not see quotes)."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or customer is None or not policy.can(user, "quotes.view"):
        return None
    return selectors.price_history(customer, user=user)


@register.simple_tag(takes_context=True)
def can_create_quote(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return user is not None and policy.can(user, "quotes.create")
