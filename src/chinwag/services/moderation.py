"""Guest moderation (BRIEF section 6): remove, mute or ban one guest, invite links, and the
guest admission check that every path uses.

Every action here emits an event: the realtime layer acts on it on every node (a kicked or
banned guest is unlinked at once, a muted one loses the message field), and the audit log
records it with who did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chinwag import ids
from chinwag.domain import access as rules
from chinwag.domain.access import GuestAccess, Membership, View
from chinwag.domain.moderation import (
    InviteClaims,
    RestrictionKind,
    apply_restrictions,
    invited_policy,
    read_invite,
    sign_invite,
)
from chinwag.errors import Forbidden, InvalidRequest, NotFound
from chinwag.services.context import Context, Unit
from chinwag.services.events import Event
from chinwag.storage import apps as app_store
from chinwag.storage import conversations as conv_store
from chinwag.storage import moderation as store
from chinwag.storage.db import Tx
from chinwag.storage.moderation import Invite, RestrictionRow
from chinwag.storage.records import App, Conversation

MAX_DURATION_SECONDS = 365 * 24 * 3600


def guest_admission(
    tx: Tx,
    app: App,
    conv: Conversation,
    user_id: str,
    membership: Membership | None,
    now: int,
    invite_token: str | None = None,
) -> View:
    """The view of a user asking to watch as a guest: the seeds' rule (``domain.guest_view``),
    opened by a valid invite, narrowed by bans and mutes."""
    invite = None
    if invite_token is not None and not (membership and membership.member):
        invite = check_invite(tx, app, conv.id, invite_token, now)
    policy = invited_policy(conv.guest_access, invite)
    view = rules.guest_view(app.settings.browser_sync, policy, membership)
    return apply_restrictions(view, store.restrictions_of(tx, app.id, conv.id, user_id), now)


def check_invite(tx: Tx, app: App, conversation_id: str, token: str, now: int) -> InviteClaims:
    claims = read_invite(app_store.secret_keys(tx, app.id), token, app.id, conversation_id, now)
    invite = store.get_invite(tx, app.id, claims.invite_id)
    if invite is None or invite.revoked_at is not None:
        raise Forbidden("the invite link was revoked", code="INVITE_INVALID")
    return claims


def _conversation(unit: Unit, app_id: str, conversation_id: str) -> Conversation:
    conv = conv_store.get_conversation(unit.tx, app_id, conversation_id)
    if conv is None:
        raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
    return conv


def _event(kind: str, app_id: str, cid: str, user_id: str, **data: Any) -> Event:
    return Event(
        kind,
        app_id,
        {"conversationId": cid, "userId": user_id, **data},
        conversation_id=cid,
        affected_users=(user_id,),
    )


def _until(unit: Unit, seconds: int | None) -> int | None:
    if seconds is None:
        return None
    if not 1 <= seconds <= MAX_DURATION_SECONDS:
        raise InvalidRequest(f"durationSeconds must be between 1 and {MAX_DURATION_SECONDS}")
    return unit.now + seconds * 1000


def restrict(
    ctx: Context,
    app_id: str,
    conversation_id: str,
    user_id: str,
    kind: RestrictionKind,
    duration_seconds: int | None,
    reason: str | None,
) -> dict[str, Any]:
    """Ban or mute one user as a guest of one conversation (``duration_seconds`` None: until
    lifted). A ban also unlinks them now, on every node."""
    with ctx.write() as unit:
        _conversation(unit, app_id, conversation_id)
        until = _until(unit, duration_seconds)
        store.put_restriction(
            unit.tx, app_id, conversation_id, user_id, kind, until, reason, unit.actor, unit.now
        )
        event = "guest.banned" if kind is RestrictionKind.BAN else "guest.muted"
        unit.emit(_event(event, app_id, conversation_id, user_id, until=until, reason=reason))
    return {"userId": user_id, "kind": kind.value, "until": until, "reason": reason}


def lift(
    ctx: Context, app_id: str, conversation_id: str, user_id: str, kind: RestrictionKind
) -> None:
    with ctx.write() as unit:
        _conversation(unit, app_id, conversation_id)
        if not store.delete_restriction(unit.tx, app_id, conversation_id, user_id, kind):
            raise NotFound(f"{user_id!r} has no {kind.value} here", code="RESTRICTION_NOT_FOUND")
        event = "guest.unbanned" if kind is RestrictionKind.BAN else "guest.unmuted"
        unit.emit(_event(event, app_id, conversation_id, user_id))


def kick(ctx: Context, app_id: str, conversation_id: str, user_id: str, reason: str | None) -> None:
    """Unlink one guest from the conversation now, on every node; they may come back unless
    banned."""
    with ctx.write() as unit:
        _conversation(unit, app_id, conversation_id)
        unit.emit(_event("guest.kicked", app_id, conversation_id, user_id, reason=reason))


def restrictions(ctx: Context, app_id: str, conversation_id: str) -> list[RestrictionRow]:
    with ctx.read() as tx:
        if conv_store.get_conversation(tx, app_id, conversation_id) is None:
            raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
        return store.list_restrictions(tx, app_id, conversation_id)


@dataclass(frozen=True)
class MintedInvite:
    invite: Invite
    token: str


def create_invite(
    ctx: Context, app_id: str, conversation_id: str, access: GuestAccess, expires_in_seconds: int
) -> MintedInvite:
    if access is GuestAccess.NONE:
        raise InvalidRequest('an invite admits guests: access must be "ReadWrite" or "Read"')
    if not 1 <= expires_in_seconds <= MAX_DURATION_SECONDS:
        raise InvalidRequest(f"expiresInSeconds must be between 1 and {MAX_DURATION_SECONDS}")
    with ctx.write() as unit:
        _conversation(unit, app_id, conversation_id)
        invite = Invite(
            id="inv_" + ids.random_token(16),
            conversation_id=conversation_id,
            access=access,
            expires_at=unit.now + expires_in_seconds * 1000,
            revoked_at=None,
            created_by=unit.actor,
            created_at=unit.now,
        )
        store.insert_invite(unit.tx, app_id, invite)
        key = app_store.secret_keys(unit.tx, app_id)[0]
        claims = InviteClaims(app_id, conversation_id, invite.id, access, invite.expires_at)
        unit.emit(
            Event(
                "invite.created",
                app_id,
                {"inviteId": invite.id, "access": access.value, "expiresAt": invite.expires_at},
                conversation_id=conversation_id,
            )
        )
    return MintedInvite(invite, sign_invite(key, claims))


def revoke_invite(ctx: Context, app_id: str, conversation_id: str, invite_id: str) -> None:
    with ctx.write() as unit:
        invite = store.get_invite(unit.tx, app_id, invite_id)
        if invite is None or invite.conversation_id != conversation_id:
            raise NotFound(f"no invite {invite_id!r} here", code="INVITE_NOT_FOUND")
        if store.revoke_invite(unit.tx, app_id, invite_id, unit.now):
            unit.emit(
                Event(
                    "invite.revoked",
                    app_id,
                    {"inviteId": invite_id},
                    conversation_id=conversation_id,
                )
            )


def invites(ctx: Context, app_id: str, conversation_id: str) -> list[Invite]:
    with ctx.read() as tx:
        if conv_store.get_conversation(tx, app_id, conversation_id) is None:
            raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
        return store.list_invites(tx, app_id, conversation_id)


def record_inspection(ctx: Context, app_id: str, conversation_id: str, announced: bool) -> None:
    """A supervisor opened the conversation; announced inspections also post a system message."""
    from chinwag.schemas import SystemMessageIn
    from chinwag.services.messages import send_messages

    if announced:
        who = ctx.actor.split(":", 1)[-1]
        note = SystemMessageIn(type="SystemMessage", text=f"A supervisor ({who}) joined to review.")
        send_messages(ctx, app_id, conversation_id, [note])
    with ctx.write() as unit:
        _conversation(unit, app_id, conversation_id)
        unit.emit(
            Event(
                "supervisor.viewed",
                app_id,
                {"announced": announced},
                conversation_id=conversation_id,
            )
        )
