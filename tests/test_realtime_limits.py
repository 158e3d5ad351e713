"""Proving identity, refusing bad frames, floods and too many connections, and the slow-consumer
policy: each gets a clear error reply or close code, and everyone else keeps being served."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from chinwag.clock import FakeClock
from chinwag.realtime import protocol
from chinwag.realtime.connection import Connection
from chinwag.realtime.node import Limits, RealtimeNode
from chinwag.services import apps, sessions
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.metrics_support import TOKEN, scrape, value
from tests.realtime_support import TRANSPORTS, Client, live_server, stalled_session


class Server:
    def __init__(self, base: str, node: RealtimeNode, app_id: str, secret: str) -> None:
        self.base, self.node, self.app_id, self.secret = base, node, app_id, secret

    def client(self, user_id: str, **query: str) -> Client:
        return Client.open(self.base, self.app_id, user_id, **query)


@pytest.fixture(params=TRANSPORTS)
def server(
    ctx: Context, app_keys: apps.AppWithKeys, request: pytest.FixtureRequest
) -> Iterator[Server]:
    app = create_app(ctx, metrics_token=TOKEN)
    node: RealtimeNode = app.app.state.realtime
    with live_server(app, request.param) as base:
        yield Server(base, node, app_keys.app.id, app_keys.secret_keys[0])


def _verify(ctx: Context, server: Server) -> None:
    apps.patch_settings(ctx, server.app_id, {"identityVerification": True})


def _token(secret: str, app_id: str, sub: str, **claims: Any) -> str:
    return jwt.encode({"tokenType": "user", "iss": app_id, "sub": sub, **claims}, secret, "HS256")


def test_without_identity_verification_anyone_may_claim_a_user(server: Server) -> None:
    with server.client("anyone") as c:
        assert c.ok("GET", "ping") == {}


def test_signature_proves_the_user_in_any_letter_case(ctx: Context, server: Server) -> None:
    _verify(ctx, server)
    sig = sessions.signature_of(server.secret, "alice")
    for given in (sig, sig.upper()):
        with server.client("alice", signature=given) as c:
            assert c.ok("GET", "ping") == {}


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({}, "send signature= or token="),
        ({"signature": "00" * 32}, "signature does not match"),
        ({"signature": "not hex"}, "signature does not match"),
    ],
)
def test_bad_proofs_close_4401(
    ctx: Context, server: Server, query: dict[str, str], reason: str
) -> None:
    _verify(ctx, server)
    with server.client("alice", **query) as c:
        closed = c.wait_closed()
    assert (
        closed.code == 4401 and closed.reason.startswith("UNAUTHORIZED") and reason in closed.reason
    )


def test_user_tokens(ctx: Context, server: Server, clock: FakeClock) -> None:
    _verify(ctx, server)
    now = clock.now_ms() // 1000
    good = _token(server.secret, server.app_id, "alice", exp=now + 60)
    with server.client("alice", token=good) as c:
        assert c.ok("GET", "ping") == {}
    bad = {
        "expired": _token(server.secret, server.app_id, "alice", exp=now - 1),
        "sub": _token(server.secret, server.app_id, "mallory"),
        "iss": _token(server.secret, "other-app", "alice"),
        "kind": jwt.encode(
            {"tokenType": "app", "iss": server.app_id, "sub": "alice"}, server.secret, "HS256"
        ),
        "key": _token("wrong-key-" + "k" * 32, server.app_id, "alice"),
        "junk": "a.b.c",
    }
    for name, token in bad.items():
        with server.client("alice", token=token) as c:
            closed = c.wait_closed()
        assert closed.code == 4401, name
    # The injected clock decides expiry: the good token expires when time moves on.
    clock.advance(61_000)
    with server.client("alice", token=good) as c:
        assert "expired" in c.wait_closed().reason


def test_unknown_app_and_bad_user_id(server: Server) -> None:
    with Client.open(server.base, "no-such-app", "alice") as c:
        assert c.wait_closed().code == 4404
    with server.client("bad id with spaces") as c:
        assert c.wait_closed().code == 4400


def test_malformed_frames(server: Server) -> None:
    with server.client("alice") as other, server.client("alice") as c:
        c.send_raw('[0, "FETCH", "me"]')
        assert c.reply_to(0)[0] == 400
        c.send_raw('[1, "GET", "no/such/path"]')
        status, body = c.reply_to(1)
        assert (status, body["errorCode"]) == (404, "NOT_FOUND")
        c.send_raw('[2, "DELETE", "me"]')
        assert c.reply_to(2)[0] == 404
        c.send_raw('[3, "GET", "me/conversations", {"limit": "5"}]')
        status, body = c.reply_to(3)
        assert (status, body["errorCode"]) == (400, "INVALID_REQUEST")
        c.send_raw('[4, "GET", "me/conversations", {"limit": 5, "bogus": 1}]')
        assert "unknown field" in c.reply_to(4)[1]["reasons"][0]
        c.send_raw("{not json")
        closed = c.wait_closed()
        assert closed.code == 1007
        assert other.ok("GET", "ping") == {}  # the others go on


def test_oversized_frame_closes_1009(server: Server) -> None:
    with server.client("alice") as c:
        c.send_raw('[0, "POST", "me", {"x": "' + "x" * 200_000 + '"}]')
        assert c.wait_closed().code == 1009


def test_flood_gets_429_then_close(ctx: Context, server: Server) -> None:
    server.node.monotonic = lambda: 1000.0  # time stands still: no token comes back
    server.node.limits = Limits(rate=1.0, burst=5.0, max_refused=10)
    with server.client("flooder") as c, server.client("calm") as calm:
        for i in range(5):
            c.send_raw(f'[{i}, "GET", "ping"]')
        assert [c.reply_to(i)[0] for i in range(5)] == [200] * 5
        c.send_raw('[5, "GET", "ping"]')
        status, body = c.reply_to(5)
        assert (status, body["errorCode"]) == (429, "RATE_LIMITED") and body["retryAfter"] > 0
        # Refused #1 was seq 5; the 11th refusal in a row (seq 15) is one past max_refused and
        # closes. Sending more could race the close frame.
        for i in range(6, 16):
            c.send_raw(f'[{i}, "GET", "ping"]')
        closed = c.wait_closed()
        assert closed.code == 4429
        assert calm.ok("GET", "ping") == {}


def test_too_many_connections_per_user(server: Server) -> None:
    server.node.limits = Limits(max_connections_per_user=2)
    with server.client("u") as a, server.client("u") as b:
        a.ok("GET", "ping")
        b.ok("GET", "ping")
        with server.client("u") as c:
            closed = c.wait_closed()
        assert closed.code == 4429 and closed.reason.startswith("TOO_MANY_CONNECTIONS")
        with server.client("other") as d:
            assert d.ok("GET", "ping") == {}
    with server.client("u") as again:  # slots free up when sockets close
        assert _eventually(lambda: again.request("GET", "ping")[0] == 200)


def _eventually(check: Any) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if check():
            return True
    return False


def test_slow_consumer_is_told_to_resync_and_others_are_not_stalled(
    ctx: Context, server: Server
) -> None:
    from chinwag.schemas import ConversationPut, UserPut
    from chinwag.services import conversations, users

    for uid in ("fast", "slow"):
        users.put_user(ctx, server.app_id, uid, UserPut(name=uid))
    conversations.put_conversation(
        ctx, server.app_id, "busy", ConversationPut(participants=["fast", "slow"])
    )
    server.node.limits = Limits(queue_limit=5)
    with server.client("fast") as fast:
        fast.ok("SUBSCRIBE", "me/conversations/busy")
        # Subscribing again replaces the watch (and must keep the node subscribed).
        sel = fast.ok("SUBSCRIBE", "me/conversations/busy")
        stalled = stalled_session(
            server.base, server.app_id, "slow", '[0,"SUBSCRIBE","me/conversations/busy"]'
        )
        # The slow client never reads. The server pushes large events from its loop, one per
        # turn as from the bus: once the socket buffers are full the transport pushes back,
        # events queue, and past queue_limit the resync policy applies; the loop never waits.
        hub = server.node.hub
        deadline = time.monotonic() + 10

        def answered() -> bool:  # the watch exists and its SUBSCRIBE was answered
            conns = hub.connections_of(server.app_id, "slow")
            w = next(iter(conns)).watches.get("busy") if conns else None
            return w is not None and w.pending is None

        while not answered():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        conn: Connection = next(iter(hub.connections_of(server.app_id, "slow")))
        filler = '{"type":"filler","pad":"' + "x" * 65_536 + '"}'

        async def fill() -> int:  # on the server's loop, where the hub lives
            for _ in range(1_000):
                conn.push(filler)
                if conn.overflows:
                    break
                await asyncio.sleep(0)
            return int(conn.overflows)

        assert server.node.loop is not None
        overflows = asyncio.run_coroutine_threadsafe(fill(), server.node.loop).result(timeout=30)
        assert overflows == 1
        assert not conn.watches  # it watches nothing until it resubscribes
        # The operator sees it: one send queue overflowed, so one resync.
        samples = scrape(server.base.replace("ws://", "http://"))
        assert value(samples, "chinwag_resyncs_total", reason="SLOW_CONSUMER") == 1
        assert value(samples, "chinwag_resyncs_total", reason="CATCH_UP_TOO_LARGE") == 0
        assert fast.ok("GET", "ping") == {}  # everyone else is served meanwhile
        fast.ok("POST", "me/conversations/busy/messages", {"text": "go on"})
        fast.wait_event("message.created")
        # When the slow client reads again, it finds the resync event after what was in flight.
        stalled.settimeout(10)
        seen = b""
        while b'"type":"resync"' not in seen:
            chunk = stalled.recv(1 << 20)
            assert chunk, "closed before the resync event"
            seen = seen[-200:] + chunk
        tail = seen[seen.index(b'"type":"resync"') :]
        assert b'"reason":"SLOW_CONSUMER"' in tail
        assert f'"positions":{{"busy":{sel["position"]}}}'.encode() in tail
        stalled.close()
    # What the slow client is told, and how it catches up: read it with a normal client.
    with server.client("slow") as slow:
        again = slow.ok("SUBSCRIBE", "me/conversations/busy", {"after": sel["position"]})
        assert [e["message"]["text"] for e in again["events"]] == ["go on"]


def test_shutdown_closes_sessions_with_1001(ctx: Context, app_keys: apps.AppWithKeys) -> None:
    with live_server(create_app(ctx)) as base:
        c = Client.open(base, app_keys.app.id, "alice")
        c.ok("GET", "ping")
    closed = c.wait_closed()
    assert closed.code == 1001 and closed.code in protocol.CLOSE_CODES
    c.close()


def test_too_many_subscriptions_on_one_connection(ctx: Context, server: Server) -> None:
    from chinwag.schemas import ConversationPut, UserPut
    from chinwag.services import conversations, users

    users.put_user(ctx, server.app_id, "u", UserPut(name="u"))
    for cid in ("c1", "c2", "c3"):
        conversations.put_conversation(ctx, server.app_id, cid, ConversationPut(participants=["u"]))
    server.node.limits = Limits(max_watches=2)
    with server.client("u") as c:
        c.ok("SUBSCRIBE", "me/conversations/c1")
        c.ok("SUBSCRIBE", "me/conversations/c2")
        status, body = c.request("SUBSCRIBE", "me/conversations/c3")
        assert (status, body["errorCode"]) == (429, "TOO_MANY_SUBSCRIPTIONS")
        c.ok("SUBSCRIBE", "me/conversations/c2")  # subscribing again is no new watch
        c.ok("UNSUBSCRIBE", "me/conversations/c1")
        c.ok("SUBSCRIBE", "me/conversations/c3")


def test_the_supervisors_id_is_reserved_even_without_identity_verification(
    server: Server,
) -> None:
    """The dashboard watches as ``chinwag-supervisor`` (with a signature): nobody else may claim
    that id to hide among the supervisors, whatever the app's identity verification."""
    with server.client("chinwag-supervisor") as c:
        closed = c.wait_closed()
    assert closed.code == 4401 and "reserved" in closed.reason
    sig = sessions.signature_of(server.secret, "chinwag-supervisor")
    with server.client("chinwag-supervisor", signature=sig) as c:
        assert c.ok("GET", "ping") == {}
