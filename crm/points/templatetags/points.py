"""`{% customer_points customer as points %}` and `{% customer_purchases customer as rows %}`: the
points card and the purchase records card of points/_customer_section.html on the customer page."""

from django import template

from crm.access import policy
from crm.points import selectors
from crm.points.services import MANAGE_PERMISSION

register = template.Library()


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.simple_tag(takes_context=True)
def customer_points(context, customer) -> dict | None:
    """Balance, latest entries and whether the user may redeem / adjust (None: nothing to show).
    The page already checked that the user may see `customer`."""
    user = _user(context)
    if user is None or customer is None or not policy.can(user, "customers.view"):
        return None
    return {
        "balance": selectors.points_balance(customer),
        "entries": selectors.points_entries(customer, selectors.RECENT_LIMIT),
        "can_manage": policy.can(user, MANAGE_PERMISSION),
    }


@register.simple_tag(takes_context=True)
def customer_purchases(context, customer) -> list | None:
    """The customer's purchase records the user may see (None without contracts.view)."""
    from crm.contracts.purchases import purchase_records

    user = _user(context)
    if user is None or customer is None or not policy.can(user, "contracts.view"):
        return None
    return purchase_records(customer, user=user)
