"""`{% customer_registrations customer as rows %}`: the products registered to a customer, for the
card products/_customer_registrations.html that the customer page includes."""

from django import template
from django.utils import timezone

from crm.access import policy
from crm.products import selectors

register = template.Library()

MAX_ROWS = 50


@register.simple_tag(takes_context=True)
def customer_registrations(context, customer):
    """Up to 50 registrations of `customer` (None when the user may not see products)."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or customer is None or not policy.can(user, "products.view"):
        return None
    today = timezone.localdate()
    rows = list(selectors.registrations_visible(user).filter(customer=customer)[:MAX_ROWS])
    for row in rows:
        row.expired = row.warranty_ends_on is not None and row.warranty_ends_on < today
    return rows
