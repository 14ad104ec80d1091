"""The webhook pages: who may see them, what they show, and bad input answered in Chinese."""

import pytest
from django.urls import reverse

from crm.audit.models import OperationLog
from crm.webhooks import services
from crm.webhooks.models import WebhookAllowedHost, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(make_endpoint):
    return make_endpoint(events=["customer.transferred", "contract.approved"])


@pytest.fixture
def delivery(endpoint):
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="customer.transferred",
        payload={"id": "x", "event": "customer.transferred", "data": {"name": "<b>深圳华创</b>"}},
        status="failed",
        attempts=6,
        response_status=500,
        response_ms=42,
        response_body="服务器内部错误",
        error="接收方返回 HTTP 500。",
    )


def _urls(endpoint, delivery, allowed):
    return [
        ("get", reverse("webhooks:list")),
        ("get", reverse("webhooks:create")),
        ("get", reverse("webhooks:detail", args=[endpoint.pk])),
        ("get", reverse("webhooks:edit", args=[endpoint.pk])),
        ("get", reverse("webhooks:delivery", args=[delivery.pk])),
        ("get", reverse("webhooks:allowed_hosts")),
        ("post", reverse("webhooks:action", args=[endpoint.pk])),
        ("post", reverse("webhooks:replay", args=[delivery.pk])),
        ("post", reverse("webhooks:allowed_host_delete", args=[allowed.pk])),
    ]


@pytest.mark.parametrize("role", ["sales1", "manager", "finance", "norole"])
def test_everyone_without_settings_permission_gets_403(client, users, role, endpoint, delivery, allow_local):
    client.force_login(users[role])
    for method, url in _urls(endpoint, delivery, allow_local):
        assert getattr(client, method)(url, {"action": "delete"}).status_code == 403, url
    assert WebhookEndpoint.objects.count() == 1 and WebhookDelivery.objects.count() == 1


def test_anonymous_is_sent_to_login(client):
    assert client.get(reverse("webhooks:list")).status_code == 302


@pytest.mark.parametrize(
    "name",
    ["webhooks:detail", "webhooks:edit", "webhooks:delivery"],
)
def test_unknown_ids_answer_404(admin_client, name):
    assert admin_client.get(reverse(name, args=[999999])).status_code == 404


def test_unknown_ids_answer_404_on_posts(admin_client):
    for name in ("webhooks:action", "webhooks:replay", "webhooks:allowed_host_delete"):
        assert admin_client.post(reverse(name, args=[999999]), {"action": "delete"}).status_code == 404


def test_nav_shows_the_webhook_entry_to_admins_only(admin_client, client, users):
    assert reverse("webhooks:list") in admin_client.get(reverse("home")).content.decode()
    client.force_login(users["sales1"])
    assert reverse("webhooks:list") not in client.get(reverse("home")).content.decode()


def test_list_shows_endpoints_and_last_delivery_in_bounded_queries(
    admin_client, users, make_endpoint, django_assert_max_num_queries
):
    for i in range(12):
        endpoint = make_endpoint(name=f"系统{i}")
        WebhookDelivery.objects.create(
            endpoint=endpoint, event="customer.transferred", status="success", response_status=200
        )
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("webhooks:list"))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="webhook-row"') == 12
    assert "系统11" in page and "成功" in page and "HTTP 200" in page


def test_detail_shows_secret_log_and_verification_help(
    admin_client, endpoint, delivery, django_assert_max_num_queries
):
    for _ in range(30):
        WebhookDelivery.objects.create(endpoint=endpoint, event="contract.approved", status="success")
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("webhooks:detail", args=[endpoint.pk]))
    page = response.content.decode()
    assert endpoint.secret in page
    assert "客户·转移" in page or "转移" in page
    assert page.count('data-testid="delivery-row"') == 31
    assert "hmac.compare_digest" in page and "X-CRM-Signature" in page
    failed = admin_client.get(
        reverse("webhooks:detail", args=[endpoint.pk]), {"status": "failed"}
    ).content.decode()
    assert failed.count('data-testid="delivery-row"') == 1


def test_delivery_page_shows_payload_and_response_escaped(admin_client, delivery):
    page = admin_client.get(reverse("webhooks:delivery", args=[delivery.pk])).content.decode()
    assert "&lt;b&gt;深圳华创&lt;/b&gt;" in page and "<b>深圳华创</b>" not in page
    assert "服务器内部错误" in page and "接收方返回 HTTP 500。" in page and "42 ms" in page


