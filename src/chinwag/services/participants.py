"""Memberships: join, change access or notify, remove. Every change takes a position."""

from __future__ import annotations

from chinwag.domain import access as rules
from chinwag.domain.access import Access, Membership
from chinwag.errors import InvalidRequest, NotFound
from chinwag.schemas import ParticipantPatch, ParticipantPut
from chinwag.serialize import participant_detail_json
from chinwag.services.context import Context, Unit
from chinwag.services.events import Event
from chinwag.storage import conversations as conv_store
from chinwag.storage import participants as store
from chinwag.storage import users as user_store
from chinwag.storage.apps import get_app
from chinwag.storage.records import Conversation, Participant


def load_conversation(unit: Unit, app_id: str, conversation_id: str) -> Conversation:
    conv = conv_store.get_conversation(unit.tx, app_id, conversation_id, lock=True)
    if conv is None:
        raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
    return conv


def load_member(unit: Unit, app_id: str, conversation_id: str, user_id: str) -> Participant:
    """The user's current membership, or 404 when they have none (never joined or removed)."""
    old = store.get_participant(unit.tx, app_id, conversation_id, user_id)
    if old is None or not old.member:
        raise NotFound(
            f"{user_id!r} is not a participant of {conversation_id!r}",
            code="PARTICIPANT_NOT_FOUND",
        )
    return old


def require_users(unit: Unit, app_id: str, user_ids: list[str]) -> None:
    missing = sorted(set(user_ids) - user_store.existing_ids(unit.tx, app_id, user_ids))
    if missing:
        raise NotFound(
            *[f"no user {u!r}: create it with PUT /users/{{id}} first" for u in missing],
            code="USER_NOT_FOUND",
        )


def write_membership(
    unit: Unit,
    app_id: str,
    conv: Conversation,
    user_id: str,
    old: Participant | None,
    new: Membership,
    notify: bool | str,
) -> Participant | None:
    """Store a membership change at a new position and emit the matching event.

    Returns the stored participant, or None when nothing changed.
    """
    if old is not None and old.membership == new and old.notify == notify:
        return None
    if old is None or not old.member:
        limit = get_app(unit.tx, app_id)
        assert limit is not None
        rules.check_participant_limit(
            store.lifetime_count(unit.tx, app_id, conv.id),
            already_counted=old is not None,
            limit=limit.settings.participantLimit,
        )
    seq = conv_store.next_seq(unit.tx, app_id, conv.id)
    frozen = None
    if new.horizon is not None:
        joined = old.joined_at if old else unit.now
        frozen = max(joined, conv.last_message_at or 0)
    rejoined = old is not None and not old.member and new.member
    store.upsert_participant(
        unit.tx, app_id, conv.id, user_id, new, notify, seq, unit.now, frozen, rejoined
    )
    stored = store.get_participant(unit.tx, app_id, conv.id, user_id)
    assert stored is not None
    if old is None or (not old.member and new.member):
        kind = "participant.joined"
    elif not new.member:
        kind = "participant.left"
    else:
        kind = "participant.access_changed"
    unit.emit(
        Event(
            kind,
            app_id,
            {"conversationId": conv.id, "participant": participant_detail_json(stored)},
            conversation_id=conv.id,
            position=seq,
            affected_users=(user_id,),
        )
    )
    return stored


def join(
    unit: Unit, app_id: str, conv: Conversation, user_id: str, access: Access, notify: bool | str
) -> None:
    old = store.get_participant(unit.tx, app_id, conv.id, user_id)
    new = rules.grant(
        old.membership if old else None, access, conv_store.current_seq(unit.tx, app_id, conv.id)
    )
    write_membership(unit, app_id, conv, user_id, old, new, notify)


def put_participant(
    ctx: Context, app_id: str, conversation_id: str, user_id: str, body: ParticipantPut
) -> None:
    """Join (or re-join) with the given access and notify; omitted fields take the defaults."""
    with ctx.write() as unit:
        conv = load_conversation(unit, app_id, conversation_id)
        require_users(unit, app_id, [user_id])
        join(unit, app_id, conv, user_id, Access(body.access), body.notify)


def patch_participant(
    ctx: Context, app_id: str, conversation_id: str, user_id: str, body: ParticipantPatch
) -> None:
    """Change access (``None`` included) or notify of an existing member."""
    with ctx.write() as unit:
        conv = load_conversation(unit, app_id, conversation_id)
        old = load_member(unit, app_id, conv.id, user_id)
        if body.access is None and body.notify is None:
            raise InvalidRequest("send access, notify, or both")
        new = old.membership
        if body.access is not None:
            new = rules.grant(
                old.membership,
                Access(body.access),
                conv_store.current_seq(unit.tx, app_id, conv.id),
            )
        notify = old.notify if body.notify is None else body.notify
        write_membership(unit, app_id, conv, user_id, old, new, notify)


def delete_participant(ctx: Context, app_id: str, conversation_id: str, user_id: str) -> None:
    """Remove the membership; the user keeps the history they could read until now."""
    with ctx.write() as unit:
        conv = load_conversation(unit, app_id, conversation_id)
        old = load_member(unit, app_id, conv.id, user_id)
        new = rules.remove(old.membership, conv_store.current_seq(unit.tx, app_id, conv.id))
        write_membership(unit, app_id, conv, user_id, old, new, old.notify)


def list_participants(ctx: Context, app_id: str, conversation_id: str) -> list[Participant]:
    with ctx.read() as tx:
        if conv_store.get_conversation(tx, app_id, conversation_id) is None:
            raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
        return store.list_participants(tx, app_id, conversation_id)
