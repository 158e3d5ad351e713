"""The audit log: who changed access, removed, kicked, muted or banned whom, changed settings or
inspected a conversation, and when. Written inside the transaction of the change itself, so a
change is never without its entry and an entry never without its change."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

from chinwag import ids
from chinwag.services.context import Context, Unit
from chinwag.services.events import Event
from chinwag.storage import audit as store
from chinwag.storage.audit import AuditEntry

#: The event types that are recorded, and the action name each gets in the log.
AUDITED = {
    "participant.joined": "participant.joined",
    "participant.access_changed": "participant.access_changed",
    "participant.left": "participant.removed",
    "conversation.deleted": "conversation.deleted",
    "conversation.guest_access_changed": "conversation.guest_access_changed",
    "settings.updated": "settings.changed",
    "guest.kicked": "guest.kicked",
    "guest.banned": "guest.banned",
    "guest.unbanned": "guest.unbanned",
    "guest.muted": "guest.muted",
    "guest.unmuted": "guest.unmuted",
    "invite.created": "invite.created",
    "invite.revoked": "invite.revoked",
    "supervisor.viewed": "supervisor.viewed",
    "user.contact_changed": "user.contact_changed",
}


def _subject(event: Event) -> str | None:
    data = event.data
    if "userId" in data:
        return str(data["userId"])
    participant = data.get("participant")
    if isinstance(participant, dict) and "userId" in participant:
        return str(participant["userId"])
    return None


def _data(event: Event) -> dict[str, Any]:
    if event.type.startswith("participant."):
        p = event.data["participant"]
        return {"access": p["access"], "notify": p["notify"], "isMember": p["isMember"]}
    return {k: v for k, v in event.data.items() if k not in ("conversationId", "userId")}


# Orders entries written by this process within one millisecond; across processes entries of
# the same millisecond are ordered by the random suffix.
_sequence = itertools.count()


def record(unit: Unit) -> None:
    """The :attr:`Context.in_transaction` hook: one entry per audited event of the unit."""
    for event in unit.events:
        action = AUDITED.get(event.type)
        if action is None:
            continue
        entry = AuditEntry(
            id=f"{unit.now:013d}-{next(_sequence) % 10**12:012d}-{ids.random_token(4)}",
            at=unit.now,
            actor=unit.actor,
            action=action,
            conversation_id=event.conversation_id,
            user_id=_subject(event),
            data=_data(event),
        )
        store.append(unit.tx, event.app_id, entry)


def install(ctx: Context) -> Context:
    if record not in ctx.in_transaction:
        ctx.in_transaction.append(record)
    return ctx


def entries(
    ctx: Context,
    app_id: str,
    limit: int,
    after: str | None,
    conversation_id: str | None = None,
    newest_first: bool = False,
) -> list[AuditEntry]:
    with ctx.read() as tx:
        return store.page(tx, app_id, limit, after, conversation_id, newest_first)


def export_lines(ctx: Context, app_id: str, batch: int = 500) -> Iterator[str]:
    """Every entry, oldest first, as JSON lines; read in pages so memory stays flat."""
    after = None
    while True:
        page = entries(ctx, app_id, batch, after)
        for entry in page:
            yield json.dumps(entry.to_json(), separators=(",", ":"), ensure_ascii=False) + "\n"
        if len(page) < batch:
            return
        after = page[-1].id
