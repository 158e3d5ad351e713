"""The production recipe of docs/deploy.md, run: Debian's nginx with the nginx configuration of
that page (only its ports and certificate paths changed) and a self-signed certificate made here,
in front of two ``chinwag serve`` nodes on PostgreSQL and Redis, all on loopback.

- REST over HTTPS through nginx, with nginx's request id in Chinwag's log and answer, and
  Chinwag's own JSON 413 for a body over its limit.
- The realtime upgrade through nginx (wss://), a message pushed to the socket.
- Client addresses: the client connects from 127.0.0.2; nginx (127.0.0.1, the one trusted
  proxy) appends it to X-Forwarded-For; the nodes log 127.0.0.2 for requests and sockets, and
  ignore what the client itself wrote into the header.
- A rolling restart of both nodes while messages are sent through nginx: the socket closed by
  its node (1001) reconnects through nginx and resumes from its last position; every message
  arrives, none twice.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from chinwag.services.sessions import signature_of
from tests.realtime_support import Client, Closed
from tests.serve_support import Served, restart, start, stop
from tests.test_cli import free_port
from tests.test_realtime_bus import REDIS_URL

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEPLOY = Path(__file__).resolve().parent.parent / "docs" / "deploy.md"
CLIENT_ADDRESS = "127.0.0.2"  # loopback, but not the proxy's address

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.path.exists(NGINX) and os.environ.get("CI") != "true",
        reason="needs Debian's nginx (make test installs it)",
    ),
]


def _recipe() -> str:
    """The nginx configuration of docs/deploy.md."""
    blocks = re.findall(r"```nginx\n(.*?)```", DEPLOY.read_text(), re.S)
    assert len(blocks) == 1, "docs/deploy.md must hold exactly one nginx block"
    return blocks[0]


def _certificate(folder: Path) -> tuple[Path, Path]:
    key, crt = folder / "privkey.pem", folder / "fullchain.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(crt),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return crt, key


def _nginx_conf(tmp: Path, nodes: tuple[int, int], http: int, https: int) -> Path:
    crt, key = _certificate(tmp)
    site = _recipe()
    for old, new in [
        ("127.0.0.1:8001", f"127.0.0.1:{nodes[0]}"),
        ("127.0.0.1:8002", f"127.0.0.1:{nodes[1]}"),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
        ("/etc/ssl/chinwag/fullchain.pem", str(crt)),
        ("/etc/ssl/chinwag/privkey.pem", str(key)),
    ]:
        assert old in site, old
        site = site.replace(old, new)
    temp = (
        "\n".join(
            f"    {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi")
        )
        + "\n"
        + "\n".join(f"    {kind}_temp_path {tmp / kind};" for kind in ("uwsgi", "scgi"))
    )
    conf = tmp / "nginx.conf"
    # What Debian's /etc/nginx/nginx.conf provides around conf.d/, for one unprivileged process.
    conf.write_text(
        f"""daemon off;
