from datetime import timedelta

from django.core import mail
from django.utils import timezone

from crm.messaging import services
from crm.messaging.models import Notification, Reminder


def test_bell_shows_unread_count_and_mark_all_read(client, users):
    user = users["sales1"]
    for i in range(3):
        services.notification_send(recipient=user, title=f"消息{i}")
    services.notification_send(recipient=users["sales2"], title="别人的消息")
    client.force_login(user)
    bell = client.get("/messages/bell/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="unread-count">3<' in bell
    response = client.post("/messages/read-all/")
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=user, is_read=False).count() == 0
    assert Notification.objects.filter(recipient=users["sales2"], is_read=False).count() == 1
    assert 'data-testid="unread-count"' not in client.get("/messages/bell/").content.decode()


def test_opening_a_message_marks_it_read_and_follows_only_local_links(client, users):
    user = users["sales1"]
    local = services.notification_send(recipient=user, title="去看看", url="/messages/reminders/")
    evil = services.notification_send(recipient=user, title="钓鱼", url="https://evil.example.com/")
    client.force_login(user)
    assert client.post(f"/messages/{local.pk}/open/").url == "/messages/reminders/"
    assert client.post(f"/messages/{evil.pk}/open/").url == "/messages/"
    local.refresh_from_db()
    assert local.is_read and local.read_at is not None


def test_someone_elses_message_is_404(client, users):
    other = services.notification_send(recipient=users["sales2"], title="私信")
    client.force_login(users["sales1"])
    assert client.post(f"/messages/{other.pk}/open/").status_code == 404
    other.refresh_from_db()
    assert not other.is_read


def test_notification_email_goes_out_after_commit(users, django_capture_on_commit_callbacks, settings):
    settings.HUEY = settings.HUEY | {"immediate": True}
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.notification_send(
                recipient=users["sales1"], title="合同待审批", body="请审批", email=True
            )
    finally:
        HUEY.immediate = False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["sales1@example.com"]
    assert "合同待审批" in mail.outbox[0].subject


def test_reminder_page_creates_and_rejects_past_times(client, users):
    client.force_login(users["sales1"])
    future = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert client.post("/messages/reminders/", {"title": "回访客户", "remind_at": future}).status_code == 302
    response = client.post("/messages/reminders/", {"title": "太晚了", "remind_at": past})
    assert response.status_code == 400
    assert "提醒时间不能早于现在" in response.content.decode()
    assert list(Reminder.objects.values_list("title", flat=True)) == ["回访客户"]
