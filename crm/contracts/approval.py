"""The contract's kinds on the approval engine: "contract" (the contract itself) and "credit"
(an amount above the customer's remaining credit, CUS-16). Amount = contract.total, type =
contract.kind; the callbacks (crm.contracts.services.on_*) run inside the deciding transaction.
Imported once from ContractsConfig.ready()."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.approvals import kinds
from crm.approvals import signals as approval_signals


def _amount(contract):
    return contract.total


def _type(contract):
    return contract.kind


def _url(contract) -> str:
    return reverse("contracts:detail", args=[contract.pk])


def _on_withdrawn(sender, request, **kwargs):
    from crm.contracts import services
    from crm.contracts.models import Contract

    # Connected without `sender`: signal senders match by identity, and the kind string read from
    # the database is not the same object as our literal.
    if request.kind in ("contract", "credit") and request.content_type.model_class() is Contract:
        services.on_withdrawn(request)


def register() -> None:
    from crm.contracts import services
    from crm.contracts.models import Contract

    readers = {"amount": _amount, "doc_type": _type, "url": _url, "type_labels": dict(Contract.Kind.choices)}
    kinds.register("contract", _("合同"), "contracts.settings", **readers)
    kinds.register("credit", _("信用额度超限"), "contracts.settings", **readers)
    kinds.connect(
        "contract", on_approved=services.on_contract_approved, on_rejected=services.on_contract_rejected
    )
    kinds.connect("credit", on_approved=services.on_credit_approved, on_rejected=services.on_credit_rejected)
    approval_signals.request_withdrawn.connect(_on_withdrawn, dispatch_uid="contracts.withdrawn")
