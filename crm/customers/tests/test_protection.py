"""Customer protection (客户保护, CUS-9): limits, cancelling, and the lapse reminder."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm.audit.models import OperationLog
from crm.customers import services
from crm.customers.models import Customer, CustomerAccess
from crm.customers.protection import customer_protect, customer_unprotect, protection_reminders_send
from crm.customers.tests.test_duplicates import make, set_policy
from crm.messaging.models import Notification


def test_owner_protects_for_some_days_and_it_is_logged(users):
    customer = make(users["sales1"], "甲公司")

    customer_protect(actor=users["sales1"], customer=customer, days=30)

    customer.refresh_from_db()
    assert customer.is_protected
    assert timedelta(days=29, hours=23) < customer.protected_until - timezone.now() <= timedelta(days=30)
    assert OperationLog.objects.filter(action="customer.protected", target_id=str(customer.pk)).exists()


def test_someone_else_cannot_protect_but_an_admin_can(users):
    customer = make(users["sales1"], "甲公司")

    with pytest.raises(ValidationError, match="只有负责人或管理员"):
        customer_protect(actor=users["manager"], customer=customer, days=10)
    assert Customer.objects.get(pk=customer.pk).protected_until is None

    customer_protect(actor=users["administrator"], customer=customer, days=10)
    assert Customer.objects.get(pk=customer.pk).is_protected


@pytest.mark.parametrize("days", [0, -1, 31, "abc"])
def test_days_must_be_within_the_policy(users, days):
    set_policy(protect_max_days=30)
    customer = make(users["sales1"], "甲公司")

    with pytest.raises(ValidationError, match="1 到 30 天"):
        customer_protect(actor=users["sales1"], customer=customer, days=days)

    assert Customer.objects.get(pk=customer.pk).protected_until is None


def test_an_owner_may_protect_only_so_many(users):
    set_policy(protect_max_count=2)
    first, second, third = (make(users["sales1"], name) for name in ("甲公司", "乙公司", "丙公司"))
    lapsed = make(users["sales1"], "丁公司")
    Customer.objects.filter(pk=lapsed.pk).update(protected_until=timezone.now() - timedelta(days=1))
    others = make(users["sales2"], "戊公司")
    customer_protect(actor=users["sales2"], customer=others, days=5)  # another owner's count
    customer_protect(actor=users["sales1"], customer=first, days=5)
    customer_protect(actor=users["sales1"], customer=second, days=5)

    with pytest.raises(ValidationError, match="达到上限"):
        customer_protect(actor=users["sales1"], customer=third, days=5)
    customer_protect(actor=users["sales1"], customer=second, days=9)  # renewing is not one more

    assert not Customer.objects.get(pk=third.pk).is_protected


def test_zero_means_no_count_limit(users):
    set_policy(protect_max_count=0)
    for name in ("甲公司", "乙公司", "丙公司"):
        customer_protect(actor=users["sales1"], customer=make(users["sales1"], name), days=5)

    assert Customer.objects.filter(protected_until__gt=timezone.now()).count() == 3


def test_a_pool_customer_cannot_be_protected(users):
    pooled = services.customer_create(
        actor=users["admin"], values={"name": "公海客户"}, pool=services.default_pool()
    )

    with pytest.raises(ValidationError, match="有负责人"):
        customer_protect(actor=users["admin"], customer=pooled, days=5)


def test_unprotect_returns_the_customer_to_the_default_pool(users):
    customer = make(users["sales1"], "甲公司")
    services.customers_share(
        actor=users["sales1"], customers=Customer.objects.filter(pk=customer.pk), users=[users["sales2"]]
    )
    customer_protect(actor=users["sales1"], customer=customer, days=5)

    customer_unprotect(actor=users["sales1"], customer=customer)

    customer.refresh_from_db()
    assert customer.owner is None and customer.pool == services.default_pool()
    assert customer.protected_until is None
    assert customer.previous_owner == users["sales1"]
    assert customer.release_reason == "取消保护" and customer.released_at is not None
    assert not CustomerAccess.objects.filter(customer=customer).exists()
    assert OperationLog.objects.filter(action="customer.unprotected", target_id=str(customer.pk)).exists()


def test_unprotecting_an_unprotected_customer_changes_nothing(users):
    customer = make(users["sales1"], "甲公司")

    with pytest.raises(ValidationError, match="未处于保护状态"):
        customer_unprotect(actor=users["sales1"], customer=customer)

    assert Customer.objects.get(pk=customer.pk).owner == users["sales1"]


def test_only_the_owner_or_an_admin_cancels_protection(users):
    customer = make(users["sales1"], "甲公司")
    customer_protect(actor=users["sales1"], customer=customer, days=5)

    with pytest.raises(ValidationError, match="只有负责人或管理员"):
        customer_unprotect(actor=users["manager"], customer=customer)

    assert Customer.objects.get(pk=customer.pk).owner == users["sales1"]


# ---------------------------------------------------------------- endpoints


def test_protect_and_unprotect_endpoints(client, users):
    customer = make(users["sales1"], "甲公司")
    client.force_login(users["sales1"])

    protected = client.post(reverse("customer_protection:protect", args=[customer.pk]), {"days": "7"})
    assert protected.status_code == 302
    assert Customer.objects.get(pk=customer.pk).is_protected

    released = client.post(reverse("customer_protection:unprotect", args=[customer.pk]))
    assert released.status_code == 302
    assert Customer.objects.get(pk=customer.pk).owner is None


def test_protect_endpoint_uses_the_policy_days_by_default_and_reports_errors(client, users):
    set_policy(protect_max_days=15, protect_max_count=1)
    first, second = make(users["sales1"], "甲公司"), make(users["sales1"], "乙公司")
    client.force_login(users["sales1"])

    client.post(reverse("customer_protection:protect", args=[first.pk]))
    refused = client.post(reverse("customer_protection:protect", args=[second.pk]), follow=True)

    lapse = Customer.objects.get(pk=first.pk).protected_until - timezone.now()
    assert timedelta(days=14) < lapse <= timedelta(days=15)
    assert not Customer.objects.get(pk=second.pk).is_protected
    assert "达到上限" in " ".join(str(m) for m in refused.context["messages"])


def test_protect_endpoints_are_post_only_and_404_out_of_scope(client, users):
    customer = make(users["sales2"], "甲公司")
    client.force_login(users["sales1"])

    assert client.get(reverse("customer_protection:protect", args=[customer.pk])).status_code == 405
    assert client.post(reverse("customer_protection:protect", args=[customer.pk])).status_code == 404
    assert client.post(reverse("customer_protection:unprotect", args=[customer.pk])).status_code == 404
    assert not Customer.objects.get(pk=customer.pk).is_protected


# ---------------------------------------------------------------- the lapse reminder


def test_reminder_goes_to_the_owner_once_per_lapse(users):
    set_policy(protect_remind_days=3)
    soon = make(users["sales1"], "甲公司")
    later = make(users["sales1"], "乙公司")
    customer_protect(actor=users["sales1"], customer=soon, days=2)
    customer_protect(actor=users["sales1"], customer=later, days=30)

    first_run = protection_reminders_send()
    second_run = protection_reminders_send()

    assert (first_run, second_run) == (1, 0)
    notes = Notification.objects.filter(recipient=users["sales1"])
    assert [n.title for n in notes] == [notes[0].title] and "甲公司" in notes[0].title
    # Protected again: a new lapse, so a new reminder when it comes near.
    customer_protect(actor=users["sales1"], customer=soon, days=1)
    assert protection_reminders_send() == 1
    assert Notification.objects.filter(recipient=users["sales1"]).count() == 2


def test_no_reminder_when_switched_off_or_lapsed(users):
    customer = make(users["sales1"], "甲公司")
    Customer.objects.filter(pk=customer.pk).update(protected_until=timezone.now() - timedelta(hours=1))
    assert protection_reminders_send() == 0

    set_policy(protect_remind_days=0)
    customer_protect(actor=users["sales1"], customer=customer, days=1)
    assert protection_reminders_send() == 0
    assert not Notification.objects.exists()


def test_reminder_job_runs_daily_at_eight_local_time(settings):
    from datetime import datetime

    from crm.customers.tasks import daily_at_local_hour

    validate = daily_at_local_hour(8)
    # huey passes naive UTC timestamps by default; 00:00 UTC is 08:00 in Asia/Shanghai.
    assert validate(datetime(2026, 11, 23, 0, 0))  # noqa: DTZ001
    assert not validate(datetime(2026, 11, 23, 8, 0))  # noqa: DTZ001
    assert not validate(datetime(2026, 11, 23, 0, 1))  # noqa: DTZ001


def test_reminders_are_sent_in_batches_each_once(users, monkeypatch):
    from crm.customers import protection

    monkeypatch.setattr(protection, "REMINDER_BATCH", 5)
    set_policy(protect_max_count=0)
    soon = timezone.now() + timedelta(days=1)
    customers = [make(users["sales1"], f"客户{i}号公司") for i in range(12)]
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(protected_until=soon)

    assert protection_reminders_send() == 12
    assert protection_reminders_send() == 0
    assert Notification.objects.filter(recipient=users["sales1"]).count() == 12
