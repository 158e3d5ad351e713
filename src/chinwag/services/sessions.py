"""Browser sessions: proving who a session is, what it may see of a conversation, and what it
missed since a position (resume).

A session is an app id plus a user id. When the app's ``identityVerification`` is on, it proves
the user id with ``signature`` (hex HMAC-SHA256 of the user id keyed by one of the app's secret
keys, any letter case) or ``token`` (JWT HS256 with ``tokenType: "user"``, ``iss`` = app id,
``sub`` = user id, ``exp`` honoured against the injected clock).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import jwt

from chinwag import ids
from chinwag.domain import access as rules
from chinwag.domain.access import GuestAccess, View
from chinwag.domain.settings import AppSettings
from chinwag.errors import ChinwagError, NotFound, Unauthorized
from chinwag.serialize import message_json, participant_detail_json
from chinwag.services import horizons, moderation
from chinwag.services.context import Context
from chinwag.services.events import Event
from chinwag.storage import apps as app_store
from chinwag.storage import changes as change_store
from chinwag.storage import conversations as conv_store
from chinwag.storage import participants as part_store
from chinwag.storage.db import Tx
from chinwag.storage.records import App, Conversation, Participant

#: A resume that would replay more changed messages than this answers ``complete: false``
#: instead: the client reloads the conversation's history.
MAX_CATCH_UP = 500


@dataclass(frozen=True)
class Session:
    app_id: str
    user_id: str
    settings: AppSettings


def signature_of(secret: str, user_id: str) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def _signature_ok(keys: list[str], user_id: str, signature: str) -> bool:
    given = signature.strip().lower()
    return any(hmac.compare_digest(signature_of(k, user_id), given) for k in keys)


def _token_problem(
    keys: list[str], app_id: str, user_id: str, token: str, now_s: float
) -> str | None:
    """None if the token proves ``user_id``, else why not."""
    for key in keys:
        try:
            claims = jwt.decode(
                token, key, algorithms=["HS256"], issuer=app_id, options={"verify_exp": False}
            )
        except jwt.InvalidIssuerError:
            return f"the token's iss must be the app id {app_id!r}"
        except jwt.InvalidTokenError:
            continue
        if claims.get("tokenType") != "user":
            return 'the token is not a user token (tokenType must be "user")'
        if claims.get("sub") != user_id:
            return "the token's sub is not this session's user id"
        exp = claims.get("exp")
        if exp is not None and (not isinstance(exp, (int, float)) or exp <= now_s):
            return "the token has expired"
        return None
    return "the token is not signed with one of the app's secret keys"


#: User ids the server itself opens sessions as (the dashboard's supervisor). A browser claiming
#: one must prove it, whatever the app's identity verification, so nobody hides behind it.
RESERVED_USER_IDS = frozenset({"chinwag-supervisor"})


def authenticate(
    ctx: Context, app_id: str, user_id: str, signature: str | None, token: str | None
) -> Session:
    """The session for ``user_id`` in ``app_id``, or UNAUTHORIZED / APP_NOT_FOUND / INVALID_ID."""
    ids.check_id(user_id, "user id")
    with ctx.read() as tx:
        app = app_store.get_app(tx, app_id)
        keys = app_store.secret_keys(tx, app_id) if app else []
    if app is None:
        raise NotFound(f"no app {app_id[:64]!r}", code="APP_NOT_FOUND")
    if user_id in RESERVED_USER_IDS and not (signature and _signature_ok(keys, user_id, signature)):
        raise Unauthorized(f"{user_id!r} is reserved for the dashboard's supervisor")
    if app.settings.identityVerification:
        if signature:
            if not _signature_ok(keys, user_id, signature):
                raise Unauthorized("the signature does not match this user id")
        elif token:
            problem = _token_problem(keys, app_id, user_id, token, ctx.clock.now_ms() / 1000)
            if problem:
                raise Unauthorized(problem)
        else:
            raise Unauthorized("identity verification is on: send signature= or token=")
    return Session(app_id, user_id, app.settings)


def load_app(tx: Tx, app_id: str) -> App:
    app = app_store.get_app(tx, app_id)
    if app is None:
        raise NotFound(f"no app {app_id!r}", code="APP_NOT_FOUND")
    return app


def load_conversation(tx: Tx, app_id: str, conversation_id: str) -> Conversation:
    conv = conv_store.get_conversation(tx, app_id, conversation_id)
    if conv is None:
        raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
    return conv


@dataclass(frozen=True)
class GuestPass:
    """A session asking to watch as a guest (``asGuest``), perhaps with an invite link token."""

    invite: str | None = None


def view_in(
    tx: Tx, app: App, conv: Conversation, user_id: str, guest: GuestPass | None, now: int
) -> View:
    """The user's view of the conversation, through the one access check (for guests, the one
    guest admission check: browser-sync settings, guest policy or invite, bans and mutes)."""
    return viewer_in(tx, app, conv, user_id, guest, now)[0]


def viewer_in(
    tx: Tx, app: App, conv: Conversation, user_id: str, guest: GuestPass | None, now: int
) -> tuple[View, Participant | None]:
    """:func:`view_in`, and the user's membership row (which keeps a former member's frozen
    view, services/horizons.py)."""
    p = part_store.get_participant(tx, app.id, conv.id, user_id)
    membership = p.membership if p else None
    if guest is not None:
        view = moderation.guest_admission(tx, app, conv, user_id, membership, now, guest.invite)
        return view, (p if view.kind != "guest" else None)
    return rules.participant_view(membership), p


def view_of(ctx: Context, session: Session, conversation_id: str, guest: GuestPass | None) -> View:
    with ctx.read() as tx:
        app = load_app(tx, session.app_id)
        conv = load_conversation(tx, session.app_id, conversation_id)
        return view_in(tx, app, conv, session.user_id, guest, ctx.clock.now_ms())


def view_json(view: View) -> dict[str, Any]:
    return {
        "kind": view.kind,
        "canWrite": view.can_write,
        "live": view.live,
        "historyUntil": view.horizon,
    }


@dataclass(frozen=True)
class Selection:
    """A session watching a conversation: what it may do, where the conversation stands, and
    the changes it missed after the position it gave (``None``: it gave none)."""

    view: View
    conversation: dict[str, Any]
    guest_access: GuestAccess
    position: int
    events: list[Event] | None
    complete: bool

    def to_json(self, events: list[dict[str, Any]] | None) -> dict[str, Any]:
        return {
            "conversation": self.conversation,
            "access": view_json(self.view),
            "position": self.position,
            "events": events,
            "complete": self.complete,
        }


def select(
    ctx: Context,
    session: Session,
    conversation_id: str,
    guest: GuestPass | None,
    after: int | None,
) -> Selection:
    """Open a conversation as participant, former participant or guest (``guest``)."""
    with ctx.read() as tx:
        app = load_app(tx, session.app_id)
        conv = load_conversation(tx, session.app_id, conversation_id)
        view, me = viewer_in(tx, app, conv, session.user_id, guest, ctx.clock.now_ms())
        rules.check_can_read(view)
        upto = rules.read_upto(view, conv.seq)
        data = horizons.conversation_at(tx, app.id, conv, me, upto)
        events: list[Event] | None = None
        complete = True
        if after is not None and after < upto:
            found = _changes(tx, app.id, conv, max(after, 0), upto, me)
            if found is None:
                complete = False
            else:
                events = found
    return Selection(view, data, conv.guest_access, upto, events, complete)


def recheck(
    ctx: Context,
    app_id: str,
    conversation_id: str,
    watchers: list[tuple[str, GuestPass | None]],
) -> tuple[AppSettings, list[View | ChinwagError]]:
    """What each ``(user_id, guest pass)`` watching the conversation may do now, from the
    database (a guest pass: through the guest admission check), with the app's settings; a
    watcher the rules refuse gets the error that says why. For a node whose bus was down: the
    changes other nodes made meanwhile never reached it."""
    with ctx.read() as tx:
        app = load_app(tx, app_id)
        conv = conv_store.get_conversation(tx, app_id, conversation_id)
        out: list[View | ChinwagError] = []
        for user_id, guest in watchers:
            if conv is None:
                out.append(NotFound("the conversation was deleted", code="CONVERSATION_NOT_FOUND"))
                continue
            try:
                out.append(view_in(tx, app, conv, user_id, guest, ctx.clock.now_ms()))
            except ChinwagError as exc:
                out.append(exc)
        return app.settings, out


def changes_since(
    ctx: Context, app_id: str, conversation_id: str, after: int
) -> tuple[list[Event], int] | None:
    """Everything that changed after ``after``, for live watchers who saw a gap; None if the
    conversation is gone or too much changed (the watchers are told to resync)."""
    with ctx.read() as tx:
        conv = conv_store.get_conversation(tx, app_id, conversation_id)
        if conv is None:
            return None
        found = _changes(tx, app_id, conv, after, conv.seq)
        if found is None:
            return None
        return found, conv.seq


def _changes(
    tx: Tx,
    app_id: str,
    conv: Conversation,
    after: int,
    upto: int,
    me: Participant | None = None,
) -> list[Event] | None:
    """The events of every change in ``(after, upto]``, as ``me`` may see them (a former
    participant: each message and the conversation as they were at the horizon ``upto``)."""
    rows = change_store.messages_changed(tx, app_id, conv.id, after, MAX_CATCH_UP + 1)
    if len(rows) > MAX_CATCH_UP:
        return None
    frozen = me is not None and me.horizon is not None
    if frozen:
        rows = horizons.messages_seen(tx, app_id, conv.id, rows, upto)
    out: list[tuple[int, Event]] = []
    covered: set[int] = set()
    for m in rows:
        if m.position > upto or (frozen and after >= m.seq):
            continue
        if m.seq <= upto:
            covered.add(m.seq)  # (a message deleted after a horizon is gone for everyone)
        if m.deleted_at is not None:
            if m.position <= after:
                data: dict[str, Any] = {
                    "conversationId": conv.id,
                    "messageId": m.id,
                    "position": m.position,
                }
                out.append((m.seq, Event("message.deleted", app_id, data, conv.id, m.seq)))
            continue
        if m.position > after:
            data = {"message": message_json(m), "guest": m.by_guest}
            out.append((m.seq, Event("message.created", app_id, data, conv.id, m.seq)))
        else:
            data = {"message": message_json(m)}
            out.append((m.seq, Event("message.edited", app_id, data, conv.id, m.seq)))
    for p in change_store.participants_changed(tx, app_id, conv.id, after):
        if p.seq > upto:
            continue
        covered.add(p.seq)
        if not p.member:
            kind = "participant.left"
        elif p.joined_seq == p.seq:
            kind = "participant.joined"  # the change at that position was the join itself
        else:
            kind = "participant.access_changed"
        data = {"conversationId": conv.id, "participant": participant_detail_json(p)}
        out.append((p.seq, Event(kind, app_id, data, conv.id, p.seq, (p.user_id,))))
    out.sort(key=lambda pair: pair[0])
    if len(covered) < upto - after:
        # Some positions were attribute changes, which keep no row: send the state as ``me``
        # may see it.
        data = {"conversation": horizons.conversation_at(tx, app_id, conv, me, upto)}
        out.append((upto, Event("conversation.updated", app_id, data, conv.id, upto)))
    return [e for _, e in out]
