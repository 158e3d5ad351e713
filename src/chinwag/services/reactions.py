"""Emoji reactions: any emoji, once per user per message.

Rules kept here, for REST (on behalf of a user) and the socket (the session's user):

- Reacting is writing: a ``ReadWrite`` participant or a guest whose view lets them write may
  react; a ``Read`` or ``None`` participant, a muted guest and an outsider may not
  (``NOT_ALLOWED_TO_WRITE`` / ``NOT_A_PARTICIPANT``), whatever the message.
- The message must exist in that conversation and not be deleted (``MESSAGE_NOT_FOUND``).
- Adding a reaction twice, or removing one that is not there, changes nothing and emits nothing.
- Reactions are not moderation: they stay out of the audit log. They take no position: a
  client that reconnects reads them with the history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chinwag.domain import access as rules
from chinwag.domain.access import View
from chinwag.errors import InvalidRequest, NotFound
from chinwag.services.context import Context
from chinwag.services.events import Event
from chinwag.services.participants import load_conversation
from chinwag.storage import messages as msg_store
from chinwag.storage import participants as part_store
from chinwag.storage import reactions as store
from chinwag.storage.db import Tx

#: An emoji as it travels in a path: 1-32 characters, no whitespace, no slash.
MAX_EMOJI = 32


def check_emoji(emoji: str) -> str:
    if not 1 <= len(emoji) <= MAX_EMOJI or any(c.isspace() or c in "/\\\x00" for c in emoji):
        raise InvalidRequest(f"an emoji is 1-{MAX_EMOJI} characters, no spaces or slashes")
    if any(0xD800 <= ord(c) <= 0xDFFF or ord(c) < 0x20 for c in emoji):
        raise InvalidRequest("an emoji has no control characters or lone surrogates")
    return emoji


def react(
    ctx: Context,
    app_id: str,
    conversation_id: str,
    message_id: str,
    emoji: str,
    user_id: str,
    present: bool,
    view: Callable[[Tx], View] | None = None,
) -> None:
    """Add (``present``) or remove ``user_id``'s ``emoji`` on a message. ``view`` says what the
    user may do (the socket's guest admission); by default their membership decides."""
    check_emoji(emoji)
    with ctx.write() as unit:
        load_conversation(unit, app_id, conversation_id)
        m = msg_store.get_message(unit.tx, app_id, conversation_id, message_id)
        if m is None or m.deleted_at is not None:
            raise NotFound(
                f"no message {message_id!r} in {conversation_id!r}", code="MESSAGE_NOT_FOUND"
            )
        if view is not None:
            seen = view(unit.tx)
        else:
            p = part_store.get_participant(unit.tx, app_id, conversation_id, user_id)
            seen = rules.participant_view(p.membership if p else None)
        rules.check_can_write(seen)
        if present:
            changed = store.add(
                unit.tx, app_id, conversation_id, message_id, emoji, user_id, unit.now
            )
        else:
            changed = store.remove(unit.tx, app_id, conversation_id, message_id, emoji, user_id)
        if changed:
            unit.emit(
                Event(
                    "reaction.added" if present else "reaction.removed",
                    app_id,
                    {"messageId": message_id, "emoji": emoji, "userId": user_id},
                    conversation_id=conversation_id,
                )
            )


def summaries(
    tx: Tx, app_id: str, conversation_id: str, message_ids: list[str], viewer: str | None
) -> dict[str, list[dict[str, Any]]]:
    """Each message's reactions, one entry per emoji in the order first used:
    ``{emoji, count, currentUserReacted}`` toward ``viewer``, or ``{emoji, count, users}`` for
    the backend (``viewer`` None)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for mid, rows in store.of_messages(tx, app_id, conversation_id, message_ids).items():
        by_emoji: dict[str, list[str]] = {}
        for emoji, user in rows:
            by_emoji.setdefault(emoji, []).append(user)
        if viewer is None:
            out[mid] = [{"emoji": e, "count": len(u), "users": u} for e, u in by_emoji.items()]
        else:
            out[mid] = [
                {"emoji": e, "count": len(u), "currentUserReacted": viewer in u}
                for e, u in by_emoji.items()
            ]
    return out
