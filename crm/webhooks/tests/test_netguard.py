"""The SSRF guard: scheme, user info, and every spelling of an internal address, refused unless an
admin allow-listed it; connections go to the address that was checked."""

import socket

import pytest

from crm.webhooks import netguard, services
from crm.webhooks.models import WebhookEndpoint

INTERNAL = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://0177.0.0.1/",  # octal
    "http://2130706433/",  # decimal
    "http://0x7f.1/",  # hex, short form
    "http://0x7f000001/",
    "http://127.1/",
    "http://0/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo of 127.0.0.1
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.10:8080/hook",
    "http://100.64.0.1/",  # shared address space
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",  # link-local
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://0.0.0.0/",
    "http://[::]/",
    "https://[fc00::1]/",  # unique local
]


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused(url):
    with pytest.raises(netguard.UnsafeURLError) as error:
        netguard.check(url)
    assert "不允许发送" in error.value.messages[0]


@pytest.mark.parametrize("url", INTERNAL)
def test_each_is_accepted_once_allow_listed(url):
    target = netguard.parse_url(url)
    (address,) = {a for a in netguard.resolve(target)} if target.literal else {netguard.resolve(target)[0]}
    by_address = netguard.AllowList.from_entries([str(address)])
    by_network = netguard.AllowList.from_entries(["0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"])
    assert netguard.check(url, by_address)[1] == address
    assert netguard.check(url, by_network)[1] == address


def test_allow_listing_a_host_name_allows_its_addresses(monkeypatch):
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.8", 443))],
    )
    with pytest.raises(netguard.UnsafeURLError):
        netguard.check("https://hooks.internal/x")
    target, address = netguard.check(
        "https://hooks.internal/x", netguard.AllowList.from_entries(["hooks.internal"])
    )
    assert target.host == "hooks.internal" and str(address) == "10.0.0.8"


def test_a_name_resolving_to_any_internal_address_is_refused(monkeypatch):
    answers = [("93.184.216.34", 80), ("127.0.0.1", 80)]
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", sa) for sa in answers],
    )
    with pytest.raises(netguard.UnsafeURLError):
        netguard.check("http://mixed.example/")


def test_public_addresses_pass():
    target, address = netguard.check("https://93.184.216.34:8443/hooks?a=1")
    assert (target.scheme, target.port, target.path, str(address)) == (
        "https",
        8443,
        "/hooks?a=1",
        "93.184.216.34",
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "请填写接收地址。"),
        ("ftp://93.184.216.34/", "接收地址只能以 http:// 或 https:// 开头。"),
        ("file:///etc/passwd", "接收地址只能以 http:// 或 https:// 开头。"),
        ("gopher://93.184.216.34/", "接收地址只能以 http:// 或 https:// 开头。"),
        ("93.184.216.34/hook", "接收地址只能以 http:// 或 https:// 开头。"),
        ("http://user:pw@93.184.216.34/", "接收地址不能包含用户名或密码。"),
        ("http://evil.example@127.0.0.1/", "接收地址不能包含用户名或密码。"),
        ("http:///path", "接收地址缺少主机名。"),
        ("http://93.184.216.34:99999/", "接收地址格式不正确。"),
        ("http://[::1/", "接收地址格式不正确。"),
        ("http://93.184.216.34/a b", "接收地址不能包含空格或控制字符。"),
        ("http://no-such-host.invalid/", "无法解析主机名“no-such-host.invalid”。"),
    ],
)
def test_url_validation_messages(url, message):
    with pytest.raises(netguard.UnsafeURLError) as error:
        netguard.check(url)
    assert error.value.messages == [message]


@pytest.mark.django_db
def test_saving_an_endpoint_validates_the_url_and_changes_nothing(users):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.endpoint_create(
            actor=users["admin"],
            values={"name": "内网", "url": "http://0177.0.0.1/", "events": ["lead.created"]},
        )
    assert "不允许发送" in error.value.message_dict["url"][0]
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.django_db
def test_connection_is_pinned_to_the_checked_address(
    users, receiver, monkeypatch, immediate, django_capture_on_commit_callbacks
):
    """The name is resolved once; the socket goes to that address while Host stays the name, so a
    second (rebinding) DNS answer is never used."""
    calls = []
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        calls.append(host)
        answer = "127.0.0.1" if len(calls) == 1 else "10.9.9.9"  # a rebinding resolver
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]

    services.allowed_host_create(actor=users["admin"], host="127.0.0.1")
    endpoint = WebhookEndpoint.objects.create(
        name="重绑定", url=f"http://rebind.example:{receiver.port}/ok", events=["lead.created"]
    )
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.endpoint_send_test(actor=users["admin"], endpoint=endpoint)
    delivery.refresh_from_db()
    assert delivery.status == "success"
    assert calls == ["rebind.example"]
    assert receiver.requests[0]["headers"]["Host"] == f"rebind.example:{receiver.port}"


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("10.0.0.0/24", "10.0.0.0/24"),
        ("10.0.0.7/24", "10.0.0.0/24"),
        ("[::1]", "::1"),
        ("fd00::/64", "fd00::/64"),
        ("Hooks.Internal.", "hooks.internal"),
        ("0177.0.0.1", "127.0.0.1"),
    ],
)
@pytest.mark.django_db
def test_allowed_hosts_are_normalised(users, value, stored):
    assert services.allowed_host_create(actor=users["admin"], host=value).host == stored


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "请填写主机名、IP 地址或网段。"),
        ("0.0.0.0/0", "网段范围太大"),
        ("::/0", "网段范围太大"),
        ("*.internal", "不是有效的主机名"),
        ("http://x/", "不是有效的主机名"),
        ("a b", "不是有效的主机名"),
    ],
)
@pytest.mark.django_db
def test_bad_allowed_hosts_are_refused(users, value, message):
    from django.core.exceptions import ValidationError

    from crm.webhooks.models import WebhookAllowedHost

    with pytest.raises(ValidationError) as error:
        services.allowed_host_create(actor=users["admin"], host=value)
    assert message in error.value.message_dict["host"][0]
    assert WebhookAllowedHost.objects.count() == 0
