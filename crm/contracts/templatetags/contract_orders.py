"""`{% order_flow contract as flow %}`: the order section of the contract page (CTR-3), for
contracts/_order_section.html. None for contracts that are not product orders."""

from django import template

from crm.access import policy
from crm.contracts import orders
from crm.contracts.models import Contract

register = template.Library()


@register.simple_tag(takes_context=True)
def order_flow(context, contract) -> dict | None:
    if contract is None or contract.kind != Contract.Kind.ORDER:
        return None
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    current = contract.order_status
    reached = orders.FLOW.index(current) if current in orders.FLOW else -1
    steps = [
        {"value": value, "label": value.label, "done": index < reached, "current": index == reached}
        for index, value in enumerate(orders.FLOW)
    ]
    step = orders.next_step(contract)
    can_edit = user is not None and step is not None and policy.can(user, orders.EDIT_PERMISSION, contract)
    return {
        "steps": steps,
        "next_step": step if can_edit else None,
        "can_negative": can_edit and step == "ship" and policy.can(user, orders.NEGATIVE_STOCK_PERMISSION),
    }
