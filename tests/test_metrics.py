"""``/metrics`` scraped as Prometheus would, and read with prometheus-client's own text parser:
the counters move with what really happens on a live server (uvicorn on a free port, real
sockets, both databases)."""

from __future__ import annotations

from contextlib import ExitStack

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chinwag.domain import limits as L
from chinwag.realtime.node import Limits
from chinwag.realtime.transport import find_node
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.realtime_support import Client, live_server

TOKEN = "metrics-token-for-tests"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(base: str) -> Samples:
    response = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_counters_move_with_connections_messages_and_refusals(
    ctx: Context, app_keys: apps.AppWithKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(L, "REST_BURST", 8)  # the fake clock stands still: the 9th is refused
    app = create_app(ctx, metrics_token=TOKEN)
    node = find_node(app)
    assert node is not None
    node.limits = Limits(rate=0.001, burst=3)  # a socket's 4th request is refused
    app_id, key = app_keys.app.id, app_keys.secret_keys[0]
    with live_server(app) as ws_base, ExitStack() as stack:
        base = ws_base.replace("ws://", "http://")
        rest = httpx.Client(
            base_url=f"{base}/v1/{app_id}", headers={"Authorization": f"Bearer {key}"}
        )
        stack.callback(rest.close)
        assert rest.put("/users", json={"alice": {"name": "Alice"}}).status_code == 200
        body = {"participants": ["alice"]}
        assert rest.put("/conversations/metrics", json=body).status_code == 200

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
