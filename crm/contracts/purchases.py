"""Purchase records (购买记录, CTR-4): what a customer bought, read from the lines of its effective
(approved or done) contracts that the user may see, newest first, in one query."""

from crm.contracts.models import Contract, ContractLine
from crm.contracts.selectors import contracts_visible

PURCHASE_LIMIT = 50
EFFECTIVE = (Contract.Status.APPROVED, Contract.Status.DONE)


def purchase_records(customer, *, user, limit: int = PURCHASE_LIMIT) -> list[ContractLine]:
    """The customer's purchased lines, newest signing first: each row carries the product, the
    quantity, unit price and amount of the line, and its contract (code, signed_on, owner as the
    salesperson). Contracts outside the user's scope, drafts, pending and void ones are left out."""
    contracts = contracts_visible(user).filter(customer=customer, status__in=EFFECTIVE)
    return list(
        ContractLine.objects.filter(contract__in=contracts)
        .select_related("product", "contract", "contract__owner")
        .order_by("-contract__signed_on", "-contract__created_at", "-contract_id", "order", "pk")[:limit]
    )
