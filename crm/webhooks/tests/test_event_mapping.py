"""Operation-log action codes map to webhook events through one explicit table."""

import re
from pathlib import Path

import pytest

from crm.webhooks.events import ACTION_EVENTS, EVENTS, event_for_action, event_groups, event_label

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("action", "event"),
    [
        ("customer.created", "customer.created"),
        ("customer.updated", "customer.updated"),
        ("customer.deleted", "customer.deleted"),
        ("customer.transferred", "customer.transferred"),
        ("pool.claimed", "customer.claimed"),
        ("pool.assigned", "customer.claimed"),
        ("pool.recycled", "customer.recycled"),
        ("pool.released", "customer.recycled"),
        ("lead.created", "lead.created"),
        ("lead.transferred", "lead.transferred"),
        ("opportunity.stage_changed", "opportunity.updated"),
        ("opportunity.transferred", "opportunity.transferred"),
        ("contract.approved", "contract.approved"),
        ("contract.transferred", "contract.transferred"),
        ("receivable.approved", "receivable.approved"),
        ("receivable.confirmed", "receivable.approved"),
        ("receivable.deleted", "receivable.deleted"),
    ],
)
def test_log_actions_map_to_events(action, event):
    assert event_for_action(action) == event


@pytest.mark.parametrize(
    "action", ["auth.login", "customer.shared", "followup.created", "webhook.created", "product.updated", ""]
)
def test_unmapped_actions_send_nothing(action):
    assert event_for_action(action) is None


def test_every_mapped_event_is_in_the_catalogue_and_every_event_has_a_source():
    assert set(ACTION_EVENTS.values()) <= set(EVENTS)
    assert set(EVENTS) == set(ACTION_EVENTS.values())


def test_every_mapped_action_is_written_somewhere_in_the_code():
    """The table names only action codes that services really write (no typo silently maps nothing)."""
    source = "\n".join(
        p.read_text(encoding="utf-8")
        for p in ROOT.rglob("*.py")
        if "tests" not in p.parts and "migrations" not in p.parts and "webhooks" not in p.parts
    )
    written = set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', source))
    written |= {"opportunity.transferred", "contract.transferred"}  # f"{model_name}.transferred"
    assert set(ACTION_EVENTS) - written == set()


def test_events_are_grouped_by_record_type_with_chinese_labels():
    groups = {g["code"]: [e["code"] for e in g["events"]] for g in event_groups()}
    assert list(groups) == ["customer", "lead", "opportunity", "contract", "receivable"]
    assert "customer.claimed" in groups["customer"] and "contract.approved" in groups["contract"]
    assert event_label("customer.transferred") == "客户·转移"
    assert event_label("webhook.test") == "测试事件"
