"""A real HTTP receiver on 127.0.0.1 (allow-listed), Huey in immediate mode, and helpers."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crm.webhooks import services


class Receiver:
    """Records every request; /ok answers 200, /fail 500, /redirect 302 → /ok, /gone 410."""

    def __init__(self):
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                )
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", "/ok")
                    self.end_headers()
                    return
                code = {"/ok": 200, "/fail": 500, "/gone": 410}.get(self.path.split("?")[0], 404)
                answer = json.dumps({"received": True, "filler": "x" * 5000}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/ok") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]


@pytest.fixture
def receiver():
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def immediate():
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = previous


@pytest.fixture
def allow_local(users):
    return services.allowed_host_create(actor=users["admin"], host="127.0.0.1", note="测试接收方")


@pytest.fixture
def make_endpoint(users, allow_local, receiver):
    def make(path="/ok", events=("customer.transferred",), name="财务系统", is_active=True):
        return services.endpoint_create(
            actor=users["admin"],
            values={"name": name, "url": receiver.url(path), "events": list(events), "is_active": is_active},
        )

    return make
