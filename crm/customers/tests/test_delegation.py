from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.accounts.models import User
from crm.customers import selectors, services
from crm.customers.delegation import delegation_create, delegation_revoke
from crm.customers.models import Customer
from crm.messaging.models import Notification


@pytest.fixture
def customers(users):
    return [
        services.customer_create(actor=users["sales1"], values={"name": f"授权客户{i}"}) for i in range(3)
    ]


def fresh(user):
    return User.objects.get(pk=user.pk)


def delegate(users, customers, *, start=-1, end=24, django_capture_on_commit_callbacks=None):
    now = timezone.now()
    return delegation_create(
        actor=users["sales1"],
        from_user=users["sales1"],
        to_user=users["sales2"],
        customers=Customer.objects.filter(pk__in=[c.pk for c in customers[:2]]),
        starts_at=now + timedelta(hours=start),
        ends_at=now + timedelta(hours=end),
        note="休假",
    )


def test_delegated_customers_are_visible_and_editable_while_in_force(
    users, customers, django_capture_on_commit_callbacks
):
    assert list(selectors.customers_visible(fresh(users["sales2"]))) == []
    with django_capture_on_commit_callbacks(execute=True):
        delegate(users, customers)
    visible = set(selectors.customers_visible(fresh(users["sales2"])).values_list("name", flat=True))
    assert visible == {"授权客户0", "授权客户1"}
    assert selectors.can_edit_customer(fresh(users["sales2"]), customers[0])
    assert not selectors.can_edit_customer(fresh(users["sales2"]), customers[2])
    assert Notification.objects.filter(recipient=users["sales2"], title__contains="临时授权").exists()


def test_delegation_expires_by_itself_and_can_be_revoked(users, customers):
    from crm.customers.models import Delegation

    current = delegate(users, customers)
    later = delegate(users, customers, start=2, end=24)
    assert selectors.customers_visible(fresh(users["sales2"])).count() == 2
    Delegation.objects.filter(pk=current.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    assert selectors.customers_visible(fresh(users["sales2"])).count() == 0  # expired; the other starts later
    Delegation.objects.filter(pk=later.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    assert selectors.customers_visible(fresh(users["sales2"])).count() == 2
    delegation_revoke(actor=users["sales1"], delegation=later)
    assert selectors.customers_visible(fresh(users["sales2"])).count() == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"start": 1, "end": 0}, "结束时间必须晚于开始时间"),
        ({"start": -48, "end": -1}, "结束时间必须晚于现在"),
        ({"start": 0, "end": 24 * 200}, "最长"),
    ],
)
def test_bad_periods_are_refused(users, customers, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        delegate(users, customers, **kwargs)


def test_only_own_or_subordinates_customers(users, customers):
    now = timezone.now()
    with pytest.raises(ValidationError, match="只能授权自己或下属"):
        delegation_create(
            actor=users["sales2"],
            from_user=users["sales1"],
            to_user=users["sales2"],
            customers=Customer.objects.all(),
            starts_at=now,
            ends_at=now + timedelta(days=1),
        )
    # the manager may delegate on behalf of a subordinate
    delegation_create(
        actor=users["manager"],
        from_user=users["sales1"],
        to_user=users["sales2"],
        customers=Customer.objects.all(),
        starts_at=now,
        ends_at=now + timedelta(days=1),
    )


def test_delegation_page(client, users, customers):
    client.force_login(users["sales1"])
    now = timezone.localtime()
    response = client.post(
        "/customers/delegations/",
        {
            "to_user": users["sales2"].pk,
            "customers": [customers[0].pk],
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    page = client.get("/customers/delegations/").content.decode()
    assert "生效中" in page
    # another user's customers cannot be chosen
    other = services.customer_create(actor=users["sales2"], values={"name": "别人的客户"})
    response = client.post(
        "/customers/delegations/",
        {
            "to_user": users["sales2"].pk,
            "customers": [other.pk],
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 400
