"""What a browser session may do: each use case checks the app's browser-sync settings and the
session user's view, then calls the same service as REST.

The session's own user is always the actor: a browser can only write as itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from chinwag.domain import access as rules
from chinwag.domain import limits as L
from chinwag.errors import NotFound
from chinwag.schemas import (
    ConversationPut,
    Custom,
    IdempotencyKey,
    MessageEdit,
    ParticipantPatch,
    ParticipantPut,
    Short,
    Strict,
    UserMessageIn,
    UserPut,
    parse,
)
from chinwag.serialize import user_json
from chinwag.services import conversations, inbox, messages, participants, users
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
)
from chinwag.storage import users as user_store


class BrowserMessage(Strict):
    """A message from the browser: the sender is always the session's user."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=L.MAX_TEXT)]
    custom: Custom = Field(default_factory=dict)
    referencedMessageId: Short | None = None
    idempotencyKey: IdempotencyKey | None = None


def _settings_check(ctx: Context, session: Session, conversation_sync: bool) -> None:
    with ctx.read() as tx:
        settings = load_app(tx, session.app_id).settings
    if conversation_sync:
        rules.check_browser_sync(settings.allowConversationSyncViaBrowser, "conversation")
    else:
        rules.check_browser_sync(settings.allowUserSyncViaBrowser, "user")


def get_user(ctx: Context, session: Session, user_id: str) -> dict[str, Any]:
    """A user's public fields (contact details only for the session's own user)."""
    data = user_json(users.get_user(ctx, session.app_id, user_id))
    if user_id != session.user_id:
        for private in ("email", "phone", "pushTokens"):
            data.pop(private, None)
    return data


def sync_user(ctx: Context, session: Session, user_id: str, body: UserPut) -> dict[str, Any]:
    """Create or merge a user (the session's own, or another to add as a participant), if the
    app allows user sync via the browser."""
    _settings_check(ctx, session, conversation_sync=False)
    users.put_user(ctx, session.app_id, user_id, body)
    return get_user(ctx, session, user_id)


def put_conversation(
    ctx: Context, session: Session, conversation_id: str, body: ConversationPut
) -> dict[str, Any]:
    _settings_check(ctx, session, conversation_sync=True)
    created = conversations.put_conversation(ctx, session.app_id, conversation_id, body)
    return {"created": created}


def get_conversation(ctx: Context, session: Session, conversation_id: str) -> dict[str, Any]:
    """The conversation, for someone who may read it (a participant or a former one)."""
    rules.check_can_read(view_of(ctx, session, conversation_id, None))
    return conversations.get_conversation(ctx, session.app_id, conversation_id)


def put_participant(
    ctx: Context, session: Session, conversation_id: str, user_id: str, body: ParticipantPut
) -> dict[str, Any]:
    _settings_check(ctx, session, conversation_sync=True)
    participants.put_participant(ctx, session.app_id, conversation_id, user_id, body)
    return {}


def patch_participant(
    ctx: Context, session: Session, conversation_id: str, user_id: str, body: ParticipantPatch
) -> dict[str, Any]:
    _settings_check(ctx, session, conversation_sync=True)
    participants.patch_participant(ctx, session.app_id, conversation_id, user_id, body)
    return {}


def delete_participant(
    ctx: Context, session: Session, conversation_id: str, user_id: str
) -> dict[str, Any]:
    _settings_check(ctx, session, conversation_sync=True)
    participants.delete_participant(ctx, session.app_id, conversation_id, user_id)
    return {}


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
        ctx, session.app_id, conversation_id, min(limit, L.MAX_PAGE), before, view=view
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
