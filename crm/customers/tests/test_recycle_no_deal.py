"""The "no deal within N days" recycle rule (长期未成交, RecycleRule.Kind.NO_DEAL) and the
exempt_open_opportunities flag (any kind): selection, preview equals run, reasons, warnings, the
last deal set by winning an opportunity, the form, the settings page and the API."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.api.tests import token_client
from crm.customers import recycle, services
from crm.customers.models import Customer, RecycleRule, RecycleWarning
from crm.messaging.models import Notification
from crm.opportunities import services as opportunity_services
from crm.opportunities.demo import ensure_default_group
from crm.opportunities.models import Opportunity

pytestmark = pytest.mark.django_db
API = "/api/v1/pool/recycle-rules/"


def owned(owner, name, *, claimed: int | None = 200, created: int = 300, deal: int | None = None, **values):
    """A customer of `owner` created `created` days ago, claimed `claimed` days ago (None: never
    claimed), its last deal `deal` days ago (None: never)."""
    customer = services.customer_create(actor=owner, values={"name": name})
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(
        created_at=now - timedelta(days=created),
        claimed_at=None if claimed is None else now - timedelta(days=claimed),
        last_deal_at=None if deal is None else now - timedelta(days=deal),
        **values,
    )
    return Customer.objects.get(pk=customer.pk)


def rule_make(admin, **values) -> RecycleRule:
    values = {"name": "九十天未成交", "kind": RecycleRule.Kind.NO_DEAL, "days": 90} | values
    return recycle.recycle_rule_save(actor=admin, rule=None, **values)


def loaded(rule):
    return recycle.rules_loaded(rule_ids=[rule.pk])[0]


def names(customers) -> set[str]:
    return {c.name for c in customers}


def opportunity(owner, customer, status=Opportunity.Status.OPEN):
    ensure_default_group()
    opp = opportunity_services.opportunity_create(
        actor=owner, values={"name": "门店收银系统", "customer": customer, "expected_amount": Decimal("100")}
    )
    if status != Opportunity.Status.OPEN:
        Opportunity.objects.filter(pk=opp.pk).update(status=status)
    return opp


def test_no_deal_counts_from_the_last_deal_or_the_claim(users):
    admin, sales = users["admin"], users["sales1"]
    owned(sales, "从未成交", claimed=100)
    owned(sales, "新近成交", claimed=200, deal=10)
    owned(sales, "久未成交", claimed=200, deal=100)
    owned(sales, "刚领取", claimed=20, deal=100)  # the deal was the previous owner's
    owned(sales, "从未领取", claimed=None, created=95)
    owned(sales, "新建未满", claimed=None, created=30)
    owned(sales, "正好到期", claimed=200, deal=90)
    rule = loaded(rule_make(admin))
    due = {"从未成交", "久未成交", "从未领取", "正好到期"}
    with CaptureQueriesContext(connection) as queries:
        assert names(recycle.recycle_candidates(rule)) == due
    assert len(queries.captured_queries) == 1

    preview = recycle.recycle_preview(rule)
    assert preview.count == 4 and names(preview.rows) == due
    why = {c.name: c.recycle_why for c in preview.rows}
    assert "超过 90 天未成交" in why["久未成交"] and why["久未成交"].startswith("最近成交于")
    assert "领取后一直未成交" in why["从未成交"]

    assert recycle.recycle_run(rules=[rule]) == {rule.pk: 4}
    back = Customer.objects.filter(owner__isnull=True)
    assert names(back) == due
    assert {c.release_reason for c in back} == {"自动回收（规则“九十天未成交”）：超过 90 天未成交"}
    assert names(Customer.objects.filter(owner=sales)) == {"新近成交", "刚领取", "新建未满"}
    note = Notification.objects.get(recipient=sales)
    assert "超过 90 天未成交" in note.body
    assert recycle.condition_text(rule) == "超过 90 天未成交"


def test_winning_an_opportunity_records_the_deal_and_keeps_the_customer(users):
    admin, sales = users["admin"], users["sales1"]
    customer = owned(sales, "刚赢单", claimed=200)
    rule = loaded(rule_make(admin))
    assert names(recycle.recycle_candidates(rule)) == {"刚赢单"}
    opp = opportunity(sales, customer)
    opportunity_services.opportunity_win(actor=sales, opportunity=opp)
    customer.refresh_from_db()
    opp.refresh_from_db()
    assert customer.last_deal_at == opp.won_at
    assert not recycle.recycle_candidates(rule).exists()
    later = timezone.now() + timedelta(days=91)
    assert names(recycle.recycle_candidates(rule, later)) == {"刚赢单"}


@pytest.mark.parametrize("kind", [RecycleRule.Kind.NO_DEAL, RecycleRule.Kind.NO_FOLLOWUP])
def test_exempt_open_opportunities_applies_to_every_kind(users, kind):
    admin, sales = users["admin"], users["sales1"]
    with_open = owned(sales, "有进行中商机", claimed=200)
    with_won = owned(sales, "商机已赢单但很久", claimed=200)
    with_lost = owned(sales, "商机已输单", claimed=200)
    owned(sales, "没有商机", claimed=200)
    opportunity(sales, with_open)
    opportunity(sales, with_won, Opportunity.Status.WON)
    opportunity(sales, with_lost, Opportunity.Status.LOST)
    everyone = {"有进行中商机", "商机已赢单但很久", "商机已输单", "没有商机"}
    plain = loaded(rule_make(admin, name="不豁免", kind=kind))
    assert names(recycle.recycle_candidates(plain)) == everyone
    exempting = loaded(rule_make(admin, name="豁免商机", kind=kind, exempt_open_opportunities=True))
    with CaptureQueriesContext(connection) as queries:
        assert names(recycle.recycle_candidates(exempting)) == everyone - {"有进行中商机"}
    assert len(queries.captured_queries) == 1
    assert recycle.recycle_preview(exempting).count == 3
    assert recycle.recycle_run(rules=[exempting]) == {exempting.pk: 3}
    assert Customer.objects.get(name="有进行中商机").owner == sales


def test_no_deal_warnings_go_out_once_and_again_after_a_new_deal(users):
    admin, sales = users["admin"], users["sales1"]
    soon = owned(sales, "三天后回收", claimed=200, deal=87)
    owned(sales, "还早", claimed=200, deal=30)
    rule_make(admin, warn_days_before=5)
    assert recycle.recycle_warnings_send() == 1
    assert recycle.recycle_warnings_send() == 0
    note = Notification.objects.get(recipient=sales, kind=Notification.Kind.REMINDER)
    assert "三天后回收" in note.body and "超过 90 天未成交" in note.body
    assert RecycleWarning.objects.filter(customer=soon).count() == 1
    # A new deal (after the warning) moves the due date: 86 days later it is warned again, and
    # the other customer, overdue by then, for the first time.
    Customer.objects.filter(pk=soon.pk).update(last_deal_at=timezone.now() + timedelta(seconds=1))
    assert recycle.recycle_warnings_send(now=timezone.now() + timedelta(days=86)) == 2


def test_rule_form_page_and_settings_show_the_flag(users, client):
    client.force_login(users["admin"])
    page = client.get("/pool/settings/recycle/new/").content.decode()
    assert "exempt_open_opportunities" in page and "长期未成交" in page
    response = client.post(
        "/pool/settings/recycle/new/",
        {
            "name": "半年未成交",
            "kind": "no_deal",
            "days": "180",
            "exempt_open_opportunities": "on",
            "warn_days_before": "3",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    rule = RecycleRule.objects.get()
    assert (rule.kind, rule.days, rule.exempt_open_opportunities) == ("no_deal", 180, True)
    edit = client.get(f"/pool/settings/recycle/{rule.pk}/edit/").content.decode()
    assert 'name="exempt_open_opportunities" class="form-check-input" checked' in edit
    settings_page = client.get("/pool/settings/").content.decode()
    assert "超过 180 天未成交" in settings_page and "不回收有进行中商机的客户" in settings_page
    client.post(
        f"/pool/settings/recycle/{rule.pk}/edit/",
        {"name": "半年未成交", "kind": "no_deal", "days": "180", "warn_days_before": "3", "is_active": "on"},
    )
    rule.refresh_from_db()
    assert rule.exempt_open_opportunities is False


def test_api_reads_and_writes_the_flag(users):
    client = token_client(users["admin"])
    owned(users["sales1"], "久未成交", claimed=200, deal=100)
    response = client.post(
        API,
        {"name": "接口未成交", "kind": "no_deal", "days": 90, "exempt_open_opportunities": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["kind"] == "no_deal" and data["exempt_open_opportunities"] is True
    rule_id = data["id"]
    patched = client.patch(f"{API}{rule_id}/", {"days": 120}, format="json")
    assert patched.json()["exempt_open_opportunities"] is True and patched.json()["days"] == 120
    patched = client.patch(f"{API}{rule_id}/", {"exempt_open_opportunities": False}, format="json")
    assert patched.json()["exempt_open_opportunities"] is False
    preview = client.get(f"{API}{rule_id}/preview/").json()
    assert preview["count"] == 0  # 100 days < 120
    client.patch(f"{API}{rule_id}/", {"days": 90}, format="json")
    preview = client.get(f"{API}{rule_id}/preview/").json()
    assert preview["count"] == 1 and "未成交" in preview["customers"][0]["reason"]
