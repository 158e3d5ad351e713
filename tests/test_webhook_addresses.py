# ruff: noqa: F811  (pytest fixtures imported from tests.test_notif_support)
"""Webhooks reach public addresses only, unless the operator allows private ones.

Registration refuses a URL that names a loopback, private, link-local, multicast or unspecified
address; every delivery checks the addresses the name resolves to, connects only to one it
checked, never follows a redirect, and its log says "refused: private address" or "connection
failed" and nothing more. Real receivers on loopback, SQLite and PostgreSQL.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from starlette.testclient import TestClient

from chinwag.clock import FakeClock
from chinwag.config import ConfigError, load
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.web.app import create_app
from chinwag.webhooks import addresses
from chinwag.webhooks.poster import ConnectionFailed, HttpPoster, Refused
from tests.conftest import Api
from tests.test_notif_support import (  # noqa: F401  (fixtures)
    HttpRecorder,
    allow_private_webhooks,
    hook_server,
    make_worker,
    nctx,
    notif_db,
    notif_db_url,
)

REFUSED = [
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "224.0.0.1",
    "239.255.255.250",
    "0.0.0.0",
    "255.255.255.255",
    "192.0.2.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "64:ff9b::7f00:1",
    "2002:7f00:1::1",
    "2001:db8::1",
]
ALLOWED = ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1"]


@pytest.mark.parametrize("text", REFUSED)
def test_non_public_addresses_are_refused(text: str) -> None:
    assert addresses.is_refused(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", ALLOWED)
def test_public_addresses_are_allowed(text: str) -> None:
    assert not addresses.is_refused(ipaddress.ip_address(text))


def test_every_numeric_spelling_is_an_address() -> None:
    for host in ("127.1", "0x7f.0.0.1", "017700000001", "2130706433", "[::ffff:7f00:1]"):
        assert addresses.parse_numeric(host) in (
            ipaddress.ip_address("127.0.0.1"),
            ipaddress.ip_address("::ffff:127.0.0.1"),
        ), host
    assert addresses.parse_numeric("example.com") is None


def test_the_setting_is_read_and_checked() -> None:
    assert load(environ={}).webhook_allow_private is False
    assert load(environ={"CHINWAG_WEBHOOK_ALLOW_PRIVATE": "ON"}).webhook_allow_private is True
    assert load({"webhook_allow_private": "on"}, environ={}).webhook_allow_private is True
    with pytest.raises(ConfigError, match="webhook allow private"):
        load(environ={"CHINWAG_WEBHOOK_ALLOW_PRIVATE": "yes"})


@pytest.fixture
def api(nctx: Context) -> Iterator[Api]:
    keys = apps.create_app(nctx, f"ssrf-{uuid.uuid4().hex[:6]}")
    with TestClient(create_app(nctx)) as client:
        yield Api(client, keys.app.id, keys.secret_keys[0])


def test_registration_refuses_private_addresses_unless_allowed(api: Api) -> None:
    bad = [
        "http://127.0.0.1:8000/hook",
        "http://127.1/hook",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1%25eth0]/",
        "https://10.0.0.5/",
        "http://169.254.169.254/latest/meta-data/",
        "http://224.0.0.1/",
        "http://0.0.0.0:22/",
        "http://localhost:6379/",
        "http://LOCALHOST./",
        "http://anything.localhost/",
    ]
    for url in bad:
        response = api.post("/webhooks", {"url": url})
        assert response.status_code == 400, url
        body = response.json()
        assert body["errorCode"] == "INVALID_REQUEST"
        assert "CHINWAG_WEBHOOK_ALLOW_PRIVATE" in body["reasons"][0]
    for url in ("http://[::1", "http://[zz]/", "http://a:99999/", "http://a\x00b/", "http://a b/"):
        response = api.post("/webhooks", {"url": url})  # malformed: a 400, never a 500
        assert response.status_code == 400, url
        assert response.json()["errorCode"] == "INVALID_REQUEST"
    assert api.ok(api.get("/webhooks"))["data"] == []
    hook = api.ok(api.post("/webhooks", {"url": "https://hooks.example.test/in"}))
    response = api.patch(f"/webhooks/{hook['id']}", {"url": "http://192.168.0.1/"})
    assert response.status_code == 400
    assert api.ok(api.get(f"/webhooks/{hook['id']}"))["url"] == "https://hooks.example.test/in"
    addresses.set_allow_private(True)
    try:
        assert api.ok(api.post("/webhooks", {"url": "http://127.0.0.1:8000/hook"}))
        assert api.ok(api.patch(f"/webhooks/{hook['id']}", {"url": "http://localhost/"}))
    finally:
        addresses.set_allow_private(False)


def drain(ctx: Context, clock: FakeClock, allow_private: bool) -> None:
    worker = make_worker(ctx.db, clock, allow_private_webhooks=allow_private)
    try:
        worker.drain()
    finally:
        worker.close()


def test_delivery_checks_the_resolved_address_and_says_only_refused(
    nctx: Context,
    api: Api,
    clock: FakeClock,
    hook_server: HttpRecorder,
    allow_private_webhooks: None,
) -> None:
    # Registered while private addresses were allowed; delivered by a worker that refuses them:
    # the literal address, and a name that resolves to loopback.
    port = hook_server.url.rsplit(":", 1)[1]
    by_ip = api.ok(api.post("/webhooks", {"url": hook_server.url + "/ip"}))
    by_name = api.ok(api.post("/webhooks", {"url": f"http://localhost:{port}/name"}))
    api.ok(api.put("/users/u", {"name": "U"}))
    drain(nctx, clock, allow_private=False)
    assert hook_server.received() == []
    for hook in (by_ip, by_name):
        (entry,) = api.ok(api.get(f"/webhooks/{hook['id']}/deliveries"))["data"]
        assert (entry["status"], entry["lastStatus"]) == ("pending", None)
        assert entry["lastError"] == "refused: private address"
    # Allowed again, the retries go through.
    clock.advance(10_000)
    drain(nctx, clock, allow_private=True)
    assert sorted(r.path for r in hook_server.received()) == ["/ip", "/name"]


def test_connection_failures_say_nothing_more(
    nctx: Context,
    api: Api,
    clock: FakeClock,
    allow_private_webhooks: None,
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: the connection is refused
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts, never answers: the read times out
    try:
        urls = {
            "closed": f"http://127.0.0.1:{closed.getsockname()[1]}/",
            "silent": f"http://127.0.0.1:{silent.getsockname()[1]}/",
        }
        hooks = {k: api.ok(api.post("/webhooks", {"url": u})) for k, u in urls.items()}
        api.ok(api.put("/users/u", {"name": "U"}))
        worker = make_worker(nctx.db, clock, allow_private_webhooks=True)
        worker.poster = HttpPoster(timeout=0.5, allow_private=True)
        try:
            worker.drain()
        finally:
            worker.close()
        for hook in hooks.values():
            (entry,) = api.ok(api.get(f"/webhooks/{hook['id']}/deliveries"))["data"]
            assert (entry["status"], entry["lastError"]) == ("pending", "connection failed")
    finally:
        closed.close()
        silent.close()


class _Redirecting(BaseHTTPRequestHandler):
    target = ""
    hits: list[str] = []

    def do_POST(self) -> None:
        self.hits.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(307)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


def test_redirects_are_not_followed(
    nctx: Context,
    api: Api,
    clock: FakeClock,
    hook_server: HttpRecorder,
    allow_private_webhooks: None,
) -> None:
    handler = type("Handler", (_Redirecting,), {"target": hook_server.url + "/inner", "hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/outer"
        hook = api.ok(api.post("/webhooks", {"url": url}))
        api.ok(api.put("/users/u", {"name": "U"}))
        drain(nctx, clock, allow_private=True)
        assert handler.hits == ["/outer"]
        assert hook_server.received() == []
        (entry,) = api.ok(api.get(f"/webhooks/{hook['id']}/deliveries"))["data"]
        assert (entry["lastStatus"], entry["lastError"]) == (307, "the receiver answered 307")
    finally:
        server.shutdown()
        server.server_close()


def test_the_name_is_resolved_once_and_the_checked_address_is_connected(
    hook_server: HttpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No second lookup between the check and the connection (DNS rebinding): every lookup
    after the first is of a numeric address, which the resolver answers without DNS."""
    lookups: list[str] = []
    real = socket.getaddrinfo

    def watching(host: Any, *args: Any, **kw: Any) -> Any:
        lookups.append(str(host))
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", watching)
    port = hook_server.url.rsplit(":", 1)[1]
    poster = HttpPoster(allow_private=True)
    assert poster.post(f"http://localhost:{port}/x", b"{}", {}) == 200
    assert lookups[0] == "localhost"
    assert all(addresses.parse_numeric(h) is not None for h in lookups[1:]), lookups
    assert hook_server.received()[0].headers["host"] == f"localhost:{port}"
    lookups.clear()
    with pytest.raises(Refused):
        HttpPoster(allow_private=False).post(f"http://localhost:{port}/x", b"{}", {})
    assert lookups == ["localhost"]  # refused before any connection
    assert len(hook_server.received()) == 1
    with pytest.raises(ConnectionFailed):
        HttpPoster(allow_private=True).post("http://[::ffff:127.0.0.1]:1/", b"{}", {})
