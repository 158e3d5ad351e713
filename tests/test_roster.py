"""The live guest roster on one node: REST lists the guests watching, participants get the count
and a ``guests.changed`` event when it changes, guests learn nothing about other guests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from chinwag.clock import FakeClock
from chinwag.domain.moderation import RestrictionKind
from chinwag.schemas import ConversationPut, UserPut
from chinwag.services import apps, conversations, moderation, users
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.realtime_support import Client, live_server


@dataclass
class Room:
    base: str
    app_id: str
    secret: str

    def guests(self, cid: str = "live") -> Any:
        r = httpx.get(
            f"{self.base.replace('ws://', 'http://')}/v1/{self.app_id}/conversations/{cid}/guests",
            headers={"Authorization": f"Bearer {self.secret}"},
            timeout=10,
        )
        return r.status_code, r.json()

    def client(self, user_id: str) -> Client:
        return Client.open(self.base, self.app_id, user_id)


@pytest.fixture
def room(ctx: Context, app_keys: apps.AppWithKeys) -> Iterator[Room]:
    app_id = app_keys.app.id
    for uid in ("host", "reader", "g1", "g2"):
        users.put_user(ctx, app_id, uid, UserPut(name=uid))
    conversations.put_conversation(ctx, app_id, "live", ConversationPut(participants=["host"]))
    with live_server(create_app(ctx)) as base:
        yield Room(base, app_id, app_keys.secret_keys[0])


def counted(n: int) -> Any:
    return lambda e: e.get("type") == "guests.changed" and e["count"] == n


def test_roster_follows_guests_as_they_come_and_go(
    ctx: Context, clock: FakeClock, room: Room
) -> None:
    assert room.guests() == (200, {"data": [], "count": 0})
    with room.client("host") as host:
        host.ok("SUBSCRIBE", "me/conversations/live")
        assert host.ok("GET", "me/conversations/live/guests") == {"count": 0}
        with room.client("g1") as g1, room.client("g2") as g2:
            g1.ok("SUBSCRIBE", "me/conversations/live", {"asGuest": True})
            joined_at = clock.now_ms()
            host.wait_event(counted(1))
            clock.advance(5)
            g2.ok("SUBSCRIBE", "me/conversations/live", {"asGuest": True})
            event = host.wait_event(counted(2))
            assert set(event) == {"type", "conversationId", "position", "count"}
            assert event["conversationId"] == "live" and event["position"] is None
            status, body = room.guests()
            assert status == 200 and body["count"] == 2
            assert body["data"] == [
                {"userId": "g1", "since": joined_at},
                {"userId": "g2", "since": clock.now_ms()},
            ]
            assert host.ok("GET", "me/conversations/live/guests") == {"count": 2}
            # Guests hear nothing about other guests, and may not ask.
            assert not [e for e in g1.drain() if e["type"] == "guests.changed"]
            status, body = g1.request("GET", "me/conversations/live/guests")
            assert (status, body["errorCode"]) == (403, "NOT_A_PARTICIPANT")
            g2.ok("UNSUBSCRIBE", "me/conversations/live")
            host.wait_event(counted(1))
            assert [g["userId"] for g in room.guests()[1]["data"]] == ["g1"]
        # g1's socket closed: unlinked, the roster is empty.
        host.wait_event(counted(0))
        assert room.guests() == (200, {"data": [], "count": 0})


def test_one_user_on_two_sockets_counts_once_and_a_kick_removes_them(
    ctx: Context, room: Room
) -> None:
    with room.client("host") as host, room.client("g1") as a, room.client("g1") as b:
        host.ok("SUBSCRIBE", "me/conversations/live")
        a.ok("SUBSCRIBE", "me/conversations/live", {"asGuest": True})
        b.ok("SUBSCRIBE", "me/conversations/live", {"asGuest": True})
        host.wait_event(counted(1))
        assert room.guests()[1]["count"] == 1
        b.ok("UNSUBSCRIBE", "me/conversations/live")
        assert room.guests()[1]["count"] == 1
        b.ok("SUBSCRIBE", "me/conversations/live", {"asGuest": True})
        moderation.kick(ctx, room.app_id, "live", "g1", None)
        a.wait_event("subscription.ended")
        b.wait_event("subscription.ended")
        host.wait_event(counted(0))
        assert room.guests()[1]["count"] == 0


def test_who_may_ask(ctx: Context, room: Room) -> None:
    conversations.put_conversation(
        ctx, room.app_id, "live", ConversationPut(participants=["reader"])
    )
    with room.client("reader") as reader, room.client("g1") as outsider:
        assert reader.ok("GET", "me/conversations/live/guests") == {"count": 0}
        status, _ = outsider.request("GET", "me/conversations/live/guests")
        assert status == 403
        status, body = outsider.request("GET", "me/conversations/nowhere/guests")
        assert (status, body["errorCode"]) == (404, "CONVERSATION_NOT_FOUND")
    status, body = room.guests("nowhere")
    assert (status, body["errorCode"]) == (404, "CONVERSATION_NOT_FOUND")


def test_guests_do_not_hear_about_other_guests(ctx: Context, room: Room) -> None:
    with room.client("host") as host, room.client("g1") as g1, room.client("g2") as g2:
        host.ok("SUBSCRIBE", "me/conversations/live")
        g1.ok("SUBSCRIBE", "me/conversations/live", {"asGuest": True})
        g2.ok("SUBSCRIBE", "me/conversations/live", {"asGuest": True})
        moderation.restrict(ctx, room.app_id, "live", "g2", RestrictionKind.MUTE, None, "loud")
        assert g2.wait_event("guest.muted")["userId"] == "g2"  # about itself: told
        moderation.kick(ctx, room.app_id, "live", "g2", None)
        assert host.wait_event("guest.muted")["userId"] == "g2"  # participants see moderation
        host.wait_event("guest.kicked")
        host.wait_event(counted(1))
        g2.wait_event("subscription.ended")
        assert not [e for e in g1.drain() if e["type"].startswith("guest")]
