import pytest
from django.urls import reverse

from crm.activities.models import FollowUp
from crm.audit.models import OperationLog
from crm.customers import services as customer_services
from crm.customers.models import Customer
from crm.leads.models import Lead

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_list_shows_only_visible_leads_and_searches(client, users, make_lead):
    make_lead(company="深圳甲科技有限公司", mobile="13800000001")
    make_lead(actor=users["sales2"], company="杭州乙贸易有限公司", mobile="13900000002")
    page = login(client, users["sales1"]).get(reverse("leads:list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "深圳甲科技有限公司" in text and "杭州乙贸易有限公司" not in text
    found = client.get(reverse("leads:list"), {"q": "1380000"}).content.decode()
    assert "深圳甲科技有限公司" in found
    none = client.get(reverse("leads:list"), {"q": "不存在"}).content.decode()
    assert "暂无线索" in none


def test_list_filters_by_status(client, users, make_lead):
    make_lead(company="新线索公司")
    lead = make_lead(company="无效线索公司")
    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.INVALID)
    text = login(client, users["sales1"]).get(reverse("leads:list"), {"status": "invalid"}).content.decode()
    assert "无效线索公司" in text and "新线索公司" not in text


def test_navigation_entry_needs_leads_view(client, users):
    assert "线索" in login(client, users["sales1"]).get(reverse("home")).content.decode()
    client.force_login(users["finance"])
    assert reverse("leads:list") not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("leads:list")).status_code == 403


def test_other_salespersons_lead_is_404(client, users, make_lead):
    lead = make_lead()
    login(client, users["sales2"])
    assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 404
    assert client.post(reverse("leads:edit", args=[lead.pk]), {"company": "改"}).status_code == 404
    assert client.post(reverse("leads:convert", args=[lead.pk])).status_code == 404
    assert not Customer.objects.exists()
    assert Lead.objects.get(pk=lead.pk).company == "深圳市星辰科技有限公司"


def test_create_through_the_form(client, users, source):
    response = login(client, users["sales1"]).post(
        reverse("leads:create"),
        {"company": "广州新公司", "contact_name": "李娜", "mobile": "13700000000", "source": source.pk},
    )
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("leads:detail", args=[lead.pk])
    assert lead.owner == users["sales1"] and lead.source == source


