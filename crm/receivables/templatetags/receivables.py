"""`{% contract_receivables contract as rx %}` and `{% customer_receivables customer as rx %}`: the
money cards that the contract and customer pages include (receivables/_contract_section.html,
receivables/_customer_section.html), loaded with a fixed number of queries."""

from django import template

from crm.access import policy
from crm.contracts.models import Contract
from crm.receivables import selectors
from crm.receivables.forms import PlanForm

register = template.Library()


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.simple_tag(takes_context=True)
def contract_receivables(context, contract) -> dict:
    """Plans, receivables and money of a contract the page already showed to the user (5 queries)."""
    user = _user(context)
    if user is None or contract is None or not policy.can(user, "receivables.view"):
        return {"visible": False}
    open_contract = contract.status != Contract.Status.VOID
    return {
        "visible": True,
        "plans": selectors.contract_plans(contract),
        "receivables": selectors.contract_receivables(contract),
        "money": selectors.contract_money(contract),
        "plan_form": context.get("plan_form") or PlanForm(),
        "can_add_plan": open_contract and policy.can(user, "receivables.create"),
        "can_edit_plan": open_contract and policy.can(user, "receivables.edit"),
        "can_delete_plan": policy.can(user, "receivables.delete"),
        "can_register": contract.is_effective and policy.can(user, "receivables.create"),
    }


@register.simple_tag(takes_context=True)
def customer_receivables(context, customer) -> dict:
    """Received / outstanding / overdue over the customer's effective visible contracts, the latest
    receivables and the next plans (5 queries)."""
    user = _user(context)
    if user is None or customer is None or not policy.can(user, "receivables.view"):
        return {"visible": False}
    return {"visible": True, "money": selectors.customer_money(user, customer.pk)}
