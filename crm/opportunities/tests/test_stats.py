"""OPP-2 statistics: figures by stage and status, win rate, funnel and lost reasons, within the
user's scope, on the page and in the API, in a fixed number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.opportunities import services
from crm.opportunities.models import Opportunity
from crm.opportunities.stats import opportunity_stats

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(users, stages, make_opp, lost_reason):
    """sales1: two at 初步接洽, one at 谈判, one won, one lost for 价格; sales2: one at 谈判."""
    sales1 = users["sales1"]
    make_opp(name="A", stage=stages["初步接洽"], expected_amount=Decimal("1000.00"))
    make_opp(name="B", stage=stages["初步接洽"], expected_amount=Decimal("2000.50"))
    make_opp(name="C", stage=stages["谈判"], expected_amount=Decimal("3000.00"))
    won = make_opp(name="D", stage=stages["谈判"], expected_amount=Decimal("5000.00"))
    services.opportunity_win(actor=sales1, opportunity=won)
    lost = make_opp(name="E", stage=stages["需求确认"], expected_amount=Decimal("700.00"))
    services.opportunity_lose(actor=sales1, opportunity=lost, reason=lost_reason)
    make_opp(actor=users["sales2"], name="F", stage=stages["谈判"], expected_amount=Decimal("9999.99"))


def test_figures_by_stage_status_funnel_and_lost_reasons(users, group, pipeline, lost_reason):
    stats = opportunity_stats(user=users["sales1"], group=group)
    by_name = {s.stage.name: s for s in stats.stages}
    assert (by_name["初步接洽"].count, by_name["初步接洽"].amount) == (2, Decimal("3000.50"))
    assert by_name["初步接洽"].weighted == Decimal("300.05")  # 10 %
    assert (by_name["谈判"].count, by_name["谈判"].weighted) == (1, Decimal("2400.00"))
    statuses = {s.status: (s.count, s.amount) for s in stats.statuses}
    assert statuses == {
        "open": (3, Decimal("6000.50")),
        "won": (1, Decimal("5000.00")),
        "lost": (1, Decimal("700.00")),
    }
    assert stats.total_count == 5  # sales2's opportunity is outside sales1's scope
    assert stats.win_rate == Decimal("50.0")
    funnel = [(row["stage"].name, row["reached"], row["percent"]) for row in stats.funnel]
    assert funnel == [
        ("初步接洽", 4, Decimal("100.0")),
        ("需求确认", 2, Decimal("50.0")),
        ("方案报价", 2, Decimal("50.0")),
        ("谈判", 2, Decimal("50.0")),
        ("赢单", 1, Decimal("25.0")),
    ]
    assert [(r.reason, r.count, r.amount) for r in stats.lost_reasons] == [
        (lost_reason, 1, Decimal("700.00"))
    ]
    # The manager sees both salespeople's opportunities.
    assert opportunity_stats(user=users["manager"], group=group).total_count == 6


def test_no_decided_opportunity_has_no_win_rate(users, group, make_opp):
    make_opp(name="A")
    assert opportunity_stats(user=users["sales1"], group=group).win_rate is None


def test_page_shows_the_figures_in_a_fixed_number_of_queries(
    client, users, pipeline, make_opp, django_assert_max_num_queries
):
    client.force_login(users["sales1"])
    with django_assert_max_num_queries(14):
        response = client.get("/opportunities/stats/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="stats-total-count">5<' in html
    assert 'data-testid="stats-win-rate">50.0%<' in html
    assert "价格" in html
    for i in range(10):
        make_opp(name=f"more {i}")
    with django_assert_max_num_queries(14):
        assert client.get("/opportunities/stats/").status_code == 200


def test_dates_out_of_order_get_a_clear_message(client, users, pipeline):
    client.force_login(users["sales1"])
    response = client.get("/opportunities/stats/", {"created_from": "2026-12-01", "created_to": "2026-11-01"})
    assert response.status_code == 400
    assert "开始日期不能晚于结束日期" in response.content.decode()


def test_date_range_filters_by_creation_date(users, group, pipeline):
    from crm.opportunities.stats import StatsFilters

    Opportunity.objects.filter(name="A").update(created_at=timezone.now() - timedelta(days=40))
    since = (timezone.localdate() - timedelta(days=10)).isoformat()
    stats = opportunity_stats(user=users["sales1"], group=group, filters=StatsFilters(created_from=since))
    assert stats.total_count == 4


def test_api_returns_the_same_figures_and_respects_permissions(client, users, group, pipeline):
    client.force_login(users["sales1"])
    response = client.get("/api/v1/opportunities/stats/")
    assert response.status_code == 200
    body = response.json()
    assert body["total_count"] == 5 and body["win_rate"] == "50.0"
    assert {s["status"]: s["amount"] for s in body["statuses"]}["open"] == "6000.50"
    assert body["lost_reasons"][0]["reason_name"] == "价格"
    bad = client.get(
        "/api/v1/opportunities/stats/", {"created_from": "2026-12-01", "created_to": "2026-11-01"}
    )
    assert bad.status_code == 400
    client.force_login(users["norole"])
    assert client.get("/api/v1/opportunities/stats/").status_code == 403
    assert client.get("/opportunities/stats/").status_code == 403
