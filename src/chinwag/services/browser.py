"""What a browser session may read and write in conversations: each use case checks the session
user's view, then calls the same service as REST. (Changing users, conversations and memberships
from the browser is :mod:`services.sync`, under domain/permissions.py.)

The session's own user is always the actor: a browser can only write as itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from chinwag.domain import access as rules
from chinwag.domain import limits as L
from chinwag.domain.access import View
from chinwag.errors import NotFound
from chinwag.schemas import (
    Custom,
    IdempotencyKey,
    MessageEdit,
    Short,
    Strict,
    UserMessageIn,
    parse,
)
from chinwag.serialize import user_json
from chinwag.services import horizons, inbox, messages, reactions, users
from chinwag.services.context import Context, Unit
from chinwag.services.events import Event
from chinwag.services.group_commit import Done
from chinwag.services.sessions import (
    GuestPass,
    Session,
    load_app,
    load_conversation,
    view_in,
    view_of,
    viewer_in,
)
from chinwag.storage import users as user_store
from chinwag.storage.db import Tx


class BrowserMessage(Strict):
    """A message from the browser: the sender is always the session's user."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_TEXT)]
    custom: Custom = Field(default_factory=dict)
    referencedMessageId: Short | None = None
    idempotencyKey: IdempotencyKey | None = None


def get_user(ctx: Context, session: Session, user_id: str) -> dict[str, Any]:
    """A user's public fields (contact details only for the session's own user)."""
    data = user_json(users.get_user(ctx, session.app_id, user_id))
    if user_id != session.user_id:
        for private in ("email", "phone", "pushTokens"):
            data.pop(private, None)
    return data


def get_conversation(ctx: Context, session: Session, conversation_id: str) -> dict[str, Any]:
    """The conversation, for someone who may read it: a participant, or a former one, who sees
    it as it was at their horizon (services/horizons.py)."""
    with ctx.read() as tx:
        app = load_app(tx, session.app_id)
        conv = load_conversation(tx, session.app_id, conversation_id)
        view, me = viewer_in(tx, app, conv, session.user_id, None, ctx.clock.now_ms())
        rules.check_can_read(view)
        return horizons.conversation_at(tx, app.id, conv, me, rules.read_upto(view, conv.seq))


def my_conversations(
    ctx: Context, session: Session, limit: int, starting_after: str | None, unreads_only: bool
) -> list[dict[str, Any]]:
    """Memberships only, with unread counts; guest visits never appear here."""
    try:
        return inbox.user_conversations(
            ctx, session.app_id, session.user_id, limit, starting_after, unreads_only
        )
    except NotFound as exc:
        if exc.code == "USER_NOT_FOUND":
            return []
        raise


def history(
    ctx: Context,
    session: Session,
    conversation_id: str,
    guest: GuestPass | None,
    limit: int,
    before: str | None,
) -> list[dict[str, Any]]:
    view = view_of(ctx, session, conversation_id, guest)
    return messages.history(
        ctx,
        session.app_id,
        conversation_id,
        min(limit, L.MAX_PAGE),
        before,
        view=view,
        viewer=session.user_id,
    )


def send(
    ctx: Context,
    session: Session,
    conversation_id: str,
    guest: GuestPass | None,
    body: BrowserMessage,
) -> dict[str, Any]:
    """Send one UserMessage as the session's user (as a guest when watching as one)."""
    store = _sender(session, conversation_id, guest, body)
    return ctx.write_grouped(store, key=messages.send_key(session.app_id, conversation_id))


def send_queued(
    ctx: Context,
    session: Session,
    conversation_id: str,
    guest: GuestPass | None,
    body: BrowserMessage,
    then: Done,
) -> None:
    """:func:`send` without waiting, for the event loop: ``then(reply, error)`` is called from
    the committing thread once the message is stored (or refused). Bad input raises here."""
    store = _sender(session, conversation_id, guest, body)
    ctx.commits.submit(ctx, store, messages.send_key(session.app_id, conversation_id), then)


def _sender(
    session: Session, conversation_id: str, guest: GuestPass | None, body: BrowserMessage
) -> Callable[[Unit], dict[str, Any]]:
    """The write of one browser send: the access check (a guest's admission too) runs in the
    transaction that stores the message."""
    item = parse(UserMessageIn, {**body.given(), "type": "UserMessage", "sender": session.user_id})

    def store(unit: Unit) -> dict[str, Any]:
        guest_view = None
        if guest is not None:
            app = load_app(unit.tx, session.app_id)
            conv = load_conversation(unit.tx, session.app_id, conversation_id)
            view = view_in(unit.tx, app, conv, session.user_id, guest, unit.now)
            guest_view = view if view.kind == "guest" else None
        stored = messages.store_messages(
            unit, session.app_id, conversation_id, [item], "web", guest_view
        )
        return {"id": stored[0].id, "position": stored[0].position}

    return store


def edit(
    ctx: Context, session: Session, conversation_id: str, message_id: str, body: MessageEdit
) -> dict[str, Any]:
    return messages.edit_message(
        ctx, session.app_id, conversation_id, message_id, body, actor=session.user_id
    )


def delete(ctx: Context, session: Session, conversation_id: str, message_id: str) -> dict[str, Any]:
    messages.delete_message(ctx, session.app_id, conversation_id, message_id, actor=session.user_id)
    return {}


def mark_read(ctx: Context, session: Session, conversation_id: str) -> dict[str, Any]:
    return {"readUntil": messages.mark_read(ctx, session.app_id, conversation_id, session.user_id)}


def typing(
    ctx: Context, session: Session, conversation_id: str, guest: GuestPass | None, is_typing: bool
) -> dict[str, Any]:
    """Ephemeral: told to watchers now, never stored, no position."""
    with ctx.read() as tx:
        app = load_app(tx, session.app_id)
        conv = load_conversation(tx, session.app_id, conversation_id)
        view = view_in(tx, app, conv, session.user_id, guest, ctx.clock.now_ms())
        name = user_store.get_user(tx, session.app_id, session.user_id)
    rules.check_can_write(view)
    data = {
        "conversationId": conversation_id,
        "userId": session.user_id,
        "name": name.name if name else None,
        "isTyping": is_typing,
    }
    ctx.sink.publish([Event("typing.changed", session.app_id, data, conversation_id, None)])
    return {}


def react(
    ctx: Context,
    session: Session,
    conversation_id: str,
    guest: GuestPass | None,
    message_id: str,
    emoji: str,
    present: bool,
) -> dict[str, Any]:
    """Add or remove the session user's reaction; a guest reacts as the guest admission allows
    (a muted guest may not)."""

    def view(tx: Tx) -> View:
        app = load_app(tx, session.app_id)
        conv = load_conversation(tx, session.app_id, conversation_id)
        return view_in(tx, app, conv, session.user_id, guest, ctx.clock.now_ms())

    reactions.react(
        ctx, session.app_id, conversation_id, message_id, emoji, session.user_id, present, view
    )
    return {}
