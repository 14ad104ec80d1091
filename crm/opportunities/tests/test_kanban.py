from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.opportunities import selectors, services
from crm.opportunities.models import Opportunity

pytestmark = pytest.mark.django_db


def _columns(board):
    return {c.stage.name: (c.count, c.amount, c.weighted) for c in board.columns}


def test_totals_and_weighted_totals_are_exact_to_the_fen(users, make_opp, stages, group, lost_reason):
    make_opp(stage=stages["初步接洽"], expected_amount="33.35")
    make_opp(stage=stages["初步接洽"], expected_amount="0.10")
    make_opp(stage=stages["谈判"], expected_amount="12345.67")
    won = make_opp(stage=stages["谈判"], expected_amount="100.00")
    services.opportunity_win(actor=users["sales1"], opportunity=won)
    lost = make_opp(expected_amount="999.99")
    services.opportunity_lose(actor=users["sales1"], opportunity=lost, reason=lost_reason)
    make_opp(actor=users["sales2"], stage=stages["谈判"], expected_amount="5000")  # not sales1's

    columns = _columns(selectors.kanban(user=users["sales1"], group=group))
    # 33.45 × 10 % = 3.345 → 3.35 (ROUND_HALF_UP; binary floats would give 3.34)
    assert columns["初步接洽"] == (2, Decimal("33.45"), Decimal("3.35"))
    assert columns["需求确认"] == (0, Decimal("0.00"), Decimal("0.00"))
    # 12345.67 × 80 % = 9876.536 → 9876.54
    assert columns["谈判"] == (1, Decimal("12345.67"), Decimal("9876.54"))
    assert columns["赢单"] == (1, Decimal("100.00"), Decimal("100.00"))
    assert columns["输单"] == (1, Decimal("999.99"), Decimal("0.00"))

    manager_board = selectors.kanban(user=users["manager"], group=group)
    assert _columns(manager_board)["谈判"] == (2, Decimal("17345.67"), Decimal("13876.54"))
    assert manager_board.count == 6
    assert manager_board.weighted == Decimal("3.35") + Decimal("13876.54") + Decimal("100.00")


def test_board_reads_in_a_bounded_number_of_queries(users, make_opp, stages, group):
    def queries():
        selectors.kanban(user=users["manager"], group=group)  # warm per-request caches
        with CaptureQueriesContext(connection) as ctx:
            board = selectors.kanban(user=users["manager"], group=group, per_stage=5)
        return board, len(ctx.captured_queries)

    make_opp(stage=stages["谈判"])
    _board, few = queries()
    for index in range(24):
        make_opp(name=f"商机{index}", stage=stages["需求确认" if index % 2 else "方案报价"])
    board, many = queries()
    assert few == many <= 6
    column = {c.stage.name: c for c in board.columns}["需求确认"]
    assert column.count == 12 and len(column.cards) == 5
    newest_first = list(
        Opportunity.objects.filter(stage=stages["需求确认"]).order_by("-updated_at", "-pk")[:5]
    )
    assert column.cards == newest_first


def test_board_applies_the_filters_and_the_card_limit_to_counts_sums_and_cards(
    users, make_opp, stages, group
):
    make_opp(name="门店收银系统", stage=stages["谈判"], expected_amount="100.00")
    make_opp(name="仓储设备更新", stage=stages["谈判"], expected_amount="250.50")
    make_opp(name="仓储设备更新二期", stage=stages["谈判"], expected_amount="0.25")
    make_opp(actor=users["sales2"], name="仓储设备", stage=stages["谈判"])  # not sales1's

    filters = selectors.OpportunityFilters(q="仓储")
    board = selectors.kanban(user=users["sales1"], group=group, filters=filters, per_stage=1)
    column = {c.stage.name: c for c in board.columns}["谈判"]
    assert (column.count, column.amount) == (2, Decimal("250.75"))
    assert [card.name for card in column.cards] == ["仓储设备更新二期"]  # the newest only

    board = selectors.kanban(user=users["sales1"], group=group, per_stage=0)
    column = {c.stage.name: c for c in board.columns}["谈判"]
    assert (column.count, column.amount, column.cards) == (3, Decimal("350.75"), [])
