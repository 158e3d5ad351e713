"""What changed in a conversation after a position: the rows a resuming client missed.

Messages and participants carry ``seq``, the conversation position of their last change, and
``messages(app_id, conversation_id, seq)`` is indexed, so this is a range scan.
"""

from __future__ import annotations

from chinwag.storage.db import Tx
from chinwag.storage.records import Message, Participant


def messages_changed(
    tx: Tx, app_id: str, conversation_id: str, after: int, limit: int
) -> list[Message]:
    rows = tx.all(
        "SELECT * FROM messages WHERE app_id = ? AND conversation_id = ? AND seq > ? "
        "ORDER BY seq LIMIT ?",
        (app_id, conversation_id, after, limit),
    )
    return [Message.from_row(r) for r in rows]


def participants_changed(
    tx: Tx, app_id: str, conversation_id: str, after: int
) -> list[Participant]:
    rows = tx.all(
        "SELECT * FROM participants WHERE app_id = ? AND conversation_id = ? AND seq > ? "
        "ORDER BY seq",
        (app_id, conversation_id, after),
    )
    return [Participant.from_row(r) for r in rows]
