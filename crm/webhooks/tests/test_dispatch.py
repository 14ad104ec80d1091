"""Business actions become webhook deliveries after commit, only for subscribed active endpoints,
at no cost when nobody listens, and never at the price of the business action."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.customers import services as customer_services
from crm.customers.models import Customer
from crm.webhooks import dispatch, services
from crm.webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def _transfer(users, customer, to="sales2"):
    return customer_services.customers_transfer(
        actor=users["admin"], customers=Customer.objects.filter(pk=customer.pk), to_user=users[to]
    )


@pytest.fixture
def customer(users):
    return customer_services.customer_create(actor=users["sales1"], values={"name": "深圳华创科技有限公司"})


def _webhook_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "webhooks_" in q["sql"]]


def test_transfer_creates_a_delivery_only_for_endpoints_subscribed_to_it(
    users, customer, make_endpoint, receiver, immediate, django_capture_on_commit_callbacks
):
    listening = make_endpoint(events=["customer.transferred", "customer.created"], name="订单中台")
    make_endpoint(events=["customer.created"], name="只要新建")
    make_endpoint(events=["customer.transferred"], name="已停用", is_active=False)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert _transfer(users, customer) == 1
    assert WebhookDelivery.objects.count() == 0  # nothing before the transaction commits
    with django_capture_on_commit_callbacks(execute=True):  # the commit: deliveries, then their jobs
        for callback in callbacks:
            callback()

    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == listening and delivery.event == "customer.transferred"
    assert delivery.status == WebhookDelivery.Status.SUCCESS  # sent by the job (immediate mode)
    payload = delivery.payload
    assert payload["id"] == str(delivery.uuid)
    assert payload["event"] == "customer.transferred"
    assert payload["actor"] == {"id": users["admin"].pk, "name": users["admin"].display_name}
    assert payload["data"]["type"] == "customer" and payload["data"]["id"] == customer.pk
    assert payload["data"]["name"] == "深圳华创科技有限公司"
    assert payload["data"]["changes"] == {"owner": [None, str(users["sales2"])]}
    assert payload["data"]["url"] == f"/api/v1/customers/{customer.pk}/"
    assert payload["occurred_at"]
    assert receiver.paths() == ["/ok"]


def test_a_rolled_back_action_sends_nothing(
    users, customer, make_endpoint, django_capture_on_commit_callbacks
):
    make_endpoint()
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                _transfer(users, customer)
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert WebhookDelivery.objects.count() == 0


def test_bulk_log_rows_make_one_delivery_each(
    users, make_endpoint, immediate, django_capture_on_commit_callbacks
):
    make_endpoint(events=["customer.transferred"])
    rows = [
        customer_services.customer_create(actor=users["sales1"], values={"name": f"客户{i}号有限公司"})
        for i in range(3)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        customer_services.customers_transfer(
            actor=users["admin"],
            customers=Customer.objects.filter(pk__in=[c.pk for c in rows]),
            to_user=users["sales2"],
        )
    assert sorted(WebhookDelivery.objects.values_list("payload__data__id", flat=True)) == sorted(
        c.pk for c in rows
    )


def test_no_webhook_query_when_nothing_is_subscribed(users, customer, django_capture_on_commit_callbacks):
    assert dispatch.subscribed_events() == frozenset()  # warms the cache, as the first request would
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        _transfer(users, customer)
    assert captured.captured_queries  # the transfer itself ran
    assert _webhook_queries(captured) == []


def test_no_webhook_query_when_other_events_are_subscribed(
    users, customer, make_endpoint, django_capture_on_commit_callbacks
):
    make_endpoint(events=["contract.approved"])
    dispatch.subscribed_events()
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        _transfer(users, customer)
    assert _webhook_queries(captured) == []
    assert WebhookDelivery.objects.count() == 0


def test_unmapped_actions_never_look_at_webhooks_even_with_a_cold_cache(
    users, customer, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        customer_services.customers_share(
            actor=users["admin"], customers=Customer.objects.filter(pk=customer.pk), users=[users["sales2"]]
        )
    assert _webhook_queries(captured) == []


def test_saving_an_endpoint_refreshes_the_cached_subscriptions(users, make_endpoint):
    assert dispatch.subscribed_events() == frozenset()
    endpoint = make_endpoint(events=["lead.created"])
    assert dispatch.subscribed_events() == {"lead.created"}
    services.endpoint_update(
        actor=users["admin"],
        endpoint=endpoint,
        values={"is_active": False, "name": endpoint.name, "url": endpoint.url, "events": endpoint.events},
    )
    assert dispatch.subscribed_events() == frozenset()
    endpoint.delete()
    assert dispatch.subscribed_events() == frozenset()


def test_a_failing_hook_never_breaks_the_business_action(
    users, customer, make_endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    make_endpoint()

    def broken(events):
        raise RuntimeError("webhook tables are on fire")

    monkeypatch.setattr(services, "deliveries_create_for_events", broken)
    with django_capture_on_commit_callbacks(execute=True):
        assert _transfer(users, customer) == 1
    customer.refresh_from_db()
    assert customer.owner == users["sales2"]


def test_a_broken_cache_never_breaks_the_business_action(users, customer, monkeypatch):
    class BrokenCache:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache down")

    monkeypatch.setattr(dispatch, "cache", BrokenCache())
    assert _transfer(users, customer) == 1


@pytest.mark.django_db(transaction=True)
def test_real_commit_creates_and_sends_the_delivery(users, make_endpoint, receiver, immediate):
    """No captured callbacks: the service's own transaction commits, then the delivery is created and
    the job (immediate mode) posts it."""
    make_endpoint(events=["customer.created", "customer.transferred"])
    created = customer_services.customer_create(
        actor=users["sales1"], values={"name": "杭州云栖网络有限公司"}
    )
    _transfer(users, created)
    assert list(WebhookDelivery.objects.order_by("pk").values_list("event", "status")) == [
        ("customer.created", "success"),
        ("customer.transferred", "success"),
    ]
    assert [r["headers"]["X-CRM-Event"] for r in receiver.requests] == [
        "customer.created",
        "customer.transferred",
    ]
