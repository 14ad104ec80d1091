"""The follow-up pages: who gets which page, what they show, bounded queries, bad input on forms."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.activities import selectors, services
from crm.activities.models import FollowUp
from crm.activities.tests.conftest import later
from crm.customers import services as customer_services
from crm.messaging.models import Notification


def local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", 200),
        ("administrator", 200),
        ("manager", 200),
        ("sales1", 200),
        ("sales2", 200),
        ("service", 200),
        ("finance", 403),
        ("norole", 403),
    ],
)
@pytest.mark.parametrize(
    "url", ["/activities/", "/activities/reminders/", "/activities/templates/", "/activities/new/"]
)
def test_pages_per_role(client, users, role, expected, url):
    client.force_login(users[role])
    assert client.get(url).status_code == expected


def test_anonymous_is_sent_to_login(client, db):
    response = client.get("/activities/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_followup_detail_and_forms_of_another_salespersons_customer_are_404(
    client, users, customer, make_followup
):
    followup = make_followup()
    client.force_login(users["sales2"])
    for url in (
        f"/activities/{followup.pk}/",
        f"/activities/{followup.pk}/edit/",
        f"/activities/new/?customer={customer.pk}",
        f"/activities/?customer={customer.pk}",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/activities/new/?customer={customer.pk}", {"content": "撞单"})
    assert response.status_code == 404
    assert client.post(f"/activities/{followup.pk}/comments/", {"content": "x"}).status_code == 404
    assert client.post(f"/activities/{followup.pk}/delete/").status_code == 404
    assert FollowUp.objects.count() == 1


def test_adding_a_followup_through_the_form(client, users, customer, contact, phone):
    client.force_login(users["sales1"])
    response = client.get(f"/activities/new/?customer={customer.pk}")
    assert response.status_code == 200 and "深圳甲科技有限公司" in response.content.decode()
    response = client.post(
        f"/activities/new/?customer={customer.pk}",
        {
            "type": phone.pk,
            "contact": contact.pk,
            "content": "客户同意试用",
            "followed_at": local(timezone.now() - timedelta(minutes=5)),
            "next_contact_at": local(later(days=1)),
            "next_action": "call",
        },
    )
    followup = FollowUp.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/activities/{followup.pk}/"
    assert followup.contact == contact and followup.next_action == "call"
    page = client.get(response["Location"]).content.decode()
    assert "客户同意试用" in page and "张三" in page


def test_form_shows_the_service_message_on_the_field_and_saves_nothing(client, users, customer, phone):
    client.force_login(users["sales1"])
    response = client.post(
        f"/activities/new/?customer={customer.pk}",
        {"type": phone.pk, "content": "", "followed_at": local(later(days=1))},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "请填写跟进内容" in page and "跟进时间不能晚于当前时间" in page
    assert not FollowUp.objects.exists()


def test_template_prefills_the_form(client, users, customer, phone):
    template = services.template_create(
        actor=users["manager"], title="报价", content="已发送报价单", is_shared=True, type=phone
    )
    client.force_login(users["sales1"])
    response = client.get(f"/activities/new/?customer={customer.pk}&template={template.pk}")
    assert "已发送报价单" in response.content.decode()
    assert response.context["form"].initial["type"] == phone.pk


def test_choosing_a_customer_first_lists_only_visible_ones(client, users, customer, other_customer):
    client.force_login(users["sales1"])
    page = client.get("/activities/new/", {"q": "有限公司"}).content.decode()
    assert "深圳甲科技有限公司" in page and "杭州乙贸易有限公司" not in page


def test_comment_page_notifies_the_author(client, users, make_followup):
    followup = make_followup()
    client.force_login(users["manager"])
    response = client.post(f"/activities/{followup.pk}/comments/", {"content": "抓紧签约"})
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=users["sales1"], title__contains="点评").exists()
    client.force_login(users["sales1"])
    assert "抓紧签约" in client.get(f"/activities/{followup.pk}/").content.decode()


def test_list_filters_by_type_author_date_and_customer_search(
    client, users, customer, other_customer, make_followup
):
    from crm.customers.models import DictionaryItem

    visit, _created = DictionaryItem.objects.get_or_create(kind="followup_type", name="拜访", parent=None)
    make_followup(content="甲的电话")
    make_followup(actor=users["sales2"], target=other_customer, content="乙的拜访", type=visit)
    client.force_login(users["manager"])

    def shown(**params):
        page = client.get("/activities/", params).context["page"]
        return sorted(f.content for f in page.items)

    assert shown() == ["乙的拜访", "甲的电话"]
    assert shown(type=visit.pk) == ["乙的拜访"]
    assert shown(author=users["sales1"].pk) == ["甲的电话"]
    assert shown(q="杭州") == ["乙的拜访"]
    today = timezone.localdate().isoformat()
    assert shown(date_from=today, date_to=today) == ["乙的拜访", "甲的电话"]
    assert shown(date_to=(timezone.localdate() - timedelta(days=1)).isoformat()) == []


def test_list_keyset_paging_with_bounded_queries(
    client, users, customer, make_followup, django_assert_max_num_queries
):
    for i in range(25):
        make_followup(content=f"第{i}次")
    client.force_login(users["manager"])
    with django_assert_max_num_queries(15):
        first = client.get("/activities/")
    assert len(first.context["page"].items) == 20
    cursor = first.context["page"].next_cursor
    second = client.get("/activities/", {"cursor": cursor})
    contents = [f.content for f in first.context["page"].items + second.context["page"].items]
    assert len(contents) == 25 and len(set(contents)) == 25
    assert second.context["page"].next_cursor is None


def test_reminder_page_tabs_with_bounded_queries(
    client, users, customer, other_customer, make_followup, django_assert_max_num_queries
):
    from crm.customers.models import Customer

    for i in range(5):
        extra = customer_services.customer_create(actor=users["sales1"], values={"name": f"逾期客户{i}"})
        Customer.objects.filter(pk=extra.pk).update(next_contact_at=timezone.now() - timedelta(days=2 + i))
    make_followup(next_contact_at=later(minutes=30), next_action="call")
    client.force_login(users["manager"])
    for tab in ("today", "overdue", "call", "email"):
        with django_assert_max_num_queries(15):
            response = client.get("/activities/reminders/", {"tab": tab})
        assert response.status_code == 200
    overdue = client.get("/activities/reminders/", {"tab": "overdue"}).content.decode()
    assert "逾期客户0" in overdue and "逾期客户4" in overdue
    calls = client.get("/activities/reminders/", {"tab": "call"}).content.decode()
    assert "深圳甲科技有限公司" in calls
    client.force_login(users["sales2"])
    assert "逾期客户0" not in client.get("/activities/reminders/", {"tab": "overdue"}).content.decode()


def test_customer_followups_selector_and_the_detail_feed(
    client, users, customer, make_followup, django_assert_max_num_queries
):
    for i in range(3):
        followup = make_followup(content=f"记录{i}")
    services.comment_create(actor=users["manager"], followup=followup, content="很好的进展")
    with django_assert_max_num_queries(5):
        followups = selectors.followups_for_customer(users["manager"], customer, limit=2)
    assert [f.content for f in followups] == ["记录2", "记录1"]
    assert selectors.followups_for_customer(users["sales2"], customer) == []

    client.force_login(users["manager"])
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    feed = page[page.index('data-testid="timeline"') :]
    assert feed.count('data-testid="feed-followup"') == 3 and "很好的进展" in feed
    # Newest first, follow-ups and log entries mixed in one feed.
    assert feed.index("记录2") < feed.index("记录0")
    assert 'data-testid="timeline-event"' in feed
    only_log = client.get(f"/customers/{customer.pk}/", {"feed": "log"}).content.decode()
    assert 'data-testid="feed-followup"' not in only_log and 'data-testid="timeline-event"' in only_log
    only_followups = client.get(f"/customers/{customer.pk}/", {"feed": "followups"}).content.decode()
    assert 'data-testid="timeline-event"' not in only_followups
    assert only_followups.count('data-testid="feed-followup"') == 3


def test_author_edit_and_delete_buttons_disappear_after_24_hours(client, users, make_followup):
    followup = make_followup()
    client.force_login(users["sales1"])
    page = client.get(f"/activities/{followup.pk}/").content.decode()
    assert 'data-testid="followup-edit"' in page
    FollowUp.objects.filter(pk=followup.pk).update(created_at=timezone.now() - timedelta(days=2))
    page = client.get(f"/activities/{followup.pk}/").content.decode()
    assert 'data-testid="followup-edit"' not in page
    assert client.get(f"/activities/{followup.pk}/edit/").status_code == 404


def test_template_pages(client, users, phone):
    client.force_login(users["sales1"])
    response = client.post(
        "/activities/templates/new/", {"title": "首次拜访", "content": "介绍公司", "type": phone.pk}
    )
    assert response.status_code == 302
    assert "首次拜访" in client.get("/activities/templates/").content.decode()
    client.force_login(users["sales2"])
    assert "首次拜访" not in client.get("/activities/templates/").content.decode()


def test_navigation_shows_followups_to_those_who_may_see_them(client, users):
    client.force_login(users["sales1"])
    page = client.get("/activities/").content.decode()
    assert 'data-nav="followups"' in page and 'data-nav="followup_reminders"' in page
    client.force_login(users["finance"])
    page = client.get("/").content.decode()
    assert 'data-nav="followups"' not in page
