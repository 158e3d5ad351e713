"""Guest moderation over the socket by participants whose role is in the app's
``moderatorRoles``: the rule lives in services/moderators.py, the actions are the REST ones, and
the audit log names the session's user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chinwag.domain.settings import AppSettings
from chinwag.errors import InvalidRequest
from chinwag.schemas import ConversationPut, ParticipantPatch, UserPut
from chinwag.services import apps, audit, conversations, moderation, participants, users
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.conftest import Api
from tests.realtime_support import Client, live_server


@pytest.fixture
def room(ctx: Context, app_keys: apps.AppWithKeys) -> Iterator[tuple[str, str]]:
    app_id = app_keys.app.id
    users.put_user(ctx, app_id, "mod", UserPut(name="Mona", role="moderator"))
    users.put_user(ctx, app_id, "reader", UserPut(name="Rita", role="moderator"))
    users.put_user(ctx, app_id, "host", UserPut(name="Hal"))
    users.put_user(ctx, app_id, "troll", UserPut(name="Trev", role="moderator"))
    conversations.put_conversation(
        ctx, app_id, "hall", ConversationPut(participants=["mod", "reader", "host"])
    )
    participants.patch_participant(ctx, app_id, "hall", "reader", ParticipantPatch(access="Read"))
    with live_server(create_app(ctx)) as base:
        yield base, app_id


BAN = "conversations/hall/guests/troll/ban"


def test_nobody_moderates_from_the_browser_by_default(ctx: Context, room: tuple[str, str]) -> None:
    base, app_id = room
    with Client.open(base, app_id, "mod") as mod:
        status, body = mod.request("PUT", BAN, {})
        assert (status, body["errorCode"]) == (403, "NOT_A_MODERATOR")
    assert moderation.restrictions(ctx, app_id, "hall") == []


def test_a_moderator_kicks_bans_mutes_and_mints_invites(
    ctx: Context, room: tuple[str, str]
) -> None:
    base, app_id = room
    apps.patch_settings(ctx, app_id, {"moderatorRoles": ["moderator"]})
    with Client.open(base, app_id, "mod") as mod, Client.open(base, app_id, "troll") as troll:
        troll.ok("SUBSCRIBE", "me/conversations/hall", {"asGuest": True})
        mod.ok("POST", "conversations/hall/guests/troll/kick", {"reason": "calm down"})
        assert troll.wait_event("subscription.ended")["errorCode"] == "GUEST_KICKED"

        troll.ok("SUBSCRIBE", "me/conversations/hall", {"asGuest": True})
        muted = mod.ok("PUT", "conversations/hall/guests/troll/mute", {"durationSeconds": 60})
        assert muted["kind"] == "mute" and muted["until"] == ctx.clock.now_ms() + 60_000
        troll.wait_event("guest.muted")
        status, body = troll.request("POST", "me/conversations/hall/messages", {"text": "x"})
        assert (status, body["errorCode"]) == (403, "NOT_ALLOWED_TO_WRITE")
        # A guest is no moderator, whatever its role.
        status, body = troll.request("DELETE", "conversations/hall/guests/troll/mute")
        assert (status, body["errorCode"]) == (403, "NOT_A_MODERATOR")
        mod.ok("DELETE", "conversations/hall/guests/troll/mute")
        troll.wait_event("guest.unmuted")

        mod.ok("PUT", BAN, {"reason": "spam"})
        assert troll.wait_event("subscription.ended")["errorCode"] == "GUEST_BANNED"
        status, body = troll.request("SUBSCRIBE", "me/conversations/hall", {"asGuest": True})
        assert (status, body["errorCode"]) == (403, "GUEST_BANNED")
        mod.ok("DELETE", BAN)
        troll.ok("SUBSCRIBE", "me/conversations/hall", {"asGuest": True})

        invite = mod.ok("POST", "conversations/hall/invites", {"access": "Read"})
        assert invite["token"] and invite["createdBy"] == "user:mod"
        mod.ok("DELETE", f"conversations/hall/invites/{invite['id']}")
        assert moderation.invites(ctx, app_id, "hall")[0].revoked_at is not None

        status, _ = mod.request("PUT", "conversations/hall/guests/troll/explode", {})
        assert status == 404
        status, body = mod.request("DELETE", BAN)
        assert (status, body["errorCode"]) == (404, "RESTRICTION_NOT_FOUND")

    entries = audit.entries(ctx, app_id, 100, None, "hall")
    moderated = [(e.actor, e.action) for e in entries if e.action.startswith(("guest.", "invite."))]
    assert moderated == [
        ("user:mod", "guest.kicked"),
        ("user:mod", "guest.muted"),
        ("user:mod", "guest.unmuted"),
        ("user:mod", "guest.banned"),
        ("user:mod", "guest.unbanned"),
        ("user:mod", "invite.created"),
        ("user:mod", "invite.revoked"),
    ]


def test_only_read_write_participants_with_the_role(ctx: Context, room: tuple[str, str]) -> None:
    base, app_id = room
    apps.patch_settings(ctx, app_id, {"moderatorRoles": ["moderator"]})
    with (
        Client.open(base, app_id, "reader") as reader,
        Client.open(base, app_id, "host") as host,
        Client.open(base, app_id, "troll") as outsider,
    ):
        for client in (reader, host, outsider):
            status, body = client.request("POST", "conversations/hall/guests/troll/kick", {})
            assert (status, body["errorCode"]) == (403, "NOT_A_MODERATOR")
        status, body = host.request("PUT", "conversations/nowhere/guests/troll/ban", {})
        assert (status, body["errorCode"]) == (404, "CONVERSATION_NOT_FOUND")
    assert not [e for e in audit.entries(ctx, app_id, 100, None) if e.action.startswith("guest.")]


def test_moderator_roles_setting() -> None:
    s = AppSettings().patched({"moderatorRoles": ["mod", "mod", "admin"]})
    assert s.moderatorRoles == ("mod", "admin") and s.may_moderate("admin")
    assert not s.may_moderate(None) and not AppSettings().may_moderate("mod")
    assert AppSettings.from_json(s.to_json()) == s
    assert s.to_json()["moderatorRoles"] == ["mod", "admin"]
    for bad in ("mod", [""], [1], ["x"] * 21, ["x" * 65]):
        with pytest.raises(InvalidRequest):
            AppSettings().patched({"moderatorRoles": bad})


def test_moderator_roles_over_rest(api: Api) -> None:
    assert api.ok(api.patch("/settings", {"moderatorRoles": ["mod"]}))["moderatorRoles"] == ["mod"]
    assert api.ok(api.get("/settings"))["moderatorRoles"] == ["mod"]
    for bad in ({"moderatorRoles": "mod"}, {"moderatorRoles": [""]}, {"moderatorRoles": [3]}):
        assert api.patch("/settings", bad).status_code == 400
