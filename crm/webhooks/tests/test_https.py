"""HTTPS deliveries connect to the checked address but verify the certificate against the URL's host
name (SNI), so pinning the address does not weaken TLS."""

import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crm.webhooks import netguard, services
from crm.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]


@pytest.fixture
def tls_server(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            shutil.which("openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=hooks.test",
            "-addext",
            "subjectAltName=DNS:hooks.test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"port": server.server_address[1], "cert": str(cert), "seen": seen}
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooks_test_resolves_to_loopback(monkeypatch):
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host == "hooks.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def _send(users, port, django_capture_on_commit_callbacks):
    services.allowed_host_create(actor=users["admin"], host="hooks.test")
    endpoint = WebhookEndpoint.objects.create(
        name="TLS", url=f"https://hooks.test:{port}/hook", events=["lead.created"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.endpoint_send_test(actor=users["admin"], endpoint=endpoint)
    return WebhookDelivery.objects.get(pk=delivery.pk)


def test_an_untrusted_certificate_fails_the_delivery(
    users, tls_server, hooks_test_resolves_to_loopback, immediate, django_capture_on_commit_callbacks
):
    delivery = _send(users, tls_server["port"], django_capture_on_commit_callbacks)
    assert delivery.status == "retrying" and delivery.error.startswith("TLS 握手或证书校验失败")
    assert tls_server["seen"] == []


def test_a_trusted_certificate_for_the_host_name_is_accepted_on_the_pinned_address(
    users,
    tls_server,
    hooks_test_resolves_to_loopback,
    immediate,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    real = ssl.create_default_context
    monkeypatch.setattr(netguard.ssl, "create_default_context", lambda: real(cafile=tls_server["cert"]))
    delivery = _send(users, tls_server["port"], django_capture_on_commit_callbacks)
    assert delivery.status == "success" and delivery.response_status == 204
    assert tls_server["seen"] == [f"hooks.test:{tls_server['port']}"]
