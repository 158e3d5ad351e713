"""Conversations: merge-create with participants, read, list, delete."""

from __future__ import annotations

from typing import Any

from chinwag.domain.access import Access, GuestAccess
from chinwag.domain.custom import merge_custom
from chinwag.domain.permissions import Authority, default_guest_access
from chinwag.errors import NotFound
from chinwag.schemas import ConversationPut
from chinwag.services.context import Context, Unit
from chinwag.services.events import Event
from chinwag.services.participants import (
    announce_state,
    conversation_state,
    guest_policy_changed,
    join,
    load_conversation,
    refresh_guest_policy,
    require_users,
)
from chinwag.storage import conversations as store
from chinwag.storage import participants as part_store
from chinwag.storage.records import Conversation


def put_conversation(
    ctx: Context, app_id: str, conversation_id: str, body: ConversationPut
) -> bool:
    """Create or merge. Listed participants are added (existing memberships stay as they are).

    Returns whether the conversation was created.
    """
    with ctx.write() as unit:
        existing = store.get_conversation(unit.tx, app_id, conversation_id, lock=True)
        put_in(unit, app_id, conversation_id, existing, body, Authority.BACKEND)
    return existing is None


def put_in(
    unit: Unit,
    app_id: str,
    conversation_id: str,
    existing: Conversation | None,
    body: ConversationPut,
    by: Authority,
) -> Conversation:
    """What :func:`put_conversation` writes, in the caller's unit, deciding as ``by`` (whose
    checks the caller made). ``guestAccess`` set to a value is recorded as set by ``by``; set
    to null it goes back to the default policy (domain.permissions.default_guest_access)."""
    fields: dict[str, Any] = body.given()
    participants = fields.pop("participants", None) or []
    guest_given = "guestAccess" in fields
    guest_access = fields.pop("guestAccess", None)
    if "custom" in fields:
        fields["custom"] = merge_custom(existing.custom if existing else {}, fields["custom"])
    require_users(unit, app_id, participants)
    if existing is None:
        store.insert_conversation(unit.tx, app_id, conversation_id, fields, unit.now, unit.actor)
    else:
        store.update_conversation(unit.tx, app_id, conversation_id, fields)
    conv = load_conversation(unit, app_id, conversation_id)
    for user_id in dict.fromkeys(participants):
        old = part_store.get_participant(unit.tx, app_id, conversation_id, user_id)
        if old is None or not old.member:
            join(unit, app_id, conv, user_id, Access.READ_WRITE, True, by, refresh_policy=False)
    if guest_given:
        _set_guest_access(unit, app_id, conversation_id, guest_access, by)
        policy_changed = True
    else:
        policy_changed = refresh_guest_policy(unit, app_id, conversation_id, announce=False)
    if existing is None or fields or policy_changed:
        announce_state(unit, app_id, conversation_id)
    return load_conversation(unit, app_id, conversation_id)


def _set_guest_access(
    unit: Unit, app_id: str, conversation_id: str, value: str | None, by: Authority
) -> None:
    conv = load_conversation(unit, app_id, conversation_id)
    if value is None:
        lifetime = part_store.lifetime_count(unit.tx, app_id, conversation_id)
        policy, set_by = default_guest_access(lifetime), None
    else:
        policy, set_by = GuestAccess(value), by
    store.set_guest_policy(unit.tx, app_id, conversation_id, policy, set_by)
    guest_policy_changed(unit, app_id, conversation_id, conv.guest_access, policy)


def get_conversation(ctx: Context, app_id: str, conversation_id: str) -> dict[str, Any]:
    with ctx.read() as tx:
        conv = store.get_conversation(tx, app_id, conversation_id)
        if conv is None:
            raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
        return conversation_state(tx, app_id, conv.id)


def list_conversations(
    ctx: Context, app_id: str, limit: int, starting_after: str | None
) -> list[dict[str, Any]]:
    with ctx.read() as tx:
        return [
            conversation_state(tx, app_id, c.id)
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
