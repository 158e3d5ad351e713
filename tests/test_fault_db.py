"""PostgreSQL restarted under steady sends (issue 11, the fault suite): a `chinwag serve` process
recovers by itself, every acknowledged message is stored once and in order, and while the
database is away senders get ``503 DATABASE_UNAVAILABLE`` with ``Retry-After``, never a hang
and never a 500. A sender that retries with the same idempotency key stores its message once.

The test owns its PostgreSQL (initdb on a free port of 127.0.0.1, stopped and started with
pg_ctl), so the machine's own server is never touched. REST and a realtime socket send at once;
the socket watcher must hear every stored message once, in order, once the database is back.
Bounded: three restarts of about a second each, and deadlines on everything."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.cluster_support import start_node, stop_nodes
from tests.fault_support import Postgres
from tests.realtime_support import Client, free_port

RESTARTS = 3
#: No request may take longer than this: the pool's wait for a connection, plus slack.
NO_HANG_SECONDS = 15.0


@dataclass
class Server:
    port: int
    app_id: str
    secret: str
    proc: subprocess.Popen[bytes]

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/{self.app_id}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


@pytest.fixture
def pg() -> Iterator[Postgres]:
    server = Postgres(free_port())
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def serving(pg: Postgres, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    app_id, secret = f"t{uuid.uuid4().hex[:8]}", "sk_test_" + uuid.uuid4().hex
    env = {
        **os.environ,
        "CHINWAG_DATABASE_URL": pg.url,
        "CHINWAG_APP_ID": app_id,
        "CHINWAG_SECRET_KEY": secret,
        "CHINWAG_DATA_DIR": str(tmp_path),
        "CHINWAG_LOG_LEVEL": "warning",
        "CHINWAG_WORKER": "off",
    }
    with open(tmp_path / "serve.log", "wb") as log:
        proc = start_node(port, env, log)
        try:
            yield Server(port, app_id, secret, proc)
        finally:
            stop_nodes([proc], timeout=15)
    assert b"Traceback" not in (tmp_path / "serve.log").read_bytes()


@dataclass
class Sender:
    """Sends numbered messages one after another; on a 503 it waits ``Retry-After`` and sends
    the same message again with the same idempotency key."""

    name: str
    send: Any  # (text, key) -> (status, body, Retry-After)
    pause: float  # between messages: a socket's request rate is limited
    acknowledged: list[str] = field(default_factory=list)
    refusals: list[tuple[int, Any, float]] = field(default_factory=list)
    slowest: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            text, key = f"{self.name} {n}", f"{self.name}-{n}"
            while True:
                started = time.monotonic()
                status, body, retry_after = self.send(text, key)
                self.slowest = max(self.slowest, time.monotonic() - started)
                if status == 200:
                    self.acknowledged.append(text)
                    break
                self.refusals.append((status, body, retry_after))
                if status != 503 or self.stop.is_set():
                    return
                time.sleep(min(float(retry_after or 1), 1.0))
            time.sleep(self.pause)


def _rest_send(server: Server) -> Any:
    client = httpx.Client(headers=server.headers(), timeout=NO_HANG_SECONDS + 10)

    def send(text: str, key: str) -> tuple[int, Any, Any]:
        message = {"type": "UserMessage", "sender": "alice", "text": text, "idempotencyKey": key}
        r = client.post(f"{server.rest}/conversations/c/messages", json=[message])
        return r.status_code, r.json(), r.headers.get("Retry-After")

    return send


def _socket_send(socket: Client) -> Any:
    def send(text: str, key: str) -> tuple[int, Any, Any]:
        body = {"text": text, "idempotencyKey": key}
        status, reply = socket.request("POST", "me/conversations/c/messages", body)
        return status, reply, (reply or {}).get("retryAfter") if status != 200 else None

    return send


def stored(pg: Postgres, app_id: str) -> list[str]:
    with psycopg.connect(pg.url) as conn:
        rows = conn.execute(
            "SELECT text FROM messages WHERE app_id = %s AND conversation_id = 'c' "
            "ORDER BY position",
            (app_id,),
        ).fetchall()
    return [r[0] for r in rows]


def test_postgresql_restarts_under_steady_sends(pg: Postgres, serving: Server) -> None:
    h = serving.headers()
    assert httpx.put(f"{serving.rest}/users/alice", json={"name": "A"}, headers=h).is_success
    assert httpx.put(f"{serving.rest}/users/bob", json={"name": "B"}, headers=h).is_success
    conv = {"participants": ["alice", "bob"]}
    assert httpx.put(f"{serving.rest}/conversations/c", json=conv, headers=h).is_success
    base = f"ws://127.0.0.1:{serving.port}"
    with (
        Client.open(base, serving.app_id, "bob") as bob,
        Client.open(base, serving.app_id, "alice") as alice,
    ):
        bob.ok("SUBSCRIBE", "me/conversations/c")
        senders = [
            Sender("rest", _rest_send(serving), 0.005),
            Sender("socket", _socket_send(alice), 0.1),
        ]
        threads = [threading.Thread(target=s.run, daemon=True) for s in senders]
        for t in threads:
            t.start()
        for _ in range(RESTARTS):
            time.sleep(1.0)
            pg.stop("fast")
            time.sleep(1.0)
            pg.start()
        # The server recovers by itself: both senders get through again.
        deadline = time.monotonic() + 30
        counts = [len(s.acknowledged) for s in senders]
        while any(len(s.acknowledged) < c + 5 for s, c in zip(senders, counts, strict=True)):
            assert time.monotonic() < deadline, [s.refusals[-3:] for s in senders]
            assert all(t.is_alive() for t in threads), [s.refusals[-3:] for s in senders]
            time.sleep(0.1)
        for s in senders:
            s.stop.set()
        for t in threads:
            t.join(timeout=NO_HANG_SECONDS + 10)
            assert not t.is_alive()

        for s in senders:
            # Never a hang, never a 500: only retryable 503s while the database was away.
            assert s.slowest < NO_HANG_SECONDS, (s.name, s.slowest)
            for status, body, retry_after in s.refusals:
                assert status == 503, (s.name, status, body)
                assert body["errorCode"] == "DATABASE_UNAVAILABLE", (s.name, body)
                assert float(retry_after) >= 1, (s.name, retry_after)
        assert any(s.refusals for s in senders), "the restarts refused nothing: not tested"

        # Every acknowledged message is stored once; what each sender acknowledged is in order.
        texts = stored(pg, serving.app_id)
        assert len(texts) == len(set(texts)), "a message was stored twice"
        for s in senders:
            mine = [t for t in texts if t.startswith(s.name + " ")]
            assert mine[: len(s.acknowledged)] == s.acknowledged, s.name
            assert len(mine) - len(s.acknowledged) <= 1  # at most the one in flight at the stop

        # The watcher hears every stored message once, in order, once the database is back.
        deadline = time.monotonic() + 30
        heard: list[str] = []
        while len(heard) < len(texts):
            assert time.monotonic() < deadline, (len(heard), len(texts))
            event = bob.wait_event("message.created", timeout=30)
            heard.append(event["message"]["text"])
        assert heard == texts
    summary = ", ".join(
        f"{s.name}: {len(s.acknowledged)} acknowledged, {len(s.refusals)} "
        f"refused (503), slowest {s.slowest:.2f} s"
        for s in senders
    )
    print(f"{RESTARTS} restarts; {len(texts)} stored, 0 lost, 0 twice; {summary}")
