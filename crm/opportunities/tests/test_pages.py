from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from crm.audit.models import OperationLog
from crm.customers.models import DictionaryItem
from crm.opportunities import services
from crm.opportunities.models import Opportunity, Stage

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def login(client, user):
    client.force_login(user)
    return client


def test_kanban_shows_columns_totals_and_only_visible_cards(client, users, make_opp, stages):
    make_opp(name="华创收银系统", stage=stages["方案报价"], expected_amount="1000.05")
    make_opp(actor=users["sales2"], name="远航仓储设备")
    page = login(client, users["sales1"]).get(reverse("opportunities:kanban"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "华创收银系统" in text and "远航仓储设备" not in text
    for name in ("初步接洽", "需求确认", "方案报价", "谈判", "赢单", "输单"):
        assert name in text
    assert "¥1000.05" in text and "¥600.03" in text  # 1000.05 × 60 % = 600.03
    assert "vendor/sortablejs/Sortable.min.js" in text and "opportunities/kanban.js" in text


def test_htmx_stage_move_changes_the_stage_and_answers_the_board(client, users, make_opp, stages):
    opp = make_opp(expected_amount="200.00")
    response = login(client, users["sales1"]).post(
        reverse("opportunities:stage", args=[opp.pk]), {"stage": stages["谈判"].pk}, **HTMX
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="board"' in text and "<html" not in text
    assert "已移到“谈判”" in text and "¥160.00" in text  # 200 × 80 %
    opp.refresh_from_db()
    assert opp.stage == stages["谈判"]
    assert OperationLog.objects.filter(action="opportunity.stage_changed").count() == 1


def test_refused_htmx_move_answers_the_unchanged_board_with_the_message(client, users, make_opp, stages):
    opp = make_opp()
    response = login(client, users["sales1"]).post(
        reverse("opportunities:stage", args=[opp.pk]), {"stage": stages["输单"].pk}, **HTMX
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="board-message"' in text and "输单请使用“输单”操作，并填写输单原因。" in text
    opp.refresh_from_db()
    assert opp.stage == stages["初步接洽"]
    assert not OperationLog.objects.filter(action="opportunity.stage_changed").exists()


def test_other_salesperson_gets_404_everywhere(client, users, make_opp, stages):
    opp = make_opp()
    login(client, users["sales2"])
    for name in ("detail", "edit"):
        assert client.get(reverse(f"opportunities:{name}", args=[opp.pk])).status_code == 404
    for name, data in (("stage", {"stage": stages["谈判"].pk}), ("win", {}), ("lose", {}), ("reopen", {})):
        assert client.post(reverse(f"opportunities:{name}", args=[opp.pk]), data).status_code == 404
    opp.refresh_from_db()
    assert opp.stage == stages["初步接洽"] and opp.status == "open"


def test_user_without_permission_gets_403(client, users, make_opp):
    opp = make_opp()
    login(client, users["norole"])
    assert client.get(reverse("opportunities:kanban")).status_code == 403
    assert client.get(reverse("opportunities:list")).status_code == 403
    assert client.post(reverse("opportunities:win", args=[opp.pk])).status_code == 403
    assert Opportunity.objects.get(pk=opp.pk).status == "open"


def test_list_filters_and_searches(client, users, make_opp, stages):
    make_opp(name="甲商机", stage=stages["谈判"])
    make_opp(name="乙商机")
    login(client, users["sales1"])
    text = client.get(reverse("opportunities:list"), {"stage": stages["谈判"].pk}).content.decode()
    assert "甲商机" in text and "乙商机" not in text
    text = client.get(reverse("opportunities:list"), {"q": "乙"}).content.decode()
    assert "乙商机" in text and "甲商机" not in text
    assert "暂无商机" in client.get(reverse("opportunities:list"), {"status": "won"}).content.decode()


def test_create_with_lines_through_the_form(client, users, customers, contacts, group, product):
    response = login(client, users["sales1"]).post(
        reverse("opportunities:create"),
        {
            "name": "门锁集采",
            "customer": customers["mine"].pk,
            "contacts": [contacts["mine"].pk],
            "expected_amount": "",
            "lines-TOTAL_FORMS": "3",
            "lines-INITIAL_FORMS": "0",
            "lines-0-product": product.pk,
            "lines-0-quantity": "2",
            "lines-0-unit_price": "",
            "lines-0-discount_percent": "10",
        },
    )
    assert response.status_code == 302
    opp = Opportunity.objects.get(name="门锁集采")
    assert opp.expected_amount == Decimal("2338.20")  # 2 × 1299 × 90 %
    detail = client.get(response.url).content.decode()
    assert "智能门锁 X1" in detail and "¥2338.20" in detail and "王伟" in detail


def test_form_refuses_another_customers_contact(client, users, customers, contacts, group):
    response = login(client, users["sales1"]).post(
        reverse("opportunities:create"),
        {
            "name": "x",
            "customer": customers["mine"].pk,
            "contacts": [contacts["other"].pk],
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
        },
    )
    # sales1 cannot see sales2's customer, so its contact is not a choice at all.
    assert response.status_code == 400
    assert not Opportunity.objects.exists()


def test_lose_form_without_reason_shows_the_message(client, users, make_opp, lost_reason):
    opp = make_opp()
    login(client, users["sales1"])
    response = client.post(reverse("opportunities:lose", args=[opp.pk]), {"lost_reason": ""}, follow=True)
    assert "请选择输单原因。" in response.content.decode()
    assert Opportunity.objects.get(pk=opp.pk).status == "open"
    response = client.post(
        reverse("opportunities:lose", args=[opp.pk]),
        {"lost_reason": lost_reason.pk, "lost_note": "太贵"},
        **HTMX,
    )
    assert "已输单" in response.content.decode()
    opp.refresh_from_db()
    assert opp.status == "lost" and opp.lost_note == "太贵"


def test_detail_win_then_reopen(client, users, make_opp, stages):
    opp = make_opp()
    login(client, users["sales1"])
    response = client.post(reverse("opportunities:win", args=[opp.pk]), follow=True)
    assert "已赢单" in response.content.decode()
    assert Opportunity.objects.get(pk=opp.pk).status == "won"
    client.post(reverse("opportunities:reopen", args=[opp.pk]))
    assert Opportunity.objects.get(pk=opp.pk).status == "open"


def test_followup_from_the_detail_page(client, users, make_opp):
    opp = make_opp()
    phone, _c = DictionaryItem.objects.get_or_create(kind="followup_type", name="电话", parent=None)
    login(client, users["sales1"])
    bad = client.post(
        reverse("opportunities:followup_create", args=[opp.pk]),
        {"type": phone.pk, "content": "", "followed_at": ""},
    )
    assert bad.status_code == 400 and not opp.followups.exists()
    good = client.post(
        reverse("opportunities:followup_create", args=[opp.pk]),
        {"type": phone.pk, "content": "约了演示", "followed_at": "2026-01-05T10:00"},
    )
    assert good.status_code == 302
    assert "约了演示" in client.get(reverse("opportunities:detail", args=[opp.pk])).content.decode()


def test_bulk_transfer_from_the_list(client, users, make_opp):
    a, b = make_opp(name="甲"), make_opp(name="乙")
    login(client, users["manager"])
    client.post(
        reverse("opportunities:bulk"),
        {"action": "transfer", "ids": [a.pk, b.pk], "to_user": users["sales2"].pk},
    )
    assert set(Opportunity.objects.values_list("owner__username", flat=True)) == {"sales2"}
    assert OperationLog.objects.filter(action="opportunity.transferred").count() == 2
    response = client.post(
        reverse("opportunities:bulk"), {"action": "transfer", "ids": [a.pk], "to_user": ""}
    )
    assert response.status_code == 302


def test_stage_settings_need_settings_permission(client, users, group):
    stage = group.stages.get(name="谈判")
    login(client, users["sales1"])
    assert client.get(reverse("opportunities:settings")).status_code == 403
    login(client, users["admin"])
    assert "谈判" in client.get(reverse("opportunities:settings")).content.decode()
    bad = client.post(
        reverse("opportunities:settings"),
        {"action": "update_stage", "stage": stage.pk, "name": "谈判", "order": "40", "win_rate": "150"},
    )
    assert bad.status_code == 400 and "赢率须为 0 到 100 之间的整数。" in bad.content.decode()
    client.post(
        reverse("opportunities:settings"),
        {"action": "update_stage", "stage": stage.pk, "name": "商务谈判", "order": "40", "win_rate": "75"},
    )
    stage.refresh_from_db()
    assert (stage.name, stage.win_rate) == ("商务谈判", 75)
    client.post(
        reverse("opportunities:settings"),
        {"action": "create_group", "name": "项目型", "stage_name": ["立项", ""], "stage_rate": ["20", ""]},
    )
    assert list(Stage.objects.filter(group__name="项目型").values_list("kind", flat=True)) == [
        "open",
        "won",
        "lost",
    ]


def test_customer_partial_lists_only_visible_opportunities(users, make_opp, customers):
    mine = make_opp(name="我的商机")
    services.opportunities_transfer(
        actor=users["manager"], opportunities=Opportunity.objects.filter(pk=mine.pk), to_user=users["sales1"]
    )
    make_opp(name="经理的商机", actor=users["manager"], customer=customers["mine"])
    template = Template('{% include "opportunities/_customer_opportunities.html" %}')

    def render(user):
        request = RequestFactory().get("/")
        request.user = user
        return template.render(Context({"customer": customers["mine"], "request": request}))

    assert "我的商机" in render(users["sales1"]) and "经理的商机" not in render(users["sales1"])
    assert "经理的商机" in render(users["manager"])
    assert "customer-opportunities" not in render(users["norole"])


def test_navigation_entry(client, users, group):
    assert (
        reverse("opportunities:kanban")
        in login(client, users["sales1"]).get(reverse("home")).content.decode()
    )
    assert (
        reverse("opportunities:kanban")
        not in login(client, users["norole"]).get(reverse("home")).content.decode()
    )
