"""Guest moderation over live sessions: kicks and bans unlink the guest at once, mutes make it
read-only, invite links admit guests to a closed conversation, and browser actions are audited
as the session's user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chinwag.domain.access import GuestAccess
from chinwag.domain.moderation import RestrictionKind
from chinwag.schemas import ConversationPut, UserPut
from chinwag.services import apps, audit, conversations, moderation, users
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.realtime_support import Client, live_server


@pytest.fixture
def room(ctx: Context, app_keys: apps.AppWithKeys) -> Iterator[tuple[str, str]]:
    app_id = app_keys.app.id
    for uid in ("host", "guest"):
        users.put_user(ctx, app_id, uid, UserPut(name=uid))
    conversations.put_conversation(ctx, app_id, "live", ConversationPut(participants=["host"]))
    with live_server(create_app(ctx)) as base:
        yield base, app_id


def test_kick_and_ban_unlink_the_guest(ctx: Context, room: tuple[str, str]) -> None:
    base, app_id = room
    with Client.open(base, app_id, "host") as host, Client.open(base, app_id, "guest") as g:
        host.ok("SUBSCRIBE", "me/conversations/live")
        g.ok("SUBSCRIBE", "me/conversations/live", {"asGuest": True})
        moderation.kick(ctx, app_id, "live", "guest", "off topic")
        ended = g.wait_event("subscription.ended")
        assert ended["errorCode"] == "GUEST_KICKED"
        host.ok("POST", "me/conversations/live/messages", {"text": "after kick"})
        host.wait_event(lambda e: e.get("type") == "message.created")
        assert not [e for e in g.drain() if e["type"] == "message.created"]
        # A kicked guest may come back; a banned one is unlinked and cannot.
        g.ok("SUBSCRIBE", "me/conversations/live", {"asGuest": True})
        moderation.restrict(ctx, app_id, "live", "guest", RestrictionKind.BAN, None, "spam")
        assert g.wait_event("subscription.ended")["errorCode"] == "GUEST_BANNED"
        status, body = g.request("SUBSCRIBE", "me/conversations/live", {"asGuest": True})
        assert (status, body["errorCode"]) == (403, "GUEST_BANNED")


def test_muted_guest_reads_but_cannot_write(ctx: Context, room: tuple[str, str]) -> None:
    base, app_id = room
    with Client.open(base, app_id, "guest") as g:
        g.ok("SUBSCRIBE", "me/conversations/live", {"asGuest": True})
        g.ok("POST", "me/conversations/live/messages", {"text": "hi"})
        moderation.restrict(ctx, app_id, "live", "guest", RestrictionKind.MUTE, 60, None)
        g.wait_event("guest.muted")
        status, body = g.request("POST", "me/conversations/live/messages", {"text": "again"})
        assert (status, body["errorCode"]) == (403, "NOT_ALLOWED_TO_WRITE")
        assert [m["text"] for m in g.ok("GET", "me/conversations/live/messages")["data"]] == ["hi"]


def test_invite_admits_a_guest_to_a_closed_conversation(
    ctx: Context, room: tuple[str, str]
) -> None:
    base, app_id = room
    conversations.put_conversation(ctx, app_id, "live", ConversationPut(guestAccess="None"))
    invite = moderation.create_invite(ctx, app_id, "live", GuestAccess.READ_WRITE, 600)
    with Client.open(base, app_id, "host") as host, Client.open(base, app_id, "guest") as g:
        host.ok("SUBSCRIBE", "me/conversations/live")
        status, body = g.request("SUBSCRIBE", "me/conversations/live", {"asGuest": True})
        assert (status, body["errorCode"]) == (403, "GUEST_ACCESS_NOT_ALLOWED")
        sel = g.ok("SUBSCRIBE", "me/conversations/live", {"asGuest": True, "invite": invite.token})
        assert sel["access"]["kind"] == "guest" and sel["access"]["canWrite"] is True
        g.ok("POST", "me/conversations/live/messages", {"text": "invited"})
        assert host.wait_event("message.created")["message"]["text"] == "invited"
        status, body = g.request(
            "SUBSCRIBE", "me/conversations/live", {"asGuest": True, "invite": "forged.token"}
        )
        assert status == 403


def test_browser_actions_are_audited_as_the_session_user(
    ctx: Context, room: tuple[str, str]
) -> None:
    base, app_id = room
    with Client.open(base, app_id, "host") as host:
        host.ok("PATCH", "conversations/live/participants/host", {"access": "Read"})
    actors = {e.actor for e in audit.entries(ctx, app_id, 50, None)}
    assert "user:host" in actors
