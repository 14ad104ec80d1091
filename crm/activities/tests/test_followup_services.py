"""Follow-up rules: who may write them, what they change on the customer, and bad input."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from crm.access.policy import PermissionRequiredError
from crm.activities import selectors, services
from crm.activities.models import CONTENT_MAX_LENGTH, FollowUp, FollowUpComment
from crm.activities.tests.conftest import later
from crm.audit.models import OperationLog
from crm.customers.models import Contact, Customer, DictionaryItem
from crm.messaging import tasks
from crm.messaging.models import Notification, Reminder


def test_create_records_followup_and_updates_customer_in_one_go(users, customer, contact, phone):
    when = later(days=2)
    followup = services.followup_create(
        actor=users["sales1"],
        customer_id=customer.pk,
        type=phone,
        contact=contact,
        content="  约好下周演示  ",
        next_contact_at=when,
        next_action="call",
    )
    customer.refresh_from_db()
    assert followup.content == "约好下周演示"
    assert followup.author == users["sales1"]
    assert customer.last_followup_at == followup.followed_at
    assert customer.next_contact_at == when
    assert OperationLog.objects.filter(action="followup.created", target_id=str(followup.pk)).exists()


def test_back_filled_followup_never_moves_last_followup_backwards(users, customer, make_followup):
    first = make_followup()
    make_followup(followed_at=timezone.now() - timedelta(days=10), content="补录上周的拜访")
    customer.refresh_from_db()
    assert customer.last_followup_at == first.followed_at


def test_followup_without_next_time_clears_a_due_next_contact(users, customer, make_followup):
    Customer.objects.filter(pk=customer.pk).update(next_contact_at=timezone.now() - timedelta(hours=1))
    make_followup()
    customer.refresh_from_db()
    assert customer.next_contact_at is None


def test_next_contact_time_becomes_a_reminder_delivered_by_the_periodic_job(users, make_followup):
    from huey.contrib.djhuey import HUEY

    followup = make_followup(next_contact_at=later(hours=3), next_action="email")
    reminder = Reminder.objects.get(pk=followup.reminder_id)
    assert reminder.owner == users["sales1"]
    assert "发邮件" in reminder.title and "深圳甲科技有限公司" in reminder.title
    HUEY.immediate = True
    try:
        tasks.deliver_due_reminders()  # not due yet: nothing
        assert not Notification.objects.filter(kind="reminder").exists()
        Reminder.objects.filter(pk=reminder.pk).update(remind_at=timezone.now() - timedelta(minutes=1))
        tasks.deliver_due_reminders()  # three hours later
    finally:
        HUEY.immediate = False
    message = Notification.objects.get(recipient=users["sales1"], kind="reminder")
    assert "深圳甲科技有限公司" in message.title
    assert f"customer={followup.customer_id}" in message.url


def test_sales2_cannot_see_or_add_followups_on_sales1_customer(users, customer, make_followup, phone):
    followup = make_followup()
    with pytest.raises(Http404):
        services.followup_create(actor=users["sales2"], customer_id=customer.pk, type=phone, content="撞单")
    with pytest.raises(Http404):
        selectors.followup_get_for_user(user=users["sales2"], followup_id=followup.pk)
    assert list(selectors.followups_visible(users["sales2"])) == []
    assert selectors.followups_for_customer(users["sales2"], customer) == []
    assert FollowUp.objects.count() == 1


def test_manager_sees_team_followups_but_finance_without_permission_sees_none(users, make_followup):
    followup = make_followup()
    assert list(selectors.followups_visible(users["manager"])) == [followup]
    assert list(selectors.followups_visible(users["finance"])) == []


def test_service_role_may_read_but_not_write_on_a_customer_it_cannot_edit(users, customer, phone):
    with pytest.raises(Http404):
        services.followup_create(actor=users["service"], customer_id=customer.pk, type=phone, content="回访")
    with pytest.raises(PermissionRequiredError):
        services.followup_create(actor=users["finance"], customer_id=customer.pk, type=phone, content="x")


def _bad_inputs():
    return {
        "empty content": ({"content": "   "}, "请填写跟进内容"),
        "over-long content": ({"content": "字" * (CONTENT_MAX_LENGTH + 1)}, "不能超过 5000 个字"),
        "future followed_at": ({"followed_at": later(hours=2)}, "跟进时间不能晚于当前时间"),
        "past next contact": ({"next_contact_at": later(hours=-2)}, "下次联系时间必须是将来的时间"),
        "action without time": ({"next_action": "call"}, "请填写下次联系时间"),
    }


@pytest.mark.parametrize("case", list(_bad_inputs()))
def test_bad_input_is_refused_with_a_clear_message_and_saves_nothing(users, customer, make_followup, case):
    values, message = _bad_inputs()[case]
    before = Customer.objects.values("last_followup_at", "next_contact_at").get(pk=customer.pk)
    with pytest.raises(ValidationError, match=message):
        make_followup(**values)
    assert FollowUp.objects.count() == 0
    assert Reminder.objects.count() == 0
    assert Customer.objects.values("last_followup_at", "next_contact_at").get(pk=customer.pk) == before
    assert not OperationLog.objects.filter(action="followup.created").exists()


def test_contact_of_another_customer_is_refused(users, make_followup, other_customer):
    stranger = Contact.objects.create(customer=other_customer, name="李四")
    with pytest.raises(ValidationError, match="所选联系人不属于该客户"):
        make_followup(contact=stranger)
    assert FollowUp.objects.count() == 0


def test_type_from_another_dictionary_or_disabled_is_refused(users, make_followup):
    industry = DictionaryItem.objects.create(kind="industry", name="制造业测试")
    disabled = DictionaryItem.objects.create(kind="followup_type", name="传真测试", is_active=False)
    for item in (industry, disabled):
        with pytest.raises(ValidationError, match="跟进方式无效"):
            make_followup(type=item)
    assert FollowUp.objects.count() == 0


def test_author_may_change_within_24_hours_then_only_an_admin(users, make_followup, phone):
    followup = make_followup(next_contact_at=later(days=1))
    followup = services.followup_update(
        actor=users["sales1"],
        followup=followup,
        type=phone,
        contact=None,
        content="改正错别字",
        followed_at=followup.followed_at,
        next_contact_at=later(days=3),
        next_action="visit",
    )
    assert FollowUp.objects.get(pk=followup.pk).content == "改正错别字"
    assert Reminder.objects.count() == 1  # the old reminder was replaced, not duplicated
    FollowUp.objects.filter(pk=followup.pk).update(created_at=timezone.now() - timedelta(hours=25))
    with pytest.raises(ValidationError, match="24 小时"):
        services.followup_delete(actor=users["sales1"], followup=followup)
    with pytest.raises(ValidationError, match="24 小时"):  # the manager sees it but is no admin
        services.followup_delete(actor=users["manager"], followup=followup)
    with pytest.raises(Http404):
        services.followup_delete(actor=users["sales2"], followup=followup)
    services.followup_delete(actor=users["admin"], followup=followup)
    assert not FollowUp.objects.exists()
    assert not Reminder.objects.exists()
    assert OperationLog.objects.filter(action="followup.deleted").exists()


def test_manager_comments_and_the_author_is_notified(users, make_followup):
    followup = make_followup()
    comment = services.comment_create(actor=users["manager"], followup=followup, content="注意价格底线")
    assert comment.followup == followup
    note = Notification.objects.get(recipient=users["sales1"])
    assert "点评" in note.title and note.body == "注意价格底线"
    assert OperationLog.objects.filter(action="followup.commented").exists()


def test_manager_chain_may_comment_without_activities_edit(users, make_followup):
    from crm.accounts.tests.factories import RoleFactory

    followup = make_followup()
    boss = users["manager"]
    boss.roles.set([RoleFactory(permissions=["activities.view", "customers.view"], data_scope="all")])
    from crm.access import policy

    policy.forget(boss)
    services.comment_create(actor=boss, followup=followup, content="好")
    outsider = users["finance"]
    outsider.roles.set([RoleFactory(permissions=["activities.view", "customers.view"], data_scope="all")])
    policy.forget(outsider)
    with pytest.raises(PermissionRequiredError):
        services.comment_create(actor=outsider, followup=followup, content="我也说两句")
    assert FollowUpComment.objects.count() == 1


def test_comment_by_someone_who_cannot_see_the_followup_is_404(users, make_followup):
    followup = make_followup()
    with pytest.raises(Http404):
        services.comment_create(actor=users["sales2"], followup=followup, content="看不见")
    with pytest.raises(ValidationError, match="请填写点评内容"):
        services.comment_create(actor=users["manager"], followup=followup, content=" ")
    assert not FollowUpComment.objects.exists()
    assert not Notification.objects.exists()


def test_reminder_lists_sort_customers_and_pending_actions(users, customer, other_customer, make_followup):
    today = make_followup(next_contact_at=later(minutes=5), next_action="call")
    Customer.objects.filter(pk=other_customer.pk).update(next_contact_at=timezone.now() - timedelta(days=3))
    manager = users["manager"]
    if timezone.localtime(today.next_contact_at).date() == timezone.localdate():
        assert list(selectors.customers_to_contact(user=manager, tab="today")) == [customer]
    assert list(selectors.customers_to_contact(user=manager, tab="overdue")) == [other_customer]
    assert list(selectors.customers_to_contact(user=users["sales1"], tab="overdue")) == []
    assert list(selectors.pending_actions(user=manager, action="call")) == [today]
    assert list(selectors.pending_actions(user=manager, action="email")) == []
    # A later follow-up replaces the pending call.
    make_followup(next_contact_at=later(days=2), next_action="email")
    assert list(selectors.pending_actions(user=manager, action="call")) == []
    assert len(selectors.pending_actions(user=manager, action="email")) == 1


def test_templates_are_private_unless_shared(users, phone):
    mine = services.template_create(
        actor=users["sales1"], title="首次电话", content="您好，我是…", type=phone
    )
    shared = services.template_create(
        actor=users["manager"], title="报价跟进", content="报价已发", is_shared=True
    )
    assert set(selectors.templates_visible(users["sales1"])) == {mine, shared}
    assert set(selectors.templates_visible(users["sales2"])) == {shared}
    with pytest.raises(ValidationError, match="只有模板的创建人或管理员"):
        services.template_update(
            actor=users["sales1"], template=shared, title="改", content="改", type=None, is_shared=True
        )
    with pytest.raises(ValidationError, match="请填写模板内容"):
        services.template_create(actor=users["sales1"], title="空", content=" ")
    services.template_delete(actor=users["admin"], template=shared)
    assert set(selectors.templates_visible(users["sales2"])) == set()
