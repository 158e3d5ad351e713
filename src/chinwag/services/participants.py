"""Memberships: join, change access or notify, remove. Every change takes a position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chinwag.domain import access as rules
from chinwag.domain import permissions
from chinwag.domain.access import Access, GuestAccess, Membership
from chinwag.domain.permissions import Authority
from chinwag.errors import InvalidRequest, NotFound
from chinwag.schemas import ParticipantPatch, ParticipantPut
from chinwag.serialize import conversation_json, participant_detail_json
from chinwag.services import horizons
from chinwag.services.context import Context, Unit
from chinwag.services.events import Event
from chinwag.storage import conversations as conv_store
from chinwag.storage import messages as msg_store
from chinwag.storage import participants as store
from chinwag.storage import users as user_store
from chinwag.storage.apps import get_app
from chinwag.storage.db import Tx
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
    by: Authority = Authority.BACKEND,
    refresh_policy: bool = True,
) -> Participant | None:
    """Store a membership change at a new position and emit the matching event.

    ``by`` is who decides (domain/permissions.py): it is recorded for the access (and the
    membership) when they change and for ``notify`` when it changes. Withdrawing access or
    removing keeps the conversation as the user saw it (services/horizons.py). A new row may
    change the default guest policy (``refresh_policy``: apply it now). Returns the stored
    participant, or None when nothing changed.
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
    frozen = None
    if new.horizon is not None:
        kept = old.frozen if old is not None and old.horizon is not None else None
        frozen = kept or horizons.snapshot(unit.tx, app_id, conv, user_id)
    seq = conv_store.next_seq(unit.tx, app_id, conv.id)
    frozen_at = None
    if new.horizon is not None:
        joined = old.joined_at if old else unit.now
        frozen_at = max(joined, conv.last_message_at or 0)
    rejoined = old is not None and not old.member and new.member
    access_by = by if old is None or old.membership != new else old.access_set_by
    notify_by = by if old is None or old.notify != notify else old.notify_set_by
    store.upsert_participant(
        unit.tx,
        app_id,
        conv.id,
        user_id,
        new,
        notify,
        seq,
        unit.now,
        frozen_at,
        rejoined,
        (access_by, notify_by),
        frozen,
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
    if old is None and refresh_policy:
        refresh_guest_policy(unit, app_id, conv.id)
    return stored


def refresh_guest_policy(
    unit: Unit, app_id: str, conversation_id: str, announce: bool = True
) -> bool:
    """Apply the default guest policy to a conversation whose guestAccess was never set
    explicitly (domain.permissions.default_guest_access). A change is audited and, with
    ``announce``, published with the conversation's new state (guests are re-checked on every
    node, as for an explicit change); without, the caller publishes that state itself.
    Returns whether the policy changed."""
    conv = conv_store.get_conversation(unit.tx, app_id, conversation_id)
    assert conv is not None
    if conv.guest_access_set_by is not None:
        return False
    policy = permissions.default_guest_access(store.lifetime_count(unit.tx, app_id, conv.id))
    if policy is conv.guest_access:
        return False
    conv_store.set_guest_policy(unit.tx, app_id, conv.id, policy, None)
    guest_policy_changed(unit, app_id, conv.id, conv.guest_access, policy)
    if announce:
        announce_state(unit, app_id, conv.id)
    return True


def guest_policy_changed(
    unit: Unit, app_id: str, conversation_id: str, before: GuestAccess, after: GuestAccess
) -> None:
    """The audit log's record of a guest policy change (no session sees this event)."""
    if before is after:
        return
    unit.emit(
        Event(
            "conversation.guest_access_changed",
            app_id,
            {"from": before.value, "to": after.value},
            conversation_id=conversation_id,
        )
    )


def announce_state(unit: Unit, app_id: str, conversation_id: str) -> None:
    """The conversation's new state at a new position (``conversation.updated``: the realtime
    hub re-checks its guests against the guest policy in it)."""
    seq = conv_store.next_seq(unit.tx, app_id, conversation_id)
    unit.emit(
        Event(
            "conversation.updated",
            app_id,
            {"conversation": conversation_state(unit.tx, app_id, conversation_id)},
            conversation_id=conversation_id,
            position=seq,
        )
    )


def conversation_state(tx: Tx, app_id: str, conversation_id: str) -> dict[str, Any]:
    """The conversation's JSON as the backend sees it now."""
    conv = conv_store.get_conversation(tx, app_id, conversation_id)
    assert conv is not None
    participants = store.list_participants(tx, app_id, conv.id)
    last = msg_store.page(tx, app_id, conv.id, 1, None, None)
    return conversation_json(conv, participants, last[0] if last else None)


def join(
    unit: Unit,
    app_id: str,
    conv: Conversation,
    user_id: str,
    access: Access,
    notify: bool | str,
    by: Authority = Authority.BACKEND,
    refresh_policy: bool = True,
) -> None:
    old = store.get_participant(unit.tx, app_id, conv.id, user_id)
    new = rules.grant(
        old.membership if old else None, access, conv_store.current_seq(unit.tx, app_id, conv.id)
    )
    write_membership(unit, app_id, conv, user_id, old, new, notify, by, refresh_policy)


@dataclass(frozen=True)
class Plan:
    """A membership change worked out but not yet written: ``old`` (None: no row) becomes
    ``new`` with ``notify``."""

    user_id: str
    old: Participant | None
    new: Membership
    notify: bool | str


def plan_put(
    unit: Unit,
    app_id: str,
    conv: Conversation,
    user_id: str,
    access: Access | None,
    notify: bool | str | None,
) -> Plan:
    """Join (or re-join), or change a member; a field given as None keeps its value for a
    member and takes the default (ReadWrite, notify on) for a join."""
    old = store.get_participant(unit.tx, app_id, conv.id, user_id)
    seq = conv_store.current_seq(unit.tx, app_id, conv.id)
    if old is None or not old.member:
        new = rules.grant(old.membership if old else None, access or Access.READ_WRITE, seq)
        return Plan(user_id, old, new, True if notify is None else notify)
    return _changed(old, access, notify, seq)


def _changed(old: Participant, access: Access | None, notify: bool | str | None, seq: int) -> Plan:
    """A member's change: the fields given (not None) take their new values at ``seq``."""
    new = old.membership if access is None else rules.grant(old.membership, access, seq)
    return Plan(old.user_id, old, new, old.notify if notify is None else notify)


def plan_patch(
    unit: Unit,
    app_id: str,
    conv: Conversation,
    user_id: str,
    access: Access | None,
    notify: bool | str | None,
) -> Plan:
    """Change access (``None`` included) or notify of an existing member (404 otherwise)."""
    if access is None and notify is None:
        raise InvalidRequest("send access, notify, or both")
    old = load_member(unit, app_id, conv.id, user_id)
    return _changed(old, access, notify, conv_store.current_seq(unit.tx, app_id, conv.id))


def plan_remove(unit: Unit, app_id: str, conv: Conversation, user_id: str) -> Plan:
    """Remove a member (404 if there is none); they keep the history they could read."""
    old = load_member(unit, app_id, conv.id, user_id)
    new = rules.remove(old.membership, conv_store.current_seq(unit.tx, app_id, conv.id))
    return Plan(user_id, old, new, old.notify)


def apply(
    unit: Unit, app_id: str, conv: Conversation, plan: Plan, by: Authority = Authority.BACKEND
) -> Participant | None:
    return write_membership(
        unit, app_id, conv, plan.user_id, plan.old, plan.new, plan.notify, by
    )


def put_participant(
    ctx: Context, app_id: str, conversation_id: str, user_id: str, body: ParticipantPut
) -> None:
    """Join (or re-join) with the given access and notify; omitted fields take the defaults."""
    with ctx.write() as unit:
        conv = load_conversation(unit, app_id, conversation_id)
        require_users(unit, app_id, [user_id])
        plan = plan_put(unit, app_id, conv, user_id, Access(body.access), body.notify)
        apply(unit, app_id, conv, plan)


def patch_participant(
    ctx: Context, app_id: str, conversation_id: str, user_id: str, body: ParticipantPatch
) -> None:
    """Change access (``None`` included) or notify of an existing member."""
    with ctx.write() as unit:
        conv = load_conversation(unit, app_id, conversation_id)
        access = None if body.access is None else Access(body.access)
        apply(unit, app_id, conv, plan_patch(unit, app_id, conv, user_id, access, body.notify))


def delete_participant(ctx: Context, app_id: str, conversation_id: str, user_id: str) -> None:
    """Remove the membership; the user keeps the history they could read until now."""
    with ctx.write() as unit:
        conv = load_conversation(unit, app_id, conversation_id)
        apply(unit, app_id, conv, plan_remove(unit, app_id, conv, user_id))


def list_participants(ctx: Context, app_id: str, conversation_id: str) -> list[Participant]:
    with ctx.read() as tx:
        if conv_store.get_conversation(tx, app_id, conversation_id) is None:
            raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
        return store.list_participants(tx, app_id, conversation_id)
