"""The webhook event catalogue and the one mapping from operation-log action codes to events.

Every service writes the operation log (crm.audit.services.log_action) with a dotted action code; a
webhook event is that log row seen from outside. Actions not in ACTION_EVENTS send nothing."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class RecordType:
    code: str
    label: Promise
    api_route: str  # the DRF router basename; "<basename>-detail" is the record's API address
    events: tuple[str, ...]


VERBS: dict[str, Promise] = {
    "created": _("新建"),
    "updated": _("修改"),
    "deleted": _("删除"),
    "transferred": _("转移"),
    "claimed": _("领取"),
    "recycled": _("退回公海"),
    "approved": _("审批通过"),
}

RECORD_TYPES: tuple[RecordType, ...] = (
    RecordType(
        "customer",
        _("客户"),
        "customer",
        ("created", "updated", "deleted", "transferred", "claimed", "recycled"),
    ),
    RecordType("lead", _("线索"), "lead", ("created", "updated", "deleted", "transferred")),
    RecordType("opportunity", _("商机"), "opportunity", ("created", "updated", "deleted", "transferred")),
    RecordType(
        "contract", _("合同"), "contract", ("created", "updated", "deleted", "transferred", "approved")
    ),
    RecordType("receivable", _("回款"), "receivable", ("created", "updated", "deleted", "approved")),
)
RECORD_TYPE_BY_CODE = {t.code: t for t in RECORD_TYPES}

EVENTS: tuple[str, ...] = tuple(f"{t.code}.{verb}" for t in RECORD_TYPES for verb in t.events)
TEST_EVENT = "webhook.test"

# operation-log action → (event, record type). Explicit on purpose: a new action code in a service
# sends nothing until someone decides what it means to the outside.
ACTION_EVENTS: dict[str, str] = {
    # customers
    "customer.created": "customer.created",
    "customer.updated": "customer.updated",
    "customer.status_changed": "customer.updated",
    "customer.deleted": "customer.deleted",
    "customer.transferred": "customer.transferred",
    "pool.claimed": "customer.claimed",  # a salesperson took the customer from the pool
    "pool.assigned": "customer.claimed",  # a manager handed a pool customer to someone
    "pool.recycled": "customer.recycled",  # a recycle rule moved it back to the pool
    "pool.released": "customer.recycled",  # its owner gave it back
    "pool.recalled": "customer.recycled",  # a manager took it back from its owner
    "customer.released": "customer.recycled",
    # leads
    "lead.created": "lead.created",
    "lead.updated": "lead.updated",
    "lead.deleted": "lead.deleted",
    "lead.transferred": "lead.transferred",
    # opportunities
    "opportunity.created": "opportunity.created",
    "opportunity.updated": "opportunity.updated",
    "opportunity.stage_changed": "opportunity.updated",
    "opportunity.won": "opportunity.updated",
    "opportunity.lost": "opportunity.updated",
    "opportunity.reopened": "opportunity.updated",
    "opportunity.deleted": "opportunity.deleted",
    "opportunity.transferred": "opportunity.transferred",
    # contracts
    "contract.created": "contract.created",
    "contract.updated": "contract.updated",
    "contract.revised": "contract.updated",
    "contract.voided": "contract.updated",
    "contract.deleted": "contract.deleted",
    "contract.transferred": "contract.transferred",
    "contract.approved": "contract.approved",
    # receivables
    "receivable.created": "receivable.created",
    "receivable.updated": "receivable.updated",
    "receivable.deleted": "receivable.deleted",
    "receivable.approved": "receivable.approved",
    "receivable.confirmed": "receivable.approved",  # booked directly where no approval flow is set
}


def event_for_action(action: str) -> str | None:
    return ACTION_EVENTS.get(action)


def event_label(event: str) -> str:
    if event == TEST_EVENT:
        return str(_("测试事件"))
    type_code, _sep, verb = event.partition(".")
    record_type = RECORD_TYPE_BY_CODE.get(type_code)
    if record_type is None or verb not in VERBS:
        return event
    return f"{record_type.label}·{VERBS[verb]}"


def event_groups() -> list[dict]:
    """Events grouped by record type, for the checkbox groups of the form."""
    return [
        {
            "code": t.code,
            "label": t.label,
            "events": [{"code": f"{t.code}.{verb}", "label": VERBS[verb]} for verb in t.events],
        }
        for t in RECORD_TYPES
    ]