def test_form_bad_input_shows_chinese_message_and_saves_nothing(client, users):
    response = login(client, users["sales1"]).post(
        reverse("leads:create"), {"company": "", "mobile": "123", "email": "x"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "请输入有效的 11 位手机号码。" in text and "请输入有效的邮箱地址。" in text
    assert not Lead.objects.exists()


def test_detail_shows_fields_and_followups_and_adds_one(client, users, make_lead, phone):
    lead = make_lead()
    login(client, users["sales1"])
    response = client.post(
        reverse("leads:followup_create", args=[lead.pk]),
        {"type": phone.pk, "content": "介绍了产品", "followed_at": "2026-01-05T10:00"},
    )
    assert response.status_code == 302
    text = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "深圳市星辰科技有限公司" in text and "13800138000" in text and "介绍了产品" in text
    assert "跟进中" in text


def test_followup_bad_input_on_detail(client, users, make_lead, phone):
    lead = make_lead()
    response = login(client, users["sales1"]).post(
        reverse("leads:followup_create", args=[lead.pk]),
        {"type": phone.pk, "content": "", "followed_at": "2026-01-05T10:00"},
    )
    assert response.status_code == 400
    assert "请填写跟进内容。" in response.content.decode()
    assert not FollowUp.objects.exists()


def test_convert_from_detail_redirects_to_the_customer(client, users, make_lead):
    lead = make_lead()
    response = login(client, users["sales1"]).post(reverse("leads:convert", args=[lead.pk]))
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert Lead.objects.get(pk=lead.pk).converted_customer == customer


def test_convert_warning_flow_on_detail(client, users, make_lead):
    mine = customer_services.customer_create(actor=users["sales1"], values={"name": "深圳市星辰科技有限公司"})
    lead = make_lead()
    login(client, users["sales1"])
    warned = client.post(reverse("leads:convert", args=[lead.pk]))
    assert warned.status_code == 400
    text = warned.content.decode()
    assert "发现相似客户" in text and 'data-testid="convert-anyway"' in text
    assert f'name="link_customer" value="{mine.pk}"' in text
    assert Customer.objects.count() == 1
    linked = client.post(reverse("leads:convert", args=[lead.pk]), {"link_customer": mine.pk})
    assert linked.status_code == 302
    assert Lead.objects.get(pk=lead.pk).converted_customer == mine and Customer.objects.count() == 1


def test_convert_with_an_opportunity_from_detail(client, users, make_lead):
    from crm.opportunities.demo import ensure_default_group
    from crm.opportunities.models import Opportunity

    ensure_default_group()
    lead = make_lead()
    login(client, users["sales1"])
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'data-testid="convert-with-opportunity"' in page
    bad = client.post(
        reverse("leads:convert", args=[lead.pk]),
        {"create_opportunity": "1", "opportunity_name": "门店系统", "opportunity_amount": "-5"},
    )
    assert bad.status_code == 400 and "预计金额必须是不小于 0 的数字" in bad.content.decode()
    assert not Customer.objects.exists() and not Opportunity.objects.exists()
    done = client.post(
        reverse("leads:convert", args=[lead.pk]),
        {"create_opportunity": "1", "opportunity_name": "门店系统", "opportunity_amount": "12,000.5"},
    )
    assert done.status_code == 302
    opp = Opportunity.objects.get()
    assert (opp.name, str(opp.expected_amount), opp.customer) == (
        "门店系统",
        "12000.50",
        Customer.objects.get(),
    )


def test_bulk_transfer_and_convert_from_the_list(client, users, make_lead):
    leads = [make_lead(company=f"批量公司{i}有限公司") for i in range(3)]
    ids = [lead.pk for lead in leads]
    login(client, users["sales1"])
    response = client.post(
        reverse("leads:bulk"), {"action": "transfer", "ids": ids[:2], "to_user": users["sales1"].pk}
    )
    assert response.status_code == 302  # already theirs: nothing changes
    assert not OperationLog.objects.filter(action="lead.transferred").exists()
    result = client.post(reverse("leads:bulk"), {"action": "convert", "ids": ids})
    assert result.status_code == 200
    assert result.content.decode().count('data-outcome="created"') == 3
    assert Customer.objects.count() == 3


def test_bulk_without_permission_is_403_and_changes_nothing(client, users, make_lead):
    lead = make_lead()
    response = login(client, users["sales1"]).post(
        reverse("leads:bulk"), {"action": "delete", "ids": [lead.pk]}
    )
    assert response.status_code == 403
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_bulk_transfer_by_manager(client, users, make_lead):
    leads = [make_lead(company=f"经理转移{i}") for i in range(3)]
    login(client, users["manager"]).post(
        reverse("leads:bulk"),
        {"action": "transfer", "ids": [lead.pk for lead in leads], "to_user": users["sales2"].pk},
    )
    assert Lead.objects.filter(owner=users["sales2"]).count() == 3
    assert OperationLog.objects.filter(action="lead.transferred").count() == 3


def test_list_page_query_count_does_not_grow_with_rows(client, users, make_lead):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, users["manager"])
    for i in range(3):
        make_lead(company=f"少量{i}")
    client.get(reverse("leads:list"))  # warm the caches
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("leads:list"))
    for i in range(20):
        make_lead(actor=users["sales2"], company=f"大量{i}")
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("leads:list"))
    assert page.content.decode().count('data-testid="lead-row"') == 20  # one page
    assert 'data-testid="lead-next"' in page.content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
