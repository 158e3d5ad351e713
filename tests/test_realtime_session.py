"""Realtime sessions end to end over a real socket, on SQLite and PostgreSQL: operations, guests,
access changes, resume."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.realtime_support import TRANSPORTS, Node, live_server


@pytest.fixture(params=TRANSPORTS)
def node(
    ctx: Context, app_keys: apps.AppWithKeys, request: pytest.FixtureRequest
) -> Iterator[Node]:
    with live_server(create_app(ctx), request.param) as base:
        with httpx.Client(base_url=base.replace("ws://", "http://"), timeout=10) as http:
            yield Node(base, http, app_keys.app.id, app_keys.secret_keys[0])


def said(text: str) -> Any:
    """Matches the message.created event of the message with this text."""
    return lambda e: e.get("type") == "message.created" and e["message"]["text"] == text


def _group(node: Node, cid: str = "team") -> None:
    for uid in ("alice", "bob", "carol", "sup"):
        node.rest("PUT", f"/users/{uid}", {"name": uid.title(), "email": [f"{uid}@example.com"]})
    node.rest("PUT", f"/conversations/{cid}", {"participants": ["alice", "bob"], "subject": "Team"})
    node.rest("PUT", f"/conversations/{cid}/participants/carol", {"access": "Read"})


def test_group_chat_read_only_guest_and_revocation(node: Node) -> None:
    _group(node)
    with (
        node.client("alice") as alice,
        node.client("bob") as bob,
        node.client("carol") as carol,
        node.client("sup") as sup,
    ):
        sel = alice.ok("SUBSCRIBE", "me/conversations/team")
        assert sel["access"] == {
            "kind": "participant",
            "canWrite": True,
            "live": True,
            "historyUntil": None,
        }
        assert set(sel["conversation"]["participants"]) == {"alice", "bob", "carol"}
        bob.ok("SUBSCRIBE", "me/conversations/team")
        assert carol.ok("SUBSCRIBE", "me/conversations/team")["access"]["canWrite"] is False
        guest = sup.ok("SUBSCRIBE", "me/conversations/team", {"asGuest": True})
        assert guest["access"]["kind"] == "guest"
        assert "sup" not in guest["conversation"]["participants"]

        sent = alice.ok("POST", "me/conversations/team/messages", {"text": "hello"})
        for c in (bob, carol, sup, alice):
            ev = c.wait_event("message.created")
            assert ev["message"]["text"] == "hello"
            assert ev["position"] == sent["position"] and ev["conversationId"] == "team"

        # A Read participant cannot write, on this path too.
        status, body = carol.request("POST", "me/conversations/team/messages", {"text": "x"})
        assert (status, body["errorCode"]) == (403, "NOT_ALLOWED_TO_WRITE")

        # The guest writes; it is never a participant, never in anyone's list or unreads.
        sup.ok("POST", "me/conversations/team/messages", {"text": "supervisor here"})
        assert bob.wait_event("message.created")["message"]["senderId"] == "sup"
        assert sup.ok("GET", "me/conversations")["data"] == []
        listed = bob.ok("GET", "me/conversations")["data"]
        assert [c["id"] for c in listed] == ["team"] and "sup" not in listed[0]["participants"]
        assert listed[0]["unreadMessageCount"] == 2
        rest_parts = node.rest("GET", "/conversations/team/participants")["data"]
        assert "sup" not in {p["userId"] for p in rest_parts}

        # Bob loses access: he is told, then hears nothing more.
        node.rest("PATCH", "/conversations/team/participants/bob", {"access": "None"})
        told = bob.wait_event("participant.access_changed")
        assert told["participant"]["userId"] == "bob" and told["participant"]["access"] == "None"
        alice.ok("POST", "me/conversations/team/messages", {"text": "secret"})
        sup.wait_event(said("secret"))
        assert all(e.get("message", {}).get("text") != "secret" for e in bob.drain())
        status, body = bob.request("POST", "me/conversations/team/messages", {"text": "x"})
        assert status == 403
        frozen = bob.ok("GET", "me/conversations/team/messages")["data"]
        assert [m["text"] for m in frozen] == ["supervisor here", "hello"]

        # Access returns: told, live again, and the whole history is readable.
        node.rest("PATCH", "/conversations/team/participants/bob", {"access": "ReadWrite"})
        back = bob.wait_event("participant.access_changed")
        assert back["participant"]["access"] == "ReadWrite"
        alice.ok("POST", "me/conversations/team/messages", {"text": "welcome back"})
        bob.wait_event(said("welcome back"))
        full = bob.ok("GET", "me/conversations/team/messages", {"limit": 10})["data"]
        assert [m["text"] for m in full] == ["welcome back", "secret", "supervisor here", "hello"]

    # The guest's socket closed: nothing of the guest remains but its message.
    conv = node.rest("GET", "/conversations/team")
    assert "sup" not in conv["participants"]
    assert node.rest("GET", "/users/sup/conversations")["data"] == []


def test_removed_participant_is_told_and_may_return_as_guest(node: Node) -> None:
    _group(node)
    with node.client("alice") as alice, node.client("bob") as bob:
        alice.ok("SUBSCRIBE", "me/conversations/team")
        bob.ok("SUBSCRIBE", "me/conversations/team")
        alice.ok("POST", "me/conversations/team/messages", {"text": "one"})
        bob.wait_event("message.created")
        node.rest("DELETE", "/conversations/team/participants/bob")
        assert bob.wait_event("participant.left")["participant"]["isMember"] is False
        alice.ok("POST", "me/conversations/team/messages", {"text": "two"})
        alice.wait_event(said("two"))
        assert all(e.get("message", {}).get("text") != "two" for e in bob.drain())
        # A user with a None membership gets their participant view even with asGuest...
        node.rest("PUT", "/conversations/team/participants/carol", {"access": "ReadWrite"})
        node.rest("PATCH", "/conversations/team/participants/carol", {"access": "None"})
        with node.client("carol") as carol:
            sel = carol.ok("SUBSCRIBE", "me/conversations/team", {"asGuest": True})
            assert sel["access"]["kind"] == "former" and sel["access"]["live"] is False
        # ...while a removed one may watch as a guest.
        sel = bob.ok("SUBSCRIBE", "me/conversations/team", {"asGuest": True})
        assert sel["access"]["kind"] == "guest"
        alice.ok("POST", "me/conversations/team/messages", {"text": "three"})
        bob.wait_event(said("three"))


def test_browser_sync_settings_and_guest_policy(node: Node) -> None:
    _group(node)
    with node.client("alice") as alice, node.client("sup") as sup:
        # Allowed by default: the browser syncs users and conversations.
        assert alice.ok("PUT", "me", {"name": "Alice A."})["name"] == "Alice A."
        alice.ok("PUT", "users/dave", {"name": "Dave"})
        alice.ok("PUT", "conversations/new", {"subject": "New"})
        alice.ok("PUT", "conversations/new/participants/alice", {})
        alice.ok("PUT", "conversations/new/participants/dave", {"access": "Read"})
        alice.ok("PATCH", "conversations/new/participants/dave", {"access": "ReadWrite"})
        # Removing someone else is for the backend and moderators (docs/security.md).
        status, body = alice.request("DELETE", "conversations/new/participants/dave")
        assert (status, body["errorCode"]) == (403, "UNAUTHORIZED_TO_EDIT_PARTICIPANT")

        node.rest("PATCH", "/settings", {"allowConversationSyncViaBrowser": False})
        status, body = alice.request("PUT", "conversations/other", {"subject": "x"})
        assert (status, body["errorCode"]) == (403, "SYNC_NOT_ALLOWED")
        status, body = alice.request("PUT", "conversations/new/participants/dave", {})
        assert (status, body["errorCode"]) == (403, "SYNC_NOT_ALLOWED")
        # Reading and sending still work; guests do not.
        alice.ok("SUBSCRIBE", "me/conversations/team")
        alice.ok("POST", "me/conversations/team/messages", {"text": "still here"})
        status, body = sup.request("SUBSCRIBE", "me/conversations/team", {"asGuest": True})
        assert (status, body["errorCode"]) == (403, "GUEST_ACCESS_NOT_ALLOWED")

        node.rest(
            "PATCH",
            "/settings",
            {"allowConversationSyncViaBrowser": True, "allowUserSyncViaBrowser": False},
        )
        status, body = alice.request("PUT", "me", {"name": "A"})
        assert (status, body["errorCode"]) == (403, "SYNC_NOT_ALLOWED")

        node.rest("PATCH", "/settings", {"allowUserSyncViaBrowser": True})
        # A watching guest is unlinked as soon as the settings stop allowing guests.
        sup.ok("SUBSCRIBE", "me/conversations/team", {"asGuest": True})
        node.rest("PATCH", "/settings", {"allowUserSyncViaBrowser": False})
        assert sup.wait_event("subscription.ended")["errorCode"] == "GUEST_ACCESS_NOT_ALLOWED"
        node.rest("PATCH", "/settings", {"allowUserSyncViaBrowser": True})
        node.rest("PUT", "/conversations/team", {"guestAccess": "Read"})
        assert (
            sup.ok("SUBSCRIBE", "me/conversations/team", {"asGuest": True})["access"]["canWrite"]
            is False
        )
        status, body = sup.request("POST", "me/conversations/team/messages", {"text": "x"})
        assert (status, body["errorCode"]) == (403, "NOT_ALLOWED_TO_WRITE")
        # Closing the conversation to guests ends the guest's subscription at once.
        node.rest("PUT", "/conversations/team", {"guestAccess": "None"})
        ended = sup.wait_event("subscription.ended")
        assert ended["errorCode"] == "GUEST_ACCESS_NOT_ALLOWED"
        alice.ok("POST", "me/conversations/team/messages", {"text": "guests gone"})
        alice.wait_event(said("guests gone"))
        assert all(e.get("type") != "message.created" for e in sup.drain()[1:])


def test_edit_delete_read_typing(node: Node) -> None:
    _group(node)
    with node.client("alice") as alice, node.client("bob") as bob:
        alice.ok("SUBSCRIBE", "me/conversations/team")
        bob.ok("SUBSCRIBE", "me/conversations/team")
        mid = alice.ok("POST", "conversations/team/messages", {"text": "tpyo"})["id"]
        bob.wait_event("message.created")
        status, body = bob.request("PATCH", f"conversations/team/messages/{mid}", {"text": "no"})
        assert status == 403
        alice.ok("PATCH", f"conversations/team/messages/{mid}", {"text": "typo"})
        assert bob.wait_event("message.edited")["message"]["text"] == "typo"
        bob.ok("POST", "me/conversations/team/read")
        read = alice.wait_event("conversation.read")
        assert read["userId"] == "bob" and read["readUntil"] >= 1
        assert bob.ok("GET", "me/conversations")["data"][0]["unreadMessageCount"] == 0
        bob.ok("POST", "me/conversations/team/typing", {"isTyping": True})
        typing = alice.wait_event("typing.changed")
        assert typing["userId"] == "bob" and typing["isTyping"] is True
        assert typing["position"] is None
        alice.ok("DELETE", f"conversations/team/messages/{mid}")
        assert bob.wait_event("message.deleted")["messageId"] == mid
        assert bob.ok("GET", "me/conversations/team/messages")["data"] == []


def test_resume_from_positions_gets_what_was_missed_once(node: Node) -> None:
    _group(node)
    with node.client("alice") as alice:
        alice.ok("SUBSCRIBE", "me/conversations/team")
        first = alice.ok("POST", "me/conversations/team/messages", {"text": "seen"})
        alice.wait_event("message.created")
        last_seen = first["position"]
    # While alice is away: a message, an edit of what she saw, a membership change, a subject.
    with node.client("bob") as bob:
        bob.ok("SUBSCRIBE", "me/conversations/team")
        bob.ok("POST", "me/conversations/team/messages", {"text": "missed"})
    node.rest("PATCH", f"/conversations/team/messages/{first['id']}", {"text": "seen, edited"})
    node.rest("PATCH", "/conversations/team/participants/carol", {"access": "None"})
    node.rest("PUT", "/conversations/team", {"subject": "Renamed"})
    with node.client("alice") as alice:
        sel = alice.ok("SUBSCRIBE", "me/conversations/team", {"after": last_seen})
        types = [e["type"] for e in sel["events"]]
        assert types == [
            "message.created",
            "message.edited",
            "participant.access_changed",
            "conversation.updated",
        ]
        assert sel["events"][0]["message"]["text"] == "missed"
        assert sel["events"][1]["message"]["text"] == "seen, edited"
        assert sel["events"][-1]["conversation"]["subject"] == "Renamed"
        positions = [e["position"] for e in sel["events"]]
        assert positions == sorted(positions) and positions[0] > last_seen
        assert sel["position"] == positions[-1] and sel["complete"] is True
        # Live again from there: the next change comes once, at the next position.
        node.rest(
            "POST",
            "/conversations/team/messages",
            [{"type": "SystemMessage", "text": "after resume"}],
        )
        ev = alice.wait_event("message.created")
        assert ev["position"] == sel["position"] + 1
        alice.drain()
        assert [e for e in alice.events if e["type"] == "message.created"] == [ev]
        # Resuming at the current position replays nothing.
        again = alice.ok("SUBSCRIBE", "me/conversations/team", {"after": ev["position"]})
        assert again["events"] is None and again["position"] == ev["position"]


def test_a_burst_of_events_leaves_in_few_frames_and_in_order(node: Node) -> None:
    """Events that reach the node together are pushed as one PUBLISH frame per connection
    (realtime/hub.py ``_deliver``), still in position order and each once."""
    _group(node)
    with node.client("bob") as bob, node.client("sup") as sup:
        bob.ok("SUBSCRIBE", "me/conversations/team")
        sup.ok("SUBSCRIBE", "me/conversations/team", {"asGuest": True})
        before = {c: len(c.frames) for c in (bob, sup)}
        burst = [{"type": "UserMessage", "sender": "alice", "text": f"b{i}"} for i in range(10)]
        node.rest("POST", "/conversations/team/messages", burst)
        for c in (bob, sup):
            c.wait_event(said("b9"))
            c.drain()
            created = [e for e in c.events if e.get("type") == "message.created"]
            assert [e["message"]["text"] for e in created] == [f"b{i}" for i in range(10)]
            positions = [e["position"] for e in created]
            assert positions == sorted(set(positions))
            pushes = [f for f in c.frames[before[c] :] if f[1] == "PUBLISH"]
            assert len(pushes) < 4


def test_pipelined_sends_are_stored_and_answered_in_order(node: Node) -> None:
    """A socket's sends go to the group committer (several lanes on PostgreSQL) without a
    thread waiting on each, yet one connection's requests still run one after another: sent
    without waiting for replies, they are answered in order with rising positions, and a guest
    whose guestAccess is Read is refused without spoiling the sends around it."""
    _group(node)
    node.rest("PUT", "/conversations/team", {"guestAccess": "Read"})
    with node.client("alice") as alice, node.client("sup") as sup:
        alice.ok("SUBSCRIBE", "me/conversations/team")
        sup.ok("SUBSCRIBE", "me/conversations/team", {"asGuest": True})
        for i in range(12):
            alice.send_raw(
                f'[{100 + i},"POST","me/conversations/team/messages",{{"text":"p{i}"}}]'
            )
            if i == 5:
                refused = sup.request("POST", "me/conversations/team/messages", {"text": "no"})
                assert refused[0] == 403, refused
        replies = [alice.reply_to(100 + i) for i in range(12)]
        assert all(status == 200 for status, _ in replies), replies
        positions = [body["position"] for _, body in replies]
        assert positions == sorted(set(positions))
        history = alice.ok("GET", "me/conversations/team/messages", {"limit": 30})["data"]
        texts = [m["text"] for m in history]
        assert "no" not in texts
        assert sorted(t for t in texts if t.startswith("p")) == sorted(f"p{i}" for i in range(12))


def test_a_socket_that_closes_with_sends_in_flight_leaves_a_prefix_stored(node: Node) -> None:
    """Requests still queued when their socket closes are dropped, unanswered; the one being
    committed finishes. What is stored is therefore the first k sends, in order, each once, and
    the server goes on serving."""
    _group(node)
    with node.client("alice") as alice:
        alice.ok("SUBSCRIBE", "me/conversations/team")
        for i in range(20):
            alice.send_raw(f'[{i + 1},"POST","me/conversations/team/messages",{{"text":"f{i}"}}]')
    with node.client("bob") as bob:
        bob.ok("SUBSCRIBE", "me/conversations/team")
        time.sleep(0.5)  # let a send that was being committed finish
        data = bob.ok("GET", "me/conversations/team/messages", {"limit": 30})["data"]
        stored = sorted((m for m in data if m["text"].startswith("f")), key=lambda m: m["position"])
        assert [m["text"] for m in stored] == [f"f{i}" for i in range(len(stored))]
        assert bob.ok("POST", "me/conversations/team/messages", {"text": "still here"})["id"]


def _text(event: Any) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def test_a_resume_replays_exactly_what_a_live_watcher_received(node: Node) -> None:
    """Each event a resume replays is, byte for byte, the event a live watcher got at that
    position (events later superseded, like a message edited afterwards, aside)."""
    for uid in ("alice", "bob", "carol", "dave", "erin", "gus"):
        node.rest("PUT", f"/users/{uid}", {"name": uid.title()})
    node.rest("PUT", "/conversations/r", {"participants": ["alice", "bob", "carol", "erin"]})
    with node.client("bob") as live, node.client("alice") as alice, node.client("gus") as gus:
        start = live.ok("SUBSCRIBE", "me/conversations/r")["position"]
        gus.ok("SUBSCRIBE", "me/conversations/r", {"asGuest": True})
        alice.ok("POST", "me/conversations/r/messages", {"text": "one", "custom": {"k": "v"}})
        gus.ok("POST", "me/conversations/r/messages", {"text": "from a guest"})
        node.rest("POST", "/conversations/r/messages", [{"type": "SystemMessage", "text": "sys"}])
        node.rest("PUT", "/conversations/r/participants/dave", {"access": "Read"})
        node.rest("PATCH", "/conversations/r/participants/carol", {"notify": False})
        node.rest("DELETE", "/conversations/r/participants/erin")
        alice.ok("POST", "me/conversations/r/messages", {"text": "two"})
        node.rest("PUT", "/conversations/r", {"subject": "Renamed", "custom": {"a": "b"}})
        last = live.wait_event("conversation.updated")["position"]
        live.drain()
        by_position = {e["position"]: e for e in live.events if e.get("position") is not None}
        with node.client("bob") as again:
            replayed = again.ok("SUBSCRIBE", "me/conversations/r", {"after": start})["events"]
    assert [e["position"] for e in replayed] == list(range(start + 1, last + 1))
    for event in replayed:
        assert _text(event) == _text(by_position[event["position"]])
