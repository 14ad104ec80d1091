"""`{% customer_contracts customer as cs %}`: the customer's contracts the user may see, for the card
contracts/_customer_contracts.html on the customer page."""

from django import template

from crm.access import policy
from crm.contracts.selectors import customer_contracts as visible_for_customer

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_contracts(context, customer) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or customer is None or not policy.can(user, "contracts.view"):
        return {"items": [], "can_create": False, "visible": False}
    return {
        "items": visible_for_customer(user, customer.pk),
        "can_create": policy.can(user, "contracts.create"),
        "visible": True,
    }


@register.simple_tag(takes_context=True)
def can_contract_from_quote(context, quote) -> bool:
    """Show 转为合同 on the quote page: contracts.create and a quote that is not rejected or expired."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or quote is None or quote.status in ("rejected", "expired"):
        return False
    return policy.can(user, "contracts.create")
