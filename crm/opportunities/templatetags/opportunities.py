"""`{% customer_opportunities customer as opps %}`: the customer's opportunities the user may see, for
the partial opportunities/_customer_opportunities.html on pages that do not load them."""

from django import template

from crm.access import policy
from crm.opportunities.selectors import customer_opportunities as visible_for_customer

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_opportunities(context, customer) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or customer is None or not policy.can(user, "opportunities.view"):
        return {"items": [], "can_create": False, "visible": False}
    return {
        "items": visible_for_customer(user, customer.pk),
        "can_create": policy.can(user, "opportunities.create"),
        "visible": True,
    }
