"""Guest moderation, invite links and the audit log over REST, and the guest admission check
that every path uses, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from chinwag.errors import ChinwagError
from chinwag.services import moderation
from chinwag.storage import apps as app_store
from chinwag.storage import conversations as conv_store
from chinwag.storage import participants as part_store


@pytest.fixture
def room(api):
    api.ok(api.put("/users", {u: {"name": u.title()} for u in ["alice", "bob", "visitor"]}))
    # Two participants make a one-on-one, closed to guests unless the policy is set explicitly.
    body = {"participants": ["alice", "bob"], "subject": "Room", "guestAccess": "ReadWrite"}
    api.ok(api.put("/conversations/room", body))
    return api


def admission(ctx, api, user_id, token=None):
    """What the realtime layer asks when ``user_id`` selects the room with asGuest."""
    with ctx.read() as tx:
        app = app_store.get_app(tx, api.app_id)
        conv = conv_store.get_conversation(tx, api.app_id, "room")
        p = part_store.get_participant(tx, api.app_id, "room", user_id)
        return moderation.guest_admission(
            tx, app, conv, user_id, p.membership if p else None, ctx.clock.now_ms(), token
        )


def code_of(fn):
    with pytest.raises(ChinwagError) as err:
        fn()
    return err.value.code


def test_ban_survives_and_expires(room, ctx, clock):
    api = room
    assert admission(ctx, api, "visitor").can_write
    ban = api.ok(
        api.put("/conversations/room/guests/visitor/ban", {"durationSeconds": 60, "reason": "spam"})
    )
    assert ban["kind"] == "ban" and ban["until"] == clock.now_ms() + 60_000
    assert code_of(lambda: admission(ctx, api, "visitor")) == "GUEST_BANNED"
    clock.advance(60_000)
    assert admission(ctx, api, "visitor").can_write  # expired
    api.ok(api.put("/conversations/room/guests/visitor/ban", {}))  # for good
    clock.advance(10**9)
    assert code_of(lambda: admission(ctx, api, "visitor")) == "GUEST_BANNED"
    api.ok(api.delete("/conversations/room/guests/visitor/ban"))
    assert admission(ctx, api, "visitor").can_write
    r = api.delete("/conversations/room/guests/visitor/ban")
    assert r.status_code == 404 and r.json()["errorCode"] == "RESTRICTION_NOT_FOUND"


def test_mute_makes_a_guest_read_only_and_never_touches_participants(room, ctx):
    api = room
    api.ok(api.put("/conversations/room/guests/visitor/mute", {}))
    api.ok(api.put("/conversations/room/guests/alice/ban", {}))
    view = admission(ctx, api, "visitor")
    assert view.kind == "guest" and view.can_read and not view.can_write
    # alice is a participant: asGuest has no effect, and guest bans do not apply to her.
    assert admission(ctx, api, "alice").kind == "participant"
    rows = api.ok(api.get("/conversations/room/guestRestrictions"))["data"]
    assert {(r["userId"], r["kind"]) for r in rows} == {("visitor", "mute"), ("alice", "ban")}
    assert all(r["createdBy"] == "backend" for r in rows)
    api.ok(api.delete("/conversations/room/guests/visitor/mute"))
    assert admission(ctx, api, "visitor").can_write


def test_guest_policy_and_invites(room, ctx, clock):
    api = room
    api.ok(api.put("/conversations/room", {"guestAccess": "None"}))
    assert code_of(lambda: admission(ctx, api, "visitor")) == "GUEST_ACCESS_NOT_ALLOWED"
    invite = api.ok(
        api.post("/conversations/room/invites", {"access": "Read", "expiresInSeconds": 600})
    )
    assert invite["id"].startswith("inv_") and invite["access"] == "Read"
    view = admission(ctx, api, "visitor", invite["token"])
    assert view.kind == "guest" and not view.can_write  # admitted read-only by the invite
    forged = invite["token"][:-2] + ("00" if not invite["token"].endswith("00") else "11")
    assert code_of(lambda: admission(ctx, api, "visitor", forged)) == "INVITE_INVALID"
    # A ban beats an invite.
    api.ok(api.put("/conversations/room/guests/visitor/ban", {}))
    assert code_of(lambda: admission(ctx, api, "visitor", invite["token"])) == "GUEST_BANNED"
    api.ok(api.delete("/conversations/room/guests/visitor/ban"))
    # Expiry, then revocation.
    clock.advance(600_000)
    assert code_of(lambda: admission(ctx, api, "visitor", invite["token"])) == "INVITE_EXPIRED"
    fresh = api.ok(api.post("/conversations/room/invites", {}))
    assert admission(ctx, api, "visitor", fresh["token"]).can_write
    api.ok(api.delete(f"/conversations/room/invites/{fresh['id']}"))
    assert code_of(lambda: admission(ctx, api, "visitor", fresh["token"])) == "INVITE_INVALID"
    listed = api.ok(api.get("/conversations/room/invites"))["data"]
    assert [i["id"] for i in listed] == [invite["id"], fresh["id"]]
    assert listed[1]["revokedAt"] is not None and "token" not in listed[1]
    # An invite for one conversation opens no other.
    api.ok(api.put("/conversations/other", {"guestAccess": "None"}))
    with ctx.read() as tx:
        app = app_store.get_app(tx, api.app_id)
        other = conv_store.get_conversation(tx, api.app_id, "other")
        assert (
            code_of(
                lambda: moderation.guest_admission(
                    tx, app, other, "visitor", None, clock.now_ms(), invite["token"]
                )
            )
            == "INVITE_INVALID"
        )


def test_browser_sync_settings_still_gate_invited_guests(room, ctx):
    api = room
    invite = api.ok(api.post("/conversations/room/invites", {}))
    api.ok(api.patch("/settings", {"allowConversationSyncViaBrowser": False}))
    assert (
        code_of(lambda: admission(ctx, api, "visitor", invite["token"]))
        == "GUEST_ACCESS_NOT_ALLOWED"
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("put", "/conversations/room/guests/visitor/ban", {"durationSeconds": 0}),
        ("put", "/conversations/room/guests/visitor/ban", {"durationSeconds": "60"}),
        ("put", "/conversations/room/guests/visitor/forever", {}),
        ("post", "/conversations/room/invites", {"access": "None"}),
        ("post", "/conversations/room/invites", {"expiresInSeconds": -5}),
        ("post", "/conversations/room/guests/visitor/kick", {"reason": 5}),
    ],
)
def test_bad_moderation_input_is_400(room, method, path, body):
    r = getattr(room, method)(path, body)
    assert r.status_code == 400, r.text


def test_unknown_conversation_is_404(room):
    for r in [
        room.put("/conversations/nope/guests/visitor/ban", {}),
        room.post("/conversations/nope/guests/visitor/kick", {}),
        room.post("/conversations/nope/invites", {}),
        room.get("/conversations/nope/invites"),
    ]:
        assert r.status_code == 404 and r.json()["errorCode"] == "CONVERSATION_NOT_FOUND"


def test_audit_log_records_who_did_what(room, ctx):
    api = room
    api.ok(api.patch("/conversations/room/participants/bob", {"access": "Read"}))
    api.ok(api.patch("/conversations/room/participants/bob", {"access": "None"}))
    api.ok(api.delete("/conversations/room/participants/bob"))
    api.ok(api.put("/conversations/room", {"guestAccess": "Read"}))
    api.ok(api.patch("/settings", {"participantLimit": 20}))
    api.ok(api.put("/conversations/room/guests/visitor/ban", {"reason": "spam"}))
    api.ok(api.post("/conversations/room/guests/visitor/kick", {}))
    moderation.record_inspection(ctx.acting("admin:root"), api.app_id, "room", announced=True)
    api.ok(
        api.post(
            "/conversations/room/messages",
            [{"type": "UserMessage", "sender": "alice", "text": "hi"}],
        )
    )

    entries = api.ok(api.get("/audit", params={"limit": 100}))["data"]
    actions = [(e["action"], e["userId"]) for e in entries]
    assert actions[-8:] == [
        ("participant.access_changed", "bob"),
        ("participant.access_changed", "bob"),
        ("participant.removed", "bob"),
        ("conversation.guest_access_changed", None),
        ("settings.changed", None),
        ("guest.banned", "visitor"),
        ("guest.kicked", "visitor"),
        ("supervisor.viewed", None),
    ]
    assert entries[-4]["data"]["changed"] == {"participantLimit": {"from": 50, "to": 20}}
    assert entries[-5]["data"] == {"from": "ReadWrite", "to": "Read"}
    assert entries[-1]["actor"] == "admin:root" and entries[-2]["actor"] == "backend"
    assert entries[-3]["data"]["reason"] == "spam"
    # The announced inspection posted a system message.
    [note] = api.ok(api.get("/conversations/room/messages", params={"limit": 2}))["data"][1:]
    assert note["type"] == "SystemMessage" and "supervisor" in note["text"]
    # Paging and filtering.
    page = api.ok(api.get("/audit", params={"limit": 3, "startingAfter": entries[-4]["id"]}))[
        "data"
    ]
    assert [e["id"] for e in page] == [e["id"] for e in entries[-3:]]
    only = api.ok(api.get("/audit", params={"conversationId": "room", "limit": 100}))["data"]
    assert all(e["conversationId"] == "room" for e in only) and len(only) == len(entries) - 1
    # JSON lines export holds the same entries.
    export = api.get("/audit/export")
    assert export.status_code == 200 and export.headers["content-type"].startswith(
        "application/x-ndjson"
    )
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert lines == entries


def test_audit_entries_commit_with_their_change(room):
    api = room
    before = len(api.ok(api.get("/audit", params={"limit": 100}))["data"])
    api.ok(api.patch("/settings", {"participantLimit": 2}))
    r = api.put("/conversations/room/participants/visitor", {})  # third user: over the limit
    assert r.status_code == 409
    after = api.ok(api.get("/audit", params={"limit": 100}))["data"]
    assert [e["action"] for e in after[before:]] == [
        "settings.changed"
    ]  # nothing for the failed join
