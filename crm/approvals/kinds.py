"""The kinds of document the approval engine serves (合同, 回款, 信用超限, 费用, 通用审批).

A module registers its kind once: a label, the permission that may configure its flows, how to
read an amount and a type from one of its documents, and optional callbacks run inside the
deciding transaction when a request ends (`on_approved(request)`, `on_rejected(request)`), so that
for example a contract becomes 已审批 atomically with its last approval. The Django signals
`request_approved` / `request_rejected` in crm.approvals.signals fire as well (sender = kind key).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


def _attr_reader(name: str) -> Callable[[Any], Any]:
    def read(document):
        value = getattr(document, name, None)
        return value() if callable(value) else value

    return read


@dataclass
class Kind:
    key: str
    label: Promise | str
    permission: str  # who may configure this kind's flows ("module.action")
    amount: Callable[[Any], Any] = field(default=_attr_reader("amount"))
    doc_type: Callable[[Any], Any] = field(default=_attr_reader("type"))
    on_approved: list[Callable] = field(default_factory=list)
    on_rejected: list[Callable] = field(default_factory=list)
    # Where an approver reads the document, and how a stored type reads to people.
    url: Callable[[Any], str] | None = None
    type_labels: dict[str, Any] = field(default_factory=dict)

    def url_of(self, document) -> str:
        return self.url(document) if self.url is not None and document is not None else ""

    def type_label(self, value: str):
        return self.type_labels.get(value, value)

    def amount_of(self, document) -> Decimal | None:
        value = self.amount(document)
        if value is None or value == "":
            return None
        try:
            return Decimal(str(value))
        except (InvalidOperation, ValueError):
            return None

    def type_of(self, document) -> str:
        value = self.doc_type(document)
        return "" if value is None else str(value)[:64]


KINDS: dict[str, Kind] = {}


def register(
    key: str,
    label,
    permission: str,
    *,
    amount: Callable[[Any], Any] | None = None,
    doc_type: Callable[[Any], Any] | None = None,
    url: Callable[[Any], str] | None = None,
    type_labels: dict[str, Any] | None = None,
) -> Kind:
    """Register (or re-register, keeping its callbacks) a kind of document."""
    kind = Kind(key=key, label=label, permission=permission, url=url, type_labels=dict(type_labels or {}))
    if amount is not None:
        kind.amount = amount
    if doc_type is not None:
        kind.doc_type = doc_type
    previous = KINDS.get(key)
    if previous is not None:
        kind.on_approved, kind.on_rejected = previous.on_approved, previous.on_rejected
    KINDS[key] = kind
    return kind


def unregister(key: str) -> None:
    KINDS.pop(key, None)


def connect(key: str, *, on_approved: Callable | None = None, on_rejected: Callable | None = None) -> None:
    """Add callbacks to a registered kind; each receives the ApprovalRequest."""
    kind = KINDS[key]
    if on_approved is not None and on_approved not in kind.on_approved:
        kind.on_approved.append(on_approved)
    if on_rejected is not None and on_rejected not in kind.on_rejected:
        kind.on_rejected.append(on_rejected)


def get(key: str) -> Kind | None:
    return KINDS.get(key)


def choices() -> list[tuple[str, Any]]:
    return [(kind.key, kind.label) for kind in KINDS.values()]


def label_of(key: str):
    kind = KINDS.get(key)
    return kind.label if kind else key


# The kinds this CRM has or plans. Modules that do not exist yet read `amount` / `type` from the
# document; they may re-register with their own readers when they arrive.
register("contract", _("合同"), "contracts.settings")
register("receivable", _("回款"), "settings.settings")
register("credit", _("信用额度超限"), "contracts.settings")
register("expense", _("费用报销"), "settings.settings")
register("general", _("通用审批"), "settings.settings")
