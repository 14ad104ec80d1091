"""`{% contract_invoices contract as inv %}` and `{% customer_invoices customer as inv %}`: the
invoices the user may see on a contract or a customer page, with totals, in a fixed number of
queries (the access check, one aggregate, one list)."""

from django import template

from crm.access import policy
from crm.invoices import selectors
from crm.invoices.services import contract_invoiceable

register = template.Library()


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


@register.simple_tag(takes_context=True)
def contract_invoices(context, contract) -> dict:
    """On the contract page, whose contract came through contract_get_for_user for this user."""
    user = _user(context)
    if user is None or contract is None or not policy.can(user, "invoices.view"):
        return {"visible": False}
    summary = selectors.contract_invoices(user, contract)
    invoiceable = contract_invoiceable(contract)
    return {
        "visible": True,
        "summary": summary,
        "invoiceable": invoiceable,
        "can_request": contract.is_effective and invoiceable > 0 and policy.can(user, "invoices.create"),
    }


@register.simple_tag(takes_context=True)
def customer_invoices(context, customer) -> dict:
    user = _user(context)
    if user is None or customer is None or not policy.can(user, "invoices.view"):
        return {"visible": False}
    return {"visible": True, "summary": selectors.customer_invoices(user, customer.pk)}