def test_admin_creates_an_endpoint_with_grouped_events(admin_client, allow_local, receiver):
    response = admin_client.post(
        reverse("webhooks:create"),
        {
            "name": "订单中台",
            "url": receiver.url(),
            "events": ["customer.claimed", "receivable.approved"],
            "is_active": "on",
        },
    )
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "webhooks:detail", args=[endpoint.pk]
    )
    assert endpoint.events == ["customer.claimed", "receivable.approved"] and endpoint.is_active
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 30
    assert OperationLog.objects.filter(action="webhook.created", target_id=str(endpoint.pk)).exists()
    assert endpoint.secret not in str(OperationLog.objects.get(action="webhook.created").changes)
    form = admin_client.get(reverse("webhooks:edit", args=[endpoint.pk])).content.decode()
    assert 'value="customer.claimed" checked' in form and 'value="lead.created" checked' not in form


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"name": "内网", "url": "http://192.168.1.5/hook", "events": ["lead.created"]}, "不允许发送"),
        ({"name": "本机", "url": "http://[::ffff:127.0.0.1]/", "events": ["lead.created"]}, "不允许发送"),
        (
            {"name": "FTP", "url": "ftp://93.184.216.34/", "events": ["lead.created"]},
            "只能以 http:// 或 https:// 开头",
        ),
        (
            {"name": "口令", "url": "https://a:b@93.184.216.34/", "events": ["lead.created"]},
            "不能包含用户名或密码",
        ),
        ({"name": "无事件", "url": "https://93.184.216.34/"}, "请至少选择一个事件。"),
        ({"name": "", "url": "https://93.184.216.34/", "events": ["lead.created"]}, "该字段是必填项。"),
        (
            {"name": "乱填", "url": "https://93.184.216.34/", "events": ["customer.exploded"]},
            "customer.exploded",
        ),
    ],
)
def test_bad_input_gets_a_chinese_message_and_creates_nothing(admin_client, data, field_message):
    response = admin_client.post(reverse("webhooks:create"), data)
    assert response.status_code == 400
    assert field_message in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_edit_keeps_the_secret_and_refuses_an_internal_url(admin_client, endpoint):
    secret = endpoint.secret
    response = admin_client.post(
        reverse("webhooks:edit", args=[endpoint.pk]),
        {"name": "改名", "url": "http://169.254.169.254/", "events": ["lead.created"]},
    )
    assert response.status_code == 400 and "不允许发送" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.name == "财务系统" and endpoint.secret == secret


def test_regenerate_secret_test_event_and_delete(
    admin_client, endpoint, receiver, immediate, django_capture_on_commit_callbacks
):
    old = endpoint.secret
    admin_client.post(reverse("webhooks:action", args=[endpoint.pk]), {"action": "regenerate"})
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("webhooks:action", args=[endpoint.pk]), {"action": "test"})
    delivery = WebhookDelivery.objects.get(event="webhook.test")
    assert response["Location"] == reverse("webhooks:delivery", args=[delivery.pk])
    # After the commit the job ran (immediate mode).
    assert delivery.status == "success" and receiver.paths() == ["/ok"]

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("webhooks:replay", args=[delivery.pk]))
    assert WebhookDelivery.objects.count() == 2 and len(receiver.requests) == 2

    admin_client.post(reverse("webhooks:action", args=[endpoint.pk]), {"action": "delete"})
    assert WebhookEndpoint.objects.count() == 0 and WebhookDelivery.objects.count() == 0


def test_allowed_hosts_page(admin_client):
    response = admin_client.post(
        reverse("webhooks:allowed_hosts"), {"host": "10.0.0.0/24", "note": "内网 OA"}
    )
    assert response.status_code == 302
    page = admin_client.get(reverse("webhooks:allowed_hosts")).content.decode()
    assert "10.0.0.0/24" in page and "内网 OA" in page
    response = admin_client.post(reverse("webhooks:allowed_hosts"), {"host": "10.0.0.9/24"})
    assert response.status_code == 400 and "已在允许列表中" in response.content.decode()
    response = admin_client.post(reverse("webhooks:allowed_hosts"), {"host": "0.0.0.0/0"})
    assert response.status_code == 400 and "网段范围太大" in response.content.decode()
    entry = WebhookAllowedHost.objects.get()
    admin_client.post(reverse("webhooks:allowed_host_delete", args=[entry.pk]))
    assert WebhookAllowedHost.objects.count() == 0


def test_services_validate_before_saving(users):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.endpoint_create(
            actor=users["admin"], values={"name": "x", "url": "http://10.0.0.1/", "events": []}
        )
    assert WebhookEndpoint.objects.count() == 0
