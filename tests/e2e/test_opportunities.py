"""Opportunities in a real browser: drag a card across the kanban board and see the totals move."""

import pytest

from tests.e2e.conftest import USER_PASSWORD

pytestmark = pytest.mark.e2e


def _column(page, name):
    return page.locator("[data-testid=kanban-column]", has=page.locator(".card-title", has_text=name))


def _slow_drag(page, source, target):
    """Across several columns: SortableJS ignores drag-over events for 30 ms after each move, so a
    long drag pauses between the steps (drag_to moves faster than that)."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    for step in range(1, 13):
        x = (
            start["x"]
            + start["width"] / 2
            + (end["x"] + end["width"] / 2 - start["x"] - start["width"] / 2) * step / 12
        )
        page.mouse.move(x, end["y"] + 40)
        page.wait_for_timeout(60)
    page.mouse.up()


def test_drag_a_card_to_another_stage_and_lose_one(page, make_user, ui, screenshot):
    from crm.customers import services as customer_services
    from crm.customers.models import DictionaryItem
    from crm.opportunities import services
    from crm.opportunities.demo import ensure_default_group
    from crm.opportunities.models import Opportunity

    sales1 = make_user("sales1", roles=["sales"], name="李娜")
    group = ensure_default_group()
    first = group.stages.get(name="初步接洽")
    reason, _new = DictionaryItem.objects.get_or_create(kind="lost_reason", name="价格", parent=None)
    customer = customer_services.customer_create(actor=sales1, values={"name": "深圳市星辰科技有限公司"})
    for name, amount in (("门店收银系统", "1000.00"), ("仓储设备更新", "2500.50")):
        services.opportunity_create(
            actor=sales1, values={"name": name, "customer": customer, "expected_amount": amount}, stage=first
        )

    ui.login(page, "sales1", USER_PASSWORD)
    page.click("[data-testid=main-nav] [data-nav=opportunities]")
    first_col, second_col = _column(page, "初步接洽"), _column(page, "需求确认")
    assert first_col.locator("[data-testid=column-amount]").inner_text() == "¥3500.50"
    assert second_col.locator("[data-testid=column-count]").inner_text() == "0"

    card = first_col.locator("[data-testid=kanban-card]", has_text="门店收银系统")
    card.drag_to(second_col.locator(".kanban-cards"), steps=10)
    page.wait_for_selector("[data-testid=board-success]")
    first_col, second_col = _column(page, "初步接洽"), _column(page, "需求确认")
    assert first_col.locator("[data-testid=column-amount]").inner_text() == "¥2500.50"
    assert first_col.locator("[data-testid=column-weighted]").inner_text() == "¥250.05"
    assert second_col.locator("[data-testid=column-count]").inner_text() == "1"
    assert second_col.locator("[data-testid=column-amount]").inner_text() == "¥1000.00"
    assert second_col.locator("[data-testid=column-weighted]").inner_text() == "¥300.00"
    assert Opportunity.objects.get(name="门店收银系统").stage.name == "需求确认"
    screenshot(page, "opportunities-kanban")

    # Dropping on 输单 opens the lose form; the move happens only once a reason is given.
    card = _column(page, "初步接洽").locator("[data-testid=kanban-card]", has_text="仓储设备更新")
    _slow_drag(page, card, _column(page, "输单").locator(".kanban-cards"))
    modal = page.locator("#lose-modal")
    modal.wait_for(state="visible")
    screenshot(page, "opportunities-kanban-lose")
    modal.locator("select[name=lost_reason]").select_option(str(reason.pk))
    modal.locator("[data-testid=confirm-lose]").click()
    page.wait_for_selector("[data-testid=board-success]:has-text('已输单')")
    assert _column(page, "输单").locator("[data-testid=column-count]").inner_text() == "1"
    assert _column(page, "初步接洽").locator("[data-testid=column-count]").inner_text() == "0"
    lost = Opportunity.objects.get(name="仓储设备更新")
    assert lost.status == "lost" and lost.lost_reason == reason

    # The detail page shows the outcome and offers to reopen.
    _column(page, "输单").locator("a", has_text="仓储设备更新").click()
    assert page.locator("[data-testid=opp-lost-reason]").inner_text().startswith("价格")
    screenshot(page, "opportunity-detail")
    page.click("[data-testid=reopen-opp]")
    assert page.locator("[data-testid=current-stage]").inner_text().startswith("谈判")
    assert Opportunity.objects.get(name="仓储设备更新").status == "open"