master_process off;
worker_processes 1;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"} notice;
events {{ worker_connections 256; }}
http {{
    access_log {tmp / "access.log"};
{temp}
{site}
}}
"""
    )
    return conf


def _wait_tcp(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, log.read_text() if log.exists() else "nginx exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, "nginx did not listen"
            time.sleep(0.05)


class Deployment:
    def __init__(self, tmp: Path, https: int, ca: Path, nodes: list[Served]) -> None:
        self.tmp = tmp
        self.base = f"https://127.0.0.1:{https}"
        self.tls = ssl.create_default_context(cafile=str(ca))
        self.nodes = nodes
        self.app_id = nodes[0].env["CHINWAG_APP_ID"]
        self.secret = nodes[0].env["CHINWAG_SECRET_KEY"]
        self.rest = httpx.Client(
            base_url=f"{self.base}/v1/{self.app_id}",
            headers={"Authorization": f"Bearer {self.secret}"},
            transport=httpx.HTTPTransport(verify=self.tls, local_address=CLIENT_ADDRESS),
            timeout=20,
        )

    def socket(self, user_id: str) -> Client:
        url = self.base.replace("https://", "wss://") + f"/v1/{self.app_id}/realtime/{user_id}"
        url += f"?signature={signature_of(self.secret, user_id)}"
        ws = connect(
            url,
            ssl=self.tls,
            source_address=(CLIENT_ADDRESS, 0),
            open_timeout=10,
            close_timeout=2,
            legacy=True,
        )
        return Client(ws)

    def records(self) -> list[dict[str, Any]]:
        out = []
        for node in self.nodes:
            out += [json.loads(line) for line in node.log().splitlines() if line.startswith("{")]
        return out


@pytest.fixture
def deployment(tmp_path: Path, pg_url: str) -> Iterator[Deployment]:
    ports = (free_port(), free_port())
    http, https = free_port(), free_port()
    env = {
        "CHINWAG_DATABASE_URL": pg_url,
        "CHINWAG_BROKER_URL": REDIS_URL,
        "CHINWAG_TRUSTED_PROXIES": "127.0.0.1",
        "CHINWAG_LOG_FORMAT": "json",
        "CHINWAG_APP_ID": "deploy" + secrets.token_hex(4),
        "CHINWAG_SECRET_KEY": "sk_" + secrets.token_hex(16),
        "CHINWAG_ADMIN_PASSWORD": "admin-" + secrets.token_hex(8),
        "CHINWAG_PUBLIC_URL": f"https://127.0.0.1:{https}",
    }
    nodes: list[Served] = []
    nginx: subprocess.Popen[bytes] | None = None
    try:
        for i, port in enumerate(ports):  # one after the other: the first one migrates
            nodes.append(start(tmp_path, f"node{i}", port, **env))
        conf = _nginx_conf(tmp_path, ports, http, https)
        errors = tmp_path / "error.log"
        nginx = subprocess.Popen(
            [NGINX, "-e", str(errors), "-p", str(tmp_path), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_tcp(https, nginx, errors)
        deployment = Deployment(tmp_path, https, tmp_path / "fullchain.pem", nodes)
        try:
            yield deployment
        finally:
            deployment.rest.close()
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)  # graceful shutdown
            try:
                nginx.wait(timeout=20)
            except subprocess.TimeoutExpired:  # pragma: no cover
                nginx.kill()
                nginx.wait()
        for node in nodes:
            stop(node)


def test_rest_sockets_and_client_addresses_through_nginx(deployment: Deployment) -> None:
    d = deployment
    assert d.rest.put("/users", json={"alice": {"name": "A"}, "bob": {"name": "B"}}).is_success
    made = d.rest.put("/conversations/c1", json={"participants": ["alice", "bob"]})
    assert made.status_code == 200, made.text
    got = d.rest.get("/users/alice", headers={"X-Forwarded-For": "6.6.6.6"})
    assert got.status_code == 200 and got.json()["name"] == "A"
    request_id = got.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id  # nginx's $request_id
    too_big = d.rest.put("/users/alice", content=b'{"name": "' + b"x" * 1_500_000 + b'"}')
    assert too_big.status_code == 413 and too_big.json()["errorCode"] == "PAYLOAD_TOO_LARGE"
    with httpx.Client(verify=d.tls) as browser:
        assert browser.get(f"{d.base}/talk.js").status_code == 200

    with d.socket("alice") as alice:
        selection = alice.ok("SUBSCRIBE", "me/conversations/c1")
        assert selection["access"]["kind"] == "participant"
        sent = d.rest.post(
            "/conversations/c1/messages",
            json=[{"type": "UserMessage", "sender": "bob", "text": "through nginx"}],
        )
        [message] = sent.json()
        event = alice.wait_event(
            lambda e: e.get("type") == "message.created" and e["message"]["id"] == message["id"]
        )
        assert event["message"]["text"] == "through nginx"

    # The client's real address, not nginx's, and not what the client wrote into the header.
    assert _record(d, lambda r: r.get("requestId") == request_id)["client"] == CLIENT_ADDRESS
    assert _record(d, lambda r: r.get("msg") == "socket opened")["client"] == CLIENT_ADDRESS
    # Straight to a node, the same header from an untrusted peer is ignored.
    with httpx.Client(transport=httpx.HTTPTransport(local_address=CLIENT_ADDRESS)) as direct:
        answer = direct.get(f"{d.nodes[0].url}/healthz", headers={"X-Forwarded-For": "6.6.6.6"})
    direct_id = answer.headers["x-request-id"]
    assert _record(d, lambda r: r.get("requestId") == direct_id)["client"] == CLIENT_ADDRESS


def _record(d: Deployment, pred: Any) -> dict[str, Any]:
    """The first log record of either node that matches (records follow their answers)."""
    deadline = time.monotonic() + 20
    while True:
        found = [r for r in d.records() if pred(r)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, "no such log record"
        time.sleep(0.05)


class Follower:
    """A client that keeps one conversation in view across node restarts, as the SDK does:
    after its socket closes it reconnects (through nginx) and resumes from its last position."""

    def __init__(self, d: Deployment, user_id: str, conversation_id: str) -> None:
        self.d, self.user_id, self.conversation_id = d, user_id, conversation_id
        self.position = 0
        self.seen: list[str] = []
        self.reconnects = 0
        self.client = self._open(None)

    def _take(self, events: list[dict[str, Any]]) -> None:
        for e in events:
            if e.get("conversationId") != self.conversation_id or "position" not in e:
                continue
            if e.get("type") == "message.created" and e["message"]["id"] not in self.seen:
                self.seen.append(e["message"]["id"])
            self.position = max(self.position, e["position"])

    def _open(self, after: int | None) -> Client:
        client = self.d.socket(self.user_id)
        data = {} if after is None else {"after": after}
        selection = client.ok("SUBSCRIBE", f"me/conversations/{self.conversation_id}", data)
        assert selection["complete"], selection
        self._take(selection["events"] or [])
        self.position = max(self.position, selection["position"])
        client.seen = len(client.events)
        return client

    def sync(self) -> None:
        """Take what was pushed; reconnect and resume when the node closed the socket."""
        try:
            self.client.drain()
            self._take(self.client.events)
            self.client.seen = len(self.client.events)
        except (Closed, ConnectionClosed) as exc:
            code = exc.code if isinstance(exc, Closed) else exc.rcvd.code if exc.rcvd else None
            assert code == 1001, exc  # the node went away, saying so
            self._take(self.client.events)
            self.client.close()
            self.reconnects += 1
            self.client = self._open(self.position)

    def wait_for(self, ids: list[str]) -> None:
        deadline = time.monotonic() + 30
        while not set(ids) <= set(self.seen):
            assert time.monotonic() < deadline, (ids, self.seen)
            self.sync()
            time.sleep(0.05)


def _send(d: Deployment, text: str) -> str:
    """POST a message through nginx; a node stopping under the request may answer 502, so it
    is retried with the same idempotency key, as docs/deploy.md says."""
    body = [{"type": "UserMessage", "sender": "bob", "text": text, "idempotencyKey": text}]
    for _ in range(5):
        answer = d.rest.post("/conversations/c1/messages", json=body)
        if answer.status_code == 200:
            return str(answer.json()[0]["id"])
        assert answer.status_code in (502, 503, 504), answer.text
        time.sleep(0.2)
    raise AssertionError("no node took the message")


def test_a_rolling_restart_loses_nothing(deployment: Deployment, tmp_path: Path) -> None:
    d = deployment
    d.rest.put("/users", json={"alice": {"name": "A"}, "bob": {"name": "B"}})
    d.rest.put("/conversations/c1", json={"participants": ["alice", "bob"]})
    follower = Follower(d, "alice", "c1")
    sent = [_send(d, "before")]
    for i, node in enumerate(list(d.nodes)):
        assert stop(node) == 0, node.log()  # SIGTERM: its sockets get 1001
        sent.append(_send(d, f"node {i} down"))  # nginx takes it to the other node
        follower.sync()
        d.nodes[i] = restart(tmp_path, node, f"node{i}")
        sent.append(_send(d, f"node {i} back"))
        follower.sync()
    sent.append(_send(d, "after"))
    follower.wait_for(sent)
    assert follower.seen == sent  # every message, once, in order
    assert follower.reconnects >= 1  # its node was restarted under it
    follower.client.close()
