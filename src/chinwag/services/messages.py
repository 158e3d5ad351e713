"""Messages: send (all of a batch or none), page history, edit, delete, mark read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chinwag import ids
from chinwag.domain import access as rules
from chinwag.domain.access import View
from chinwag.errors import Conflict, Forbidden, NotFound
from chinwag.schemas import MessageEdit, SystemMessageIn, UserMessageIn
from chinwag.serialize import message_json, read_by
from chinwag.services import horizons, reactions
from chinwag.services.context import Context, Unit
from chinwag.services.events import Event
from chinwag.services.participants import load_conversation
from chinwag.storage import conversations as conv_store
from chinwag.storage import messages as store
from chinwag.storage import participants as part_store
from chinwag.storage.records import Message


def sender_view(unit_tx: Any, app_id: str, conversation_id: str, user_id: str) -> View:
    p = part_store.get_participant(unit_tx, app_id, conversation_id, user_id)
    return rules.participant_view(p.membership if p else None)


def _same(existing: Message, item: UserMessageIn | SystemMessageIn) -> bool:
    sender = item.sender if isinstance(item, UserMessageIn) else None
    return (existing.type, existing.sender_id, existing.text) == (item.type, sender, item.text)


def send_messages(
    ctx: Context,
    app_id: str,
    conversation_id: str,
    items: Sequence[UserMessageIn | SystemMessageIn],
    origin: str = "rest",
    guest: View | None = None,
) -> list[Message]:
    """Store every message or none. A UserMessage's sender must be allowed to write (a
    participant with ReadWrite, or the given guest view); a SystemMessage has no sender.
    A repeated ``idempotencyKey`` returns the message stored the first time.

    Concurrent sends share a transaction and its commit (group commit), each in its own
    savepoint: one refused send fails alone and writes nothing.
    """

    def store_all(unit: Unit) -> list[Message]:
        return store_messages(unit, app_id, conversation_id, items, origin, guest)

    return ctx.write_grouped(store_all, key=send_key(app_id, conversation_id))


def send_key(app_id: str, conversation_id: str) -> str:
    """The group commit key of a send: the conversation, whose row it locks first."""
    return f"{app_id}/{conversation_id}"


def store_messages(
    unit: Unit,
    app_id: str,
    conversation_id: str,
    items: Sequence[UserMessageIn | SystemMessageIn],
    origin: str,
    guest: View | None,
) -> list[Message]:
    """What :func:`send_messages` does inside its transaction, for callers that compose it."""
    # The conversation is locked first (PostgreSQL: FOR UPDATE), so the sender's access is read
    # under the lock every membership change takes too; the first sender's comes with it.
    first = next((i.sender for i in items if isinstance(i, UserMessageIn)), None)
    found, first_membership = conv_store.lock_with_member(unit.tx, app_id, conversation_id, first)
    if not found:
        raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
    out: list[Message] = []
    for item in items:
        if item.idempotencyKey is not None:
            key = item.idempotencyKey
            existing = store.by_idempotency_key(unit.tx, app_id, conversation_id, key)
            if existing is not None:
                if not _same(existing, item):
                    raise Conflict(
                        f"idempotencyKey {item.idempotencyKey!r} was used for another message",
                        code="IDEMPOTENCY_KEY_REUSED",
                    )
                out.append(existing)
                continue
        sender = None
        if isinstance(item, UserMessageIn):
            sender = item.sender
            if guest is not None:
                view = guest
            elif sender == first:
                view = rules.participant_view(first_membership)
            else:
                view = sender_view(unit.tx, app_id, conversation_id, sender)
            rules.check_can_write(view)
        if item.referencedMessageId is not None and not store.get_message(
            unit.tx, app_id, conversation_id, item.referencedMessageId
        ):
            raise NotFound(
                f"referencedMessageId {item.referencedMessageId!r} is not in this conversation",
                code="MESSAGE_NOT_FOUND",
            )
        position = conv_store.next_seq(unit.tx, app_id, conversation_id, message_at=unit.now)
        stored = store.insert_message(
            unit.tx,
            app_id,
            conversation_id,
            position,
            ids.new_message_id(),
            item.type,
            sender,
            item.text,
            item.custom,
            item.referencedMessageId,
            origin,
            item.idempotencyKey,
            unit.now,
            by_guest=guest is not None,
        )
        out.append(stored)
        unit.emit(
            Event(
                "message.created",
                app_id,
                {"message": message_json(stored), "guest": stored.by_guest},
                conversation_id=conversation_id,
                position=position,
            )
        )
    return out


def history(
    ctx: Context,
    app_id: str,
    conversation_id: str,
    limit: int,
    starting_after: str | None,
    view: View | None = None,
    viewer: str | None = None,
) -> list[dict[str, Any]]:
    """A page of messages, newest first, older than ``starting_after``; limited to what
    ``view`` may see (``None``: the backend, which sees everything). A former participant
    (``viewer`` with a horizon) sees each message, and who had read it, as at the horizon."""
    if view is not None:
        rules.check_can_read(view)
    upto = view.horizon if view is not None else None
    with ctx.read() as tx:
        # The common case costs two statements: the page, then the members for readBy. Only
        # an empty page looks further, to tell "nothing older" from a wrong id.
        if starting_after is None:
            rows = store.page(tx, app_id, conversation_id, limit, None, upto)
        else:
            rows = store.page_before_message(
                tx, app_id, conversation_id, limit, starting_after, upto
            )
        if not rows:
            if conv_store.get_conversation(tx, app_id, conversation_id) is None:
                raise NotFound(
                    f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND"
                )
            if starting_after is not None and not store.get_message(
                tx, app_id, conversation_id, starting_after
            ):
                raise NotFound(
                    f"startingAfter: no message {starting_after!r}", code="MESSAGE_NOT_FOUND"
                )
            return []
        participants = part_store.list_participants(tx, app_id, conversation_id)
        if upto is not None and viewer is not None:
            me = part_store.get_participant(tx, app_id, conversation_id, viewer)
            conv = conv_store.get_conversation(tx, app_id, conversation_id)
            assert conv is not None
            participants = horizons.frozen(conv, me, participants)[1]
            rows = horizons.messages_seen(tx, app_id, conversation_id, rows, upto)
        found = reactions.summaries(tx, app_id, conversation_id, [m.id for m in rows], viewer)
    return [message_json(m, read_by(m, participants), found[m.id]) for m in rows]


def get_message(ctx: Context, app_id: str, conversation_id: str, message_id: str) -> dict[str, Any]:
    with ctx.read() as tx:
        m = store.get_message(tx, app_id, conversation_id, message_id)
        if m is None or m.deleted_at is not None:
            raise NotFound(
                f"no message {message_id!r} in {conversation_id!r}", code="MESSAGE_NOT_FOUND"
            )
        participants = part_store.list_participants(tx, app_id, conversation_id)
        found = reactions.summaries(tx, app_id, conversation_id, [m.id], None)
    return message_json(m, read_by(m, participants), found[m.id])


def _load_for_change(
    unit: Unit, app_id: str, conversation_id: str, message_id: str, actor: str | None
) -> Message:
    load_conversation(unit, app_id, conversation_id)
    m = store.get_message(unit.tx, app_id, conversation_id, message_id)
    if m is None or m.deleted_at is not None:
        raise NotFound(
            f"no message {message_id!r} in {conversation_id!r}", code="MESSAGE_NOT_FOUND"
        )
    if actor is not None:
        if m.sender_id != actor:
            raise Forbidden("only the sender may change a message", code="NOT_ALLOWED_TO_WRITE")
        rules.check_can_write(sender_view(unit.tx, app_id, conversation_id, actor))
    return m


def edit_message(
    ctx: Context,
    app_id: str,
    conversation_id: str,
    message_id: str,
    body: MessageEdit,
    actor: str | None = None,
) -> dict[str, Any]:
    """Edit text and/or custom; ``actor`` None is the backend, else only the sender may edit."""
    with ctx.write() as unit:
        _load_for_change(unit, app_id, conversation_id, message_id, actor)
        seq = conv_store.next_seq(unit.tx, app_id, conversation_id)
        store.update_message(
            unit.tx, app_id, conversation_id, message_id, body.text, body.custom, seq, unit.now
        )
        m = store.get_message(unit.tx, app_id, conversation_id, message_id)
        assert m is not None
        data = message_json(m)
        unit.emit(
            Event(
                "message.edited",
                app_id,
                {"message": data},
                conversation_id=conversation_id,
                position=seq,
            )
        )
    return data


def delete_message(
    ctx: Context, app_id: str, conversation_id: str, message_id: str, actor: str | None = None
) -> None:
    with ctx.write() as unit:
        m = _load_for_change(unit, app_id, conversation_id, message_id, actor)
        seq = conv_store.next_seq(unit.tx, app_id, conversation_id)
        store.tombstone(unit.tx, app_id, conversation_id, message_id, seq, unit.now)
        unit.emit(
            Event(
                "message.deleted",
                app_id,
                {
                    "conversationId": conversation_id,
                    "messageId": message_id,
                    "position": m.position,
                },
                conversation_id=conversation_id,
                position=seq,
            )
        )


def mark_read(ctx: Context, app_id: str, conversation_id: str, user_id: str) -> int:
    """Move the member's read position to the newest message they can see."""
    with ctx.write() as unit:
        conv = load_conversation(unit, app_id, conversation_id)
        p = part_store.get_participant(unit.tx, app_id, conversation_id, user_id)
        if p is None:
            raise NotFound(
                f"{user_id!r} is not a participant of {conversation_id!r}",
                code="PARTICIPANT_NOT_FOUND",
            )
        upto = rules.read_upto(rules.participant_view(p.membership), conv.seq)
        if upto > p.read_position:
            part_store.set_read_position(unit.tx, app_id, conversation_id, user_id, upto)
            unit.emit(
                Event(
                    "conversation.read",
                    app_id,
                    {"conversationId": conversation_id, "userId": user_id, "readUntil": upto},
                    conversation_id=conversation_id,
                    position=None,
                )
            )
    return upto
