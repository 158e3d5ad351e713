# ruff: noqa: F811  (pytest fixtures imported from tests.test_notif_support)
"""Noisy tenants: one app's webhook receiver that never answers holds only that app's worker
slots, so another app's notification email still goes out, to a real SMTP server, while the
receiver hangs; and a receiver that trickles its answer is cut off at the attempt's deadline.
Real receivers on loopback, aiosmtpd, SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from starlette.testclient import TestClient

from chinwag.clock import FakeClock
from chinwag.notifications.slots import Slots
from chinwag.notifications.worker import start_in_thread
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.storage.outbox import OutboxItem
from chinwag.web.app import create_app
from chinwag.webhooks.poster import ConnectionFailed, HttpPoster
from tests.conftest import Api
from tests.test_notif_support import (  # noqa: F401  (fixtures)
    SmtpServer,
    allow_private_webhooks,
    make_worker,
    nctx,
    notif_db,
    notif_db_url,
    smtp_server,
)


class Hanging:
    """A webhook receiver that takes each request and answers none until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.waiting = 0
        self.most_at_once = 0
        self.received = 0
        hanging = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hanging.lock:
                    hanging.received += 1
                    hanging.waiting += 1
                    hanging.most_at_once = max(hanging.most_at_once, hanging.waiting)
                hanging.release.wait(60)
                with hanging.lock:
                    hanging.waiting -= 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hanging() -> Iterator[Hanging]:
    receiver = Hanging()
    try:
        yield receiver
    finally:
        receiver.stop()


def wait_for(condition: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_a_hanging_receiver_never_delays_another_apps_email(
    nctx: Context,
    clock: FakeClock,
    hanging: Hanging,
    smtp_server: SmtpServer,
    allow_private_webhooks: None,
) -> None:
    noisy = apps.create_app(nctx, f"noisy-{uuid.uuid4().hex[:6]}")
    quiet = apps.create_app(nctx, f"quiet-{uuid.uuid4().hex[:6]}")
    with TestClient(create_app(nctx)) as client:
        a = Api(client, noisy.app.id, noisy.secret_keys[0])
        b = Api(client, quiet.app.id, quiet.secret_keys[0])
        a.ok(a.post("/webhooks", {"url": hanging.url, "events": ["user.created"]}))
        for i in range(12):  # a backlog of deliveries to the receiver, all due first
            a.ok(a.put(f"/users/u{i}", {"name": f"U{i}"}))
        clock.advance(1_000)
        b.ok(b.patch("/settings", {"notificationDelaySeconds": 0}))
        b.ok(b.put("/users/alice", {"name": "Alice", "email": "alice@example.com"}))
        b.ok(b.put("/users/bob", {"name": "Bob"}))
        b.ok(b.put("/conversations/c", {"participants": ["alice", "bob"]}))
        b.ok(
            b.post(
                "/conversations/c/messages",
                [{"type": "UserMessage", "sender": "bob", "text": "are you there?"}],
            )
        )
    worker = make_worker(
        nctx.db, clock, smtp=smtp_server, allow_private_webhooks=True, concurrency=4
    )
    worker.poster = HttpPoster(timeout=60, allow_private=True)  # hangs outlast the wait below
    thread, stop = start_in_thread(worker, idle_seconds=0.05)
    try:
        wait_for(lambda: smtp_server.to("alice@example.com"), "the quiet app's email")
        # The email went out while the noisy app's receiver held every request it got.
        assert not hanging.release.is_set()
        with hanging.lock:
            assert 1 <= hanging.waiting <= worker.slots.per_app == 2
            assert hanging.most_at_once <= 2
        (mail,) = smtp_server.to("alice@example.com")
        assert "are you there?" in mail.part("plain")
        hanging.release.set()
        wait_for(lambda: hanging.received == 12, "the noisy app's backlog")
    finally:
        hanging.release.set()
        stop.set()
        thread.join(timeout=30)
        worker.close()
    assert not thread.is_alive()
    assert hanging.most_at_once <= 2  # never more than its share of the worker's slots


def test_a_trickling_receiver_is_cut_off_at_the_deadline(allow_private_webhooks: None) -> None:
    """It answers one byte of its head every 0.2 s, forever: each read would be within a 1 s
    timeout, but the attempt as a whole ends after 1 s."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    done = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not done.wait(0.2):
                try:
                    conn.sendall(b"a")
                except OSError:
                    return

    threading.Thread(target=trickle, daemon=True).start()
    outcome: list[object] = []

    def post() -> None:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        try:
            outcome.append(HttpPoster(timeout=1.0, allow_private=True).post(url, b"{}", {}))
        except ConnectionFailed as exc:
            outcome.append(exc)

    poster = threading.Thread(target=post, daemon=True)
    poster.start()
    try:
        poster.join(timeout=20)
        assert not poster.is_alive(), "the attempt outlived its deadline"
        assert len(outcome) == 1 and isinstance(outcome[0], ConnectionFailed)
    finally:
        done.set()
        listener.close()


def _item(app_id: str, kind: str) -> OutboxItem:
    return OutboxItem(
        id=uuid.uuid4().hex, app_id=app_id, kind=kind, status="sending", due_at=0, attempts=1,
        in_flight=False, lease_owner="w", lease_until=1, conversation_id=None, user_id=None,
        parent_id=None, webhook_id=None, event_type=None, target=None, payload={},
        last_status=None, last_error=None, created_at=0, updated_at=0, done_at=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("total", "per_app", "rows", "taken"),
    [
        (4, None, ["a:webhook"] * 6 + ["b:email"], ["a:webhook"] * 2 + ["b:email"]),
        (4, None, ["a:webhook", "b:webhook", "c:webhook", "d:webhook", "e:email"],
         ["a:webhook", "b:webhook", "c:webhook", "e:email"]),  # webhooks leave one slot
        (4, 1, ["a:email", "a:email", "b:sms"], ["a:email", "b:sms"]),
        (1, None, ["a:webhook", "b:email"], ["a:webhook"]),  # one slot: nothing to share
        (8, 3, ["a:webhook"] * 5 + ["b:notification"] * 5,
         ["a:webhook"] * 3 + ["b:notification"] * 3),
    ],
)  # fmt: skip
def test_slots_share_the_worker_between_apps(
    total: int, per_app: int | None, rows: list[str], taken: list[str]
) -> None:
    slots = Slots(total, per_app)
    plan = slots.plan()
    items = [_item(*r.split(":")) for r in rows]
    took = [i for i in items if plan.take(i)]
    assert [f"{i.app_id}:{i.kind}" for i in took] == taken
    slots.hold(took)
    assert slots.in_use == len(took)
    again = slots.plan()
    assert (again.free, set(again.full_apps)) == (
        total - len(took),
        {app for app, n in again.busy.items() if n >= slots.per_app},
    )
    since = slots.released
    slots.release(took[0])
    slots.wait(since, 5)  # returns at once: a release happened
    assert slots.released == since + 1 and slots.in_use == len(took) - 1
