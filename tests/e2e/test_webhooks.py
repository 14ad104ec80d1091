"""Webhooks in a real browser: an admin allow-lists the local receiver, subscribes it to customer
events, sends a test event and sees the signed delivery in the log; then a customer transfer in
the CRM reaches the receiver."""

import hashlib
import hmac
import json

import pytest

from crm.webhooks.tests.conftest import Receiver
from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver():
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def _immediate_jobs():
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


def test_admin_sets_up_a_webhook_and_sees_deliveries(
    page, admin_user, make_user, ui, screenshot, receiver, _immediate_jobs
):
    from crm.customers import services as customer_services
    from crm.customers.models import Customer
    from crm.webhooks.models import WebhookEndpoint

    ui.login(page, "admin", ADMIN_PASSWORD)
    page.goto("/webhooks/")
    assert "webhooks" in ui.nav_keys(page)
    screenshot(page, "webhooks-empty")

    # A loopback receiver is refused until it is allow-listed.
    page.click("[data-testid=webhook-create]")
    page.fill("#id_name", "订单中台")
    page.fill("#id_url", receiver.url())
    page.check("[data-testid='event-customer.transferred']")
    page.check("[data-testid='event-customer.created']")
    page.click("[data-testid=webhook-submit]")
    assert "不允许发送" in page.locator("[data-testid=webhook-form]").inner_text()
    screenshot(page, "webhooks-form-refused")

    page.goto("/webhooks/allowed-hosts/")
    page.fill("#id_host", "127.0.0.1")
    page.fill("#id_note", "本机测试接收方")
    with page.expect_navigation():
        page.click("[data-testid=allowed-host-submit]")
    assert page.locator("[data-testid=allowed-host-row]").count() == 1
    screenshot(page, "webhooks-allowed-hosts")

    page.goto("/webhooks/new/")
    page.fill("#id_name", "订单中台")
    page.fill("#id_url", receiver.url())
    page.check("[data-testid='event-customer.transferred']")
    page.check("[data-testid='event-customer.created']")
    with page.expect_navigation():
        page.click("[data-testid=webhook-submit]")
    endpoint = WebhookEndpoint.objects.get()
    assert page.locator("[data-testid=webhook-event]").count() == 2

    with page.expect_navigation():
        page.click("[data-testid=webhook-test]")
    assert "成功" in page.locator("[data-testid=delivery-status]").inner_text()
    screenshot(page, "webhooks-delivery")
    (request,) = receiver.requests
    timestamp = request["headers"]["X-CRM-Timestamp"]
    expected = hmac.new(endpoint.secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256)
    assert request["headers"]["X-CRM-Signature"] == "sha256=" + expected.hexdigest()

    sales1 = make_user("sales1", roles=["sales"], name="李娜")
    sales2 = make_user("sales2", roles=["sales"], name="王强")
    customer = customer_services.customer_create(actor=sales1, values={"name": "深圳市华强电子有限公司"})
    customer_services.customers_transfer(
        actor=admin_user, customers=Customer.objects.filter(pk=customer.pk), to_user=sales2
    )
    assert [json.loads(r["body"])["event"] for r in receiver.requests] == [
        "webhook.test",
        "customer.created",
        "customer.transferred",
    ]
    page.goto(f"/webhooks/{endpoint.pk}/")
    assert page.locator("[data-testid=delivery-row]").count() == 3
    screenshot(page, "webhooks-detail")
    page.goto("/webhooks/")
    screenshot(page, "webhooks-list")
    assert [e for e in page.console_errors if "400 (Bad Request)" not in e] == []
