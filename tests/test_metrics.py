"""``/metrics`` scraped as Prometheus would, and read with prometheus-client's own text parser:
the counters move with what really happens on a live server (uvicorn on a free port, real
sockets, both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from chinwag.clock import FakeClock
from chinwag.domain import limits as L
from chinwag.notifications.worker import Worker, WorkerSettings
from chinwag.realtime.node import Limits
from chinwag.realtime.transport import find_node
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.storage.db import Database
from chinwag.web.app import create_app
from tests.metrics_support import TOKEN, scrape, value
from tests.realtime_support import Client, live_server
from tests.test_notif_support import (
    HttpRecorder,
    allow_private_webhooks,
    hook_server,
    notif_db,
    notif_db_url,
)

__all__ = ["allow_private_webhooks", "hook_server", "notif_db", "notif_db_url"]  # fixtures


@contextmanager
def serving(
    app: Any, app_keys: apps.AppWithKeys, conversation: str
) -> Iterator[tuple[str, httpx.Client]]:
    """The app on a free port (its ws:// base), a REST client with the app's secret key, and
    Alice alone in ``conversation``."""
    app_id, key = app_keys.app.id, app_keys.secret_keys[0]
    with live_server(app) as ws_base:
        base = ws_base.replace("ws://", "http://")
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=f"{base}/v1/{app_id}", headers=headers) as rest:
            assert rest.put("/users", json={"alice": {"name": "Alice"}}).status_code == 200
            body = {"participants": ["alice"]}
            assert rest.put(f"/conversations/{conversation}", json=body).status_code == 200
            yield ws_base, rest


def test_counters_move_with_connections_messages_and_refusals(
    ctx: Context, app_keys: apps.AppWithKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(L, "REST_BURST", 8)  # the fake clock stands still: the 9th is refused
    app = create_app(ctx, metrics_token=TOKEN)
    node = find_node(app)
    assert node is not None
    node.limits = Limits(rate=0.001, burst=3)  # a socket's 4th request is refused
    app_id = app_keys.app.id
    with serving(app, app_keys, "metrics") as (ws_base, rest):
        base = ws_base.replace("ws://", "http://")

        before = scrape(base)
        assert value(before, "chinwag_connections") == 0
        assert value(before, "chinwag_subscriptions", kind="guest") == 0
        assert value(before, "chinwag_messages_stored_total", type="UserMessage") == 0
        assert value(before, "chinwag_rate_limited_total", scope="rest") == 0
        assert value(before, "chinwag_rate_limited_total", scope="realtime") == 0

        sent = [
            {"type": "UserMessage", "sender": "alice", "text": "one"},
            {"type": "UserMessage", "sender": "alice", "text": "two"},
            {"type": "SystemMessage", "text": "three"},
        ]
        assert rest.post("/conversations/metrics/messages", json=sent).status_code == 200
        with (
            Client.open(ws_base, app_id, "alice") as alice,
            Client.open(ws_base, app_id, "watcher") as guest,
        ):
            alice.ok("SUBSCRIBE", "me/conversations/metrics")
            guest.ok("SUBSCRIBE", "me/conversations/metrics", {"asGuest": True})
            alice.ok("POST", "me/conversations/metrics/messages", {"text": "from the socket"})
            alice.ok("GET", "ping")
            status, reply = alice.request("GET", "ping")  # the 4th request on this socket
            assert status == 429, reply
            during = scrape(base)
            assert value(during, "chinwag_connections") == 2
            assert value(during, "chinwag_subscriptions", kind="participant") == 1
            assert value(during, "chinwag_subscriptions", kind="guest") == 1
            assert value(during, "chinwag_rate_limited_total", scope="realtime") == 1
        assert value(during, "chinwag_messages_stored_total", type="UserMessage") == 3
        assert value(during, "chinwag_messages_stored_total", type="SystemMessage") == 1

        statuses = [rest.get("/conversations/metrics").status_code for _ in range(8)]
        assert statuses[-1] == 429, statuses
        after = scrape(base)
        assert value(after, "chinwag_rate_limited_total", scope="rest") == statuses.count(429)
        assert value(after, "process_open_fds") > 0


def test_a_scrape_needs_the_token(ctx: Context) -> None:
    with live_server(create_app(ctx, metrics_token=TOKEN)) as ws_base:
        base = ws_base.replace("ws://", "http://")
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            refused = httpx.get(f"{base}/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.json()["errorCode"] == "UNAUTHORIZED"


def test_metrics_are_off_without_a_token(ctx: Context) -> None:
    with live_server(create_app(ctx)) as ws_base:
        off = httpx.get(ws_base.replace("ws://", "http://") + "/metrics")
        assert off.status_code == 404 and off.json()["errorCode"] == "NOT_FOUND"


def test_deliveries_latency_group_commits_and_the_outbox_move(
    notif_db: Database,
    hook_server: HttpRecorder,
    allow_private_webhooks: None,
    clock: FakeClock,
) -> None:
    # A database of its own: the outbox gauges and the worker see every app's rows in it.
    ctx = Context(db=notif_db, clock=clock)
    app_keys = apps.create_app(ctx, "metrics")
    hook_server.answer = lambda r: 500 if r.path == "/down" else 200
    app = create_app(ctx, metrics_token=TOKEN)
    app_id = app_keys.app.id
    with serving(app, app_keys, "c") as (ws_base, rest):
        base = ws_base.replace("ws://", "http://")
        for path in ("/up", "/down"):
            hook = {"url": hook_server.url + path, "events": ["message.sent"]}
            assert rest.post("/webhooks", json=hook).status_code in (200, 201)

        before = scrape(base)
        assert value(before, "chinwag_deliveries_total") == 0
        assert value(before, "chinwag_publish_to_socket_seconds_count") == 0
        assert value(before, "chinwag_outbox_depth", kind="webhook") == 0
        assert value(before, "chinwag_bus_reconnects_total") == 0
        assert value(before, "chinwag_resyncs_total", reason="SLOW_CONSUMER") == 0
        batches_before = value(before, "chinwag_group_commit_batch_size_count")

        with (
            Client.open(ws_base, app_id, "alice") as alice,
            Client.open(ws_base, app_id, "gina") as gina,
        ):
            alice.ok("SUBSCRIBE", "me/conversations/c")
            gina.ok("SUBSCRIBE", "me/conversations/c", {"asGuest": True})
            for text in ("one", "two", "three"):
                alice.ok("POST", "me/conversations/c/messages", {"text": text})
            for client in (alice, gina):
                for _ in range(3):
                    client.wait_event("message.created")
                client.ok("GET", "ping")  # answered after every event pushed before it
            during = scrape(base)
            heard = len(alice.events) + len(gina.events)
        # Every event either socket heard is a delivery (the messages, and Alice hears the
        # guest roster change); each message's publish was timed once on this node.
        assert heard >= 6 and value(during, "chinwag_deliveries_total") == heard
        timed = value(during, "chinwag_publish_to_socket_seconds_count")
        assert timed >= 3
        assert value(during, "chinwag_publish_to_socket_seconds_bucket", le="+Inf") == timed
        assert 0 <= value(during, "chinwag_publish_to_socket_seconds_sum") < 30
        # The socket's sends went through the group committer: batches of at least one write.
        batches = value(during, "chinwag_group_commit_batch_size_count") - batches_before
        assert batches >= 1
        writes = value(during, "chinwag_group_commit_batch_size_sum")
        assert writes >= 3 and value(during, "chinwag_group_commit_seconds_count") >= batches
        # Three messages for two webhooks wait in the outbox; the clock is the test's.
        assert value(during, "chinwag_outbox_depth", kind="webhook") == 6
        assert value(during, "chinwag_outbox_oldest_age_seconds", kind="webhook") == 0
        clock.advance(90_000)
        waited = scrape(base)
        assert value(waited, "chinwag_outbox_oldest_age_seconds", kind="webhook") == 90

        worker = Worker(
            ctx.db,
            clock=ctx.clock,
            settings=WorkerSettings(allow_private_webhooks=True),
            outcomes=ctx.outcomes,
        )
        try:
            worker.drain()
        finally:
            worker.close()
        after = scrape(base)
        assert value(after, "chinwag_outbox_outcomes_total", kind="webhook", outcome="sent") == 3
        retried = value(after, "chinwag_outbox_outcomes_total", kind="webhook", outcome="retried")
        assert retried == 3
        assert value(after, "chinwag_outbox_outcomes_total", kind="webhook", outcome="failed") == 0
        # The failed ones wait for their retry, which is not due yet on the standing clock.
        assert value(after, "chinwag_outbox_depth", kind="webhook") == 0
        assert len([r for r in hook_server.received() if r.path == "/up"]) == 3
