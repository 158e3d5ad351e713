"""Conversations: merge-create with participants, read, list, delete."""

from __future__ import annotations

from typing import Any

from chinwag.domain.access import Access
from chinwag.domain.custom import merge_custom
from chinwag.errors import NotFound
from chinwag.schemas import ConversationPut
from chinwag.serialize import conversation_json
from chinwag.services.context import Context
from chinwag.services.events import Event
from chinwag.services.participants import join, load_conversation, require_users
from chinwag.storage import conversations as store
from chinwag.storage import messages as msg_store
from chinwag.storage import participants as part_store
from chinwag.storage.db import Tx
from chinwag.storage.records import Conversation


def put_conversation(
    ctx: Context, app_id: str, conversation_id: str, body: ConversationPut
) -> bool:
    """Create or merge. Listed participants are added (existing memberships stay as they are).

    Returns whether the conversation was created.
    """
    fields: dict[str, Any] = body.given()
    participants = fields.pop("participants", None) or []
    with ctx.write() as unit:
        existing = store.get_conversation(unit.tx, app_id, conversation_id, lock=True)
        if "custom" in fields:
            fields["custom"] = merge_custom(existing.custom if existing else {}, fields["custom"])
        if "guestAccess" in fields and fields["guestAccess"] is None:
            fields["guestAccess"] = "ReadWrite"
        require_users(unit, app_id, participants)
        if existing is None:
            store.insert_conversation(unit.tx, app_id, conversation_id, fields, unit.now)
        else:
            store.update_conversation(unit.tx, app_id, conversation_id, fields)
        conv = load_conversation(unit, app_id, conversation_id)
        for user_id in dict.fromkeys(participants):
            old = part_store.get_participant(unit.tx, app_id, conversation_id, user_id)
            if old is None or not old.member:
                join(unit, app_id, conv, user_id, Access.READ_WRITE, True)
        before = existing.guest_access.value if existing else "ReadWrite"
        if fields.get("guestAccess", before) != before:
            unit.emit(
                Event(
                    "conversation.guest_access_changed",
                    app_id,
                    {"from": before, "to": fields["guestAccess"]},
                    conversation_id=conversation_id,
                )
            )
        if existing is None or fields:
            seq = store.next_seq(unit.tx, app_id, conversation_id)
            unit.emit(
                Event(
                    "conversation.updated",
                    app_id,
                    {
                        "conversation": _json(
                            unit.tx, app_id, load_conversation(unit, app_id, conversation_id)
                        )
                    },
                    conversation_id=conversation_id,
                    position=seq,
                )
            )
    return existing is None


def _json(tx: Tx, app_id: str, conv: Conversation) -> dict[str, Any]:
    participants = part_store.list_participants(tx, app_id, conv.id)
    last = msg_store.page(tx, app_id, conv.id, 1, None, None)
    return conversation_json(conv, participants, last[0] if last else None)


def get_conversation(ctx: Context, app_id: str, conversation_id: str) -> dict[str, Any]:
    with ctx.read() as tx:
        conv = store.get_conversation(tx, app_id, conversation_id)
        if conv is None:
            raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
        return _json(tx, app_id, conv)


def list_conversations(
    ctx: Context, app_id: str, limit: int, starting_after: str | None
) -> list[dict[str, Any]]:
    with ctx.read() as tx:
        return [
            _json(tx, app_id, c)
            for c in store.list_conversations(tx, app_id, limit, starting_after)
        ]


def delete_conversation(ctx: Context, app_id: str, conversation_id: str) -> None:
    """Irrevocable: messages and memberships go with it."""
    with ctx.write() as unit:
        conv = store.get_conversation(unit.tx, app_id, conversation_id, lock=True)
        if conv is None:
            raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
        members = tuple(
            p.user_id for p in part_store.list_participants(unit.tx, app_id, conversation_id)
        )
        store.delete_conversation(unit.tx, app_id, conversation_id)
        unit.emit(
            Event(
                "conversation.deleted",
                app_id,
                {"conversation": {"id": conversation_id}},
                conversation_id=conversation_id,
                position=conv.seq + 1,
                affected_users=members,
            )
        )
