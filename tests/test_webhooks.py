# ruff: noqa: F811  (pytest fixtures imported from tests.test_notif_support)
"""Webhooks end to end: configured over REST, written to the outbox with the change, delivered
signed to a real HTTP receiver on loopback that checks the signature; retries and the delivery
log. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from chinwag.clock import FakeClock
from chinwag.domain import access as rules
from chinwag.domain.access import BrowserSync, GuestAccess
from chinwag.schemas import UserMessageIn
from chinwag.services import apps, messages
from chinwag.services.context import Context
from chinwag.web.app import create_app
from chinwag.webhooks import signing
from chinwag.webhooks.events import WEBHOOK_EVENTS
from tests.conftest import Api
from tests.test_notif_support import (  # noqa: F401  (fixtures)
    HttpRecorder,
    SmtpServer,
    allow_private_webhooks,
    hook_server,
    make_worker,
    nctx,
    notif_db,
    notif_db_url,
    sms_server,
    smtp_server,
)


@pytest.fixture
def wapi(nctx: Context, allow_private_webhooks: None) -> Iterator[Api]:
    keys = apps.create_app(nctx, f"hooks-{uuid.uuid4().hex[:6]}")
    with TestClient(create_app(nctx)) as client:
        yield Api(client, keys.app.id, keys.secret_keys[0])


def verified(api: Api, receiver: HttpRecorder) -> list[dict[str, Any]]:
    """Every webhook the receiver got, after checking both signatures; bodies in order."""
    out = []
    for r in receiver.received():
        ts = r.headers["x-chinwag-timestamp"]
        assert signing.verify(api.secret, ts, r.body, r.headers["x-chinwag-signature"])
        assert r.headers["x-talkjs-timestamp"] == ts
        assert r.headers["x-talkjs-signature"] == r.headers["x-chinwag-signature"].upper()
        assert not signing.verify("sk_wrong", ts, r.body, r.headers["x-chinwag-signature"])
        body = r.json()
        assert set(body) == {"type", "data", "id", "createdAt"}
        assert r.headers["x-chinwag-event-id"] == body["id"]
        out.append(body)
    return out


def drain(ctx: Context, clock: FakeClock, **kw: Any) -> None:
    """Deliver what is due, with loopback receivers allowed (the operator's setting)."""
    worker = make_worker(ctx.db, clock, allow_private_webhooks=True, **kw)
    try:
        worker.drain()
    finally:
        worker.close()


def test_webhook_endpoints_over_rest(wapi: Api) -> None:
    created = wapi.ok(wapi.post("/webhooks", {"url": "https://example.test/hook"}))
    assert created["events"] == ["*"] and created["enabled"] is True
    hook_id = created["id"]
    assert wapi.ok(wapi.get("/webhooks"))["data"] == [created]
    changed = wapi.ok(
        wapi.patch(
            f"/webhooks/{hook_id}", {"events": ["message.sent", "user.created"], "enabled": False}
        )
    )
    assert changed["events"] == ["message.sent", "user.created"] and not changed["enabled"]
    assert wapi.ok(wapi.get(f"/webhooks/{hook_id}"))["url"] == "https://example.test/hook"
    assert wapi.ok(wapi.get(f"/webhooks/{hook_id}/deliveries"))["data"] == []
    for bad in (
        {"url": "ftp://example.test/"},
        {"url": "https://x.test", "events": ["nope"]},
        {"url": "https://x.test", "events": []},
        {"url": "https://x.test", "extra": 1},
        {"url": "https://x.test", "enabled": "yes"},
        {},
    ):
        response = wapi.post("/webhooks", bad)
        assert response.status_code == 400, bad
        assert response.json()["errorCode"] == "INVALID_REQUEST"
    assert wapi.ok(wapi.delete(f"/webhooks/{hook_id}")) == {}
    for response in (
        wapi.get(f"/webhooks/{hook_id}"),
        wapi.delete(f"/webhooks/{hook_id}"),
        wapi.get(f"/webhooks/{hook_id}/deliveries"),
    ):
        assert response.status_code == 404
    assert wapi.client.get(wapi.url("/webhooks")).status_code == 401


def test_every_event_arrives_signed_and_guests_trigger_no_notification(
    nctx: Context,
    wapi: Api,
    clock: FakeClock,
    hook_server: HttpRecorder,
    smtp_server: SmtpServer,
    sms_server: HttpRecorder,
) -> None:
    wapi.ok(wapi.post("/webhooks", {"url": hook_server.url + "/all"}))
    only = wapi.ok(
        wapi.post("/webhooks", {"url": hook_server.url + "/messages", "events": ["message.sent"]})
    )
    wapi.ok(wapi.post("/webhooks", {"url": hook_server.url + "/off", "enabled": False}))
    wapi.ok(wapi.patch("/settings", {"notificationDelaySeconds": 10}))
    wapi.ok(
        wapi.put(
            "/users/alice", {"name": "Alice", "email": "alice@example.com", "phone": "+15550001111"}
        )
    )
    wapi.ok(wapi.put("/users/bob", {"name": "Bob", "role": "agent"}))
    wapi.ok(wapi.put("/users/gus", {"name": "Gus", "email": "gus@example.com"}))
    wapi.ok(wapi.put("/users/bob", {"name": "Bobby"}))
    wapi.ok(
        wapi.put(
            "/conversations/c",
            {"subject": "Hi", "custom": {"k": "v"}, "participants": ["alice", "bob"]},
        )
    )
    # A write that fails leaves no webhook behind: it rolls back with the change.
    assert (
        wapi.post(
            "/conversations/c/messages", [{"type": "UserMessage", "sender": "gus", "text": "no"}]
        ).status_code
        == 403
    )
    view = rules.guest_view(BrowserSync(True, True), GuestAccess.READ_WRITE, None)
    messages.send_messages(
        nctx,
        wapi.app_id,
        "c",
        [UserMessageIn(type="UserMessage", sender="gus", text="guest here")],
        origin="web",
        guest=view,
    )
    sent = wapi.ok(
        wapi.post(
            "/conversations/c/messages", [{"type": "UserMessage", "sender": "bob", "text": "hello"}]
        )
    )
    message_id = sent[0]["id"] if isinstance(sent, list) else None
    listed = wapi.ok(wapi.get("/conversations/c/messages"))["data"]
    message_id = message_id or next(m["id"] for m in listed if m["text"] == "hello")
    clock.advance(10_000)
    drain(nctx, clock, smtp=smtp_server, sms=sms_server)  # the notification goes out now
    wapi.ok(wapi.patch(f"/conversations/c/messages/{message_id}", {"text": "hello!"}))
    wapi.ok(wapi.post("/conversations/c/readBy/alice"))
    wapi.ok(wapi.put(f"/conversations/c/messages/{message_id}/reactions/%F0%9F%91%8D/alice"))
    wapi.ok(wapi.delete(f"/conversations/c/messages/{message_id}/reactions/%F0%9F%91%8D/alice"))
    wapi.ok(wapi.patch("/conversations/c/participants/alice", {"access": "Read"}))
    wapi.ok(wapi.delete("/conversations/c/participants/alice"))
    wapi.ok(wapi.delete(f"/conversations/c/messages/{message_id}"))
    wapi.ok(wapi.delete("/conversations/c"))
    drain(nctx, clock, smtp=smtp_server, sms=sms_server)

    bodies = verified(wapi, hook_server)
    by_path: dict[str, list[dict[str, Any]]] = {}
    for r, body in zip(hook_server.received(), bodies, strict=True):
        by_path.setdefault(r.path, []).append(body)
    assert "/off" not in by_path
    assert [b["type"] for b in by_path["/messages"]] == ["message.sent", "message.sent"]
    everything = by_path["/all"]
    types = [b["type"] for b in everything]
    assert sorted(set(types)) == sorted(WEBHOOK_EVENTS), set(WEBHOOK_EVENTS) - set(types)
    assert len({b["id"] for b in everything}) == len(everything)
    assert types.count("user.created") == 3 and types.count("user.updated") == 1
    assert types.count("notification.triggered") == 1
    assert types.count("notification.sent") == 2  # one email, one SMS, to alice only

    def one(kind: str, pred: Any = lambda b: True) -> dict[str, Any]:
        (found,) = [b for b in everything if b["type"] == kind and pred(b)]
        return found

    guest_msg = one("message.sent", lambda b: b["data"]["sender"]["id"] == "gus")
    assert guest_msg["data"]["sender"]["isGuest"] is True
    assert guest_msg["data"]["message"]["text"] == "guest here"
    bob_msg = one("message.sent", lambda b: b["data"]["sender"]["id"] == "bob")
    assert bob_msg["data"]["sender"]["isGuest"] is False
    assert bob_msg["data"]["sender"]["role"] == "agent"
    assert bob_msg["data"]["conversation"] == {
        "id": "c",
        "subject": "Hi",
        "photoUrl": None,
        "custom": {"k": "v"},
    }
    triggered = one("notification.triggered")["data"]
    assert triggered["recipient"]["id"] == "alice"
    assert [m["text"] for m in triggered["notification"]["messages"]] == ["hello"]
    assert triggered["notification"]["channels"] == ["email", "sms"]
    sent_channels = sorted(
        b["data"]["notification"]["channel"] for b in everything if b["type"] == "notification.sent"
    )
    assert sent_channels == ["email", "sms"]
    assert one("message.updated")["data"]["message"]["text"] == "hello!"
    assert one("message.deleted")["data"]["message"]["id"] == message_id
    assert one("participant.removed")["data"]["participant"]["userId"] == "alice"
    assert one("participant.access_changed")["data"]["participant"]["access"] == "Read"
    assert one("conversation.deleted")["data"]["conversation"] == {"id": "c"}
    read = one("conversation.read")["data"]
    assert (read["userId"], read["conversation"]["id"]) == ("alice", "c")
    assert read["readUntil"] > 0
    # The guest got nothing: notifications went to alice only.
    assert [m.rcpt_tos for m in smtp_server.mails] == [["alice@example.com"]]

    log = wapi.ok(wapi.get(f"/webhooks/{only['id']}/deliveries"))["data"]
    assert [d["status"] for d in log] == ["sent", "sent"]
    assert all(d["type"] == "message.sent" and d["lastStatus"] == 200 for d in log)
    notes = wapi.ok(wapi.get("/notifications"))["data"]
    assert sorted((n["kind"], n["status"]) for n in notes) == [
        ("email", "sent"),
        ("notification", "sent"),
        ("sms", "sent"),
    ]


def test_failed_deliveries_retry_with_backoff_and_end_in_the_log(
    nctx: Context,
    wapi: Api,
    clock: FakeClock,
    hook_server: HttpRecorder,
) -> None:
    answers = {"/flaky": iter([500, 503]), "/down": iter([])}
    hook_server.answer = lambda r: next(answers[r.path], 200 if r.path == "/flaky" else 500)
    flaky = wapi.ok(
        wapi.post("/webhooks", {"url": hook_server.url + "/flaky", "events": ["user.created"]})
    )
    down = wapi.ok(
        wapi.post("/webhooks", {"url": hook_server.url + "/down", "events": ["user.created"]})
    )
    wapi.ok(wapi.put("/users/u", {"name": "U"}))
    drain(nctx, clock)
    (entry,) = wapi.ok(wapi.get(f"/webhooks/{flaky['id']}/deliveries"))["data"]
    assert (entry["status"], entry["attempts"], entry["lastStatus"]) == ("pending", 1, 500)
    assert entry["nextAttemptAt"] == clock.now_ms() + 10_000
    clock.advance(10_000)
    drain(nctx, clock)
    clock.advance(20_000)
    drain(nctx, clock)
    (entry,) = wapi.ok(wapi.get(f"/webhooks/{flaky['id']}/deliveries"))["data"]
    assert (entry["status"], entry["attempts"], entry["lastStatus"]) == ("sent", 3, 200)
    flaky_bodies = [r.body for r in hook_server.received() if r.path == "/flaky"]
    assert len(flaky_bodies) == 3 and len(set(flaky_bodies)) == 1  # the same event each time
    for _ in range(10):
        clock.advance(3_600_000)
        drain(nctx, clock)
    (entry,) = wapi.ok(wapi.get(f"/webhooks/{down['id']}/deliveries"))["data"]
    assert (entry["status"], entry["attempts"]) == ("failed", 8)
    assert entry["lastError"] == "the receiver answered 500"


def test_unreachable_receiver_is_retried(
    nctx: Context,
    wapi: Api,
    clock: FakeClock,
    hook_server: HttpRecorder,
) -> None:
    hook = wapi.ok(wapi.post("/webhooks", {"url": "http://127.0.0.1:9/nothing-listens"}))
    wapi.ok(wapi.put("/users/u", {"name": "U"}))
    drain(nctx, clock)
    (entry,) = wapi.ok(wapi.get(f"/webhooks/{hook['id']}/deliveries"))["data"]
    assert entry["status"] == "pending" and entry["lastError"] == "connection failed"
    wapi.ok(wapi.patch(f"/webhooks/{hook['id']}", {"url": hook_server.url}))
    clock.advance(10_000)
    drain(nctx, clock)
    (entry,) = wapi.ok(wapi.get(f"/webhooks/{hook['id']}/deliveries"))["data"]
    # A retry goes to where the endpoint points now.
    assert (entry["status"], entry["attempts"], entry["url"]) == ("sent", 2, hook_server.url)
    assert len(verified(wapi, hook_server)) == 1
    # Deliveries still queued for a removed or disabled endpoint are cancelled.
    wapi.ok(wapi.patch(f"/webhooks/{hook['id']}", {"enabled": False}))
    wapi.ok(wapi.put("/users/v", {"name": "V"}))
    wapi.ok(wapi.patch(f"/webhooks/{hook['id']}", {"enabled": True}))
    wapi.ok(wapi.put("/users/w", {"name": "W"}))
    wapi.ok(wapi.delete(f"/webhooks/{hook['id']}"))
    drain(nctx, clock)
    assert len(hook_server.received()) == 1


def test_signature_helpers() -> None:
    body = json.dumps({"type": "x"}).encode()
    sig = signing.signature("sk_test", "1700000000000", body)
    assert len(sig) == 64 and sig == sig.lower()
    assert signing.verify("sk_test", "1700000000000", body, sig.upper())
    assert not signing.verify("sk_test", "1700000000001", body, sig)
    assert not signing.verify("sk_test", "1700000000000", body + b" ", sig)
