"""Every service action and the exact events it emits, in one place (in the manner of Zulip's
``verify_action``): their types in order, the fields of what a session receives, and positions
that only grow. A change to what an action publishes shows up here first. On both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chinwag.domain.access import GuestAccess
from chinwag.domain.moderation import RestrictionKind
from chinwag.realtime import wire
from chinwag.schemas import (
    ConversationPut,
    MessageEdit,
    ParticipantPatch,
    ParticipantPut,
    SystemMessageIn,
    UserMessageIn,
    UserPut,
)
from chinwag.services import (
    apps,
    conversations,
    messages,
    moderation,
    participants,
    reactions,
    sync,
    users,
)
from chinwag.services.context import Context
from chinwag.services.events import EVENT_TYPES, RecordingSink
from chinwag.services.sessions import Session


def put_users(ctx: Context, app_id: str, *ids: str) -> None:
    for uid in ids:
        users.put_user(ctx, app_id, uid, UserPut(name=uid.title(), email=[f"{uid}@example.com"]))


def said(sender: str, text: str) -> UserMessageIn:
    return UserMessageIn(type="UserMessage", sender=sender, text=text)


class Recorder:
    def __init__(self, ctx: Context, sink: RecordingSink, app_id: str) -> None:
        self.ctx, self.sink, self.app_id = ctx, sink, app_id

    def emits(self, action: Callable[[], Any], expected: list[tuple[str, set[str]]]) -> Any:
        """Run ``action``; its events must be ``expected``: (type, the fields a session would
        receive, besides type, conversationId and position) each."""
        self.sink.events.clear()
        result = action()
        got = [
            (e.type, set(wire.client_event(e)) - {"type", "conversationId", "position"})
            for e in self.sink.events
        ]
        assert got == expected
        positions = [e.position for e in self.sink.events if e.position is not None]
        assert positions == sorted(set(positions))
        assert all(e.app_id == self.app_id for e in self.sink.events)
        return result


@pytest.fixture
def rec(ctx: Context, sink: RecordingSink, app_keys: apps.AppWithKeys) -> Recorder:
    return Recorder(ctx, sink, app_keys.app.id)


MESSAGE = {"message", "guest"}
PARTICIPANT = {"participant"}
CONVERSATION = {"conversation"}
POLICY = {"from", "to"}


def test_users(rec: Recorder) -> None:
    ctx, app = rec.ctx, rec.app_id
    rec.emits(
        lambda: users.put_user(ctx, app, "u", UserPut(name="U")), [("user.created", {"user"})]
    )
    rec.emits(lambda: users.put_user(ctx, app, "u", UserPut(name="U")), [])  # nothing changed
    rec.emits(
        lambda: users.put_user(ctx, app, "u", UserPut(name="V")), [("user.updated", {"user"})]
    )
    session = Session(app, "u", apps.get_app(ctx, app).settings)
    rec.emits(
        lambda: sync.sync_user(ctx, session, "u", UserPut(email=["u@example.com"])),
        [("user.updated", {"user"}), ("user.contact_changed", {"userId", "fields", "created"})],
    )


def test_conversations_and_memberships(rec: Recorder) -> None:
    ctx, app = rec.ctx, rec.app_id
    put_users(ctx, app, "a", "b", "c", "d")
    rec.emits(
        lambda: conversations.put_conversation(
            ctx, app, "g", ConversationPut(participants=["a", "b", "c"], subject="G")
        ),
        [("participant.joined", PARTICIPANT)] * 3 + [("conversation.updated", CONVERSATION)],
    )
    rec.emits(
        lambda: conversations.put_conversation(ctx, app, "g", ConversationPut(subject="H")),
        [("conversation.updated", CONVERSATION)],
    )
    rec.emits(
        lambda: conversations.put_conversation(ctx, app, "g", ConversationPut(guestAccess="Read")),
        [("conversation.guest_access_changed", POLICY), ("conversation.updated", CONVERSATION)],
    )
    rec.emits(
        lambda: participants.put_participant(ctx, app, "g", "d", ParticipantPut(access="Read")),
        [("participant.joined", PARTICIPANT)],
    )
    rec.emits(
        lambda: participants.patch_participant(ctx, app, "g", "d", ParticipantPatch(access="None")),
        [("participant.access_changed", PARTICIPANT)],
    )
    rec.emits(
        lambda: participants.delete_participant(ctx, app, "g", "d"),
        [("participant.left", PARTICIPANT)],
    )
    rec.emits(
        lambda: conversations.delete_conversation(ctx, app, "g"),
        [("conversation.deleted", CONVERSATION)],
    )


def test_the_default_guest_policy_follows_the_participants(rec: Recorder) -> None:
    ctx, app = rec.ctx, rec.app_id
    put_users(ctx, app, "a", "b", "c")
    rec.emits(
        lambda: conversations.put_conversation(ctx, app, "p", ConversationPut(participants=["a"])),
        [("participant.joined", PARTICIPANT), ("conversation.updated", CONVERSATION)],
    )
    rec.emits(  # the second participant makes it a one-on-one: closed to guests
        lambda: participants.put_participant(ctx, app, "p", "b", ParticipantPut()),
        [
            ("participant.joined", PARTICIPANT),
            ("conversation.guest_access_changed", POLICY),
            ("conversation.updated", CONVERSATION),
        ],
    )
    rec.emits(  # a third opens it again
        lambda: conversations.put_conversation(ctx, app, "p", ConversationPut(participants=["c"])),
        [
            ("participant.joined", PARTICIPANT),
            ("conversation.guest_access_changed", POLICY),
            ("conversation.updated", CONVERSATION),
        ],
    )


def test_messages(rec: Recorder) -> None:
    ctx, app = rec.ctx, rec.app_id
    put_users(ctx, app, "a", "b", "c")
    conversations.put_conversation(ctx, app, "m", ConversationPut(participants=["a", "b", "c"]))
    [sent] = rec.emits(
        lambda: messages.send_messages(ctx, app, "m", [said("a", "hi")]),
        [("message.created", MESSAGE)],
    )
    rec.emits(
        lambda: messages.send_messages(
            ctx, app, "m", [SystemMessageIn(type="SystemMessage", text="s"), said("b", "yo")]
        ),
        [("message.created", MESSAGE)] * 2,
    )
    rec.emits(
        lambda: messages.edit_message(ctx, app, "m", sent.id, MessageEdit(text="hello")),
        [("message.edited", {"message"})],
    )
    rec.emits(
        lambda: messages.mark_read(ctx, app, "m", "b"),
        [("conversation.read", {"userId", "readUntil"})],
    )
    rec.emits(lambda: messages.mark_read(ctx, app, "m", "b"), [])  # already read
    reaction = {"messageId", "emoji", "userId"}
    rec.emits(
        lambda: reactions.react(ctx, app, "m", sent.id, "👍", "b", True),
        [("reaction.added", reaction)],
    )
    rec.emits(lambda: reactions.react(ctx, app, "m", sent.id, "👍", "b", True), [])  # already
    rec.emits(
        lambda: reactions.react(ctx, app, "m", sent.id, "👍", "b", False),
        [("reaction.removed", reaction)],
    )
    rec.emits(
        lambda: messages.delete_message(ctx, app, "m", sent.id),
        [("message.deleted", {"messageId"})],
    )


def test_guest_moderation_invites_and_inspections(rec: Recorder) -> None:
    ctx, app = rec.ctx, rec.app_id
    put_users(ctx, app, "a", "b", "c")
    conversations.put_conversation(ctx, app, "t", ConversationPut(participants=["a", "b", "c"]))
    guest = {"userId", "until", "reason"}
    rec.emits(
        lambda: moderation.restrict(ctx, app, "t", "g", RestrictionKind.BAN, 60, "spam"),
        [("guest.banned", guest)],
    )
    rec.emits(
        lambda: moderation.lift(ctx, app, "t", "g", RestrictionKind.BAN),
        [("guest.unbanned", {"userId"})],
    )
    rec.emits(
        lambda: moderation.restrict(ctx, app, "t", "g", RestrictionKind.MUTE, None, None),
        [("guest.muted", guest)],
    )
    rec.emits(
        lambda: moderation.lift(ctx, app, "t", "g", RestrictionKind.MUTE),
        [("guest.unmuted", {"userId"})],
    )
    rec.emits(
        lambda: moderation.kick(ctx, app, "t", "g", None),
        [("guest.kicked", {"userId", "reason"})],
    )
    minted = rec.emits(
        lambda: moderation.create_invite(ctx, app, "t", GuestAccess.READ, 60),
        [("invite.created", {"inviteId", "access", "expiresAt"})],
    )
    rec.emits(
        lambda: moderation.revoke_invite(ctx, app, "t", minted.invite.id),
        [("invite.revoked", {"inviteId"})],
    )
    rec.emits(
        lambda: moderation.record_inspection(ctx.acting("admin:op"), app, "t", False),
        [("supervisor.viewed", {"announced"})],
    )
    rec.emits(
        lambda: moderation.record_inspection(ctx.acting("admin:op"), app, "t", True),
        [("message.created", MESSAGE), ("supervisor.viewed", {"announced"})],
    )


def test_settings(rec: Recorder) -> None:
    rec.emits(
        lambda: apps.patch_settings(rec.ctx, rec.app_id, {"participantLimit": 20}),
        [("settings.updated", {*apps.get_app(rec.ctx, rec.app_id).settings.to_json(), "changed"})],
    )


def test_every_event_type_is_pinned_here() -> None:
    """Adding an event type means adding its action above."""
    source = open(__file__, encoding="utf-8").read()
    unpinned = [t for t in EVENT_TYPES if t != "typing.changed" and f'"{t}"' not in source]
    assert not unpinned, unpinned
