"""What importing history needs to read: where a conversation's timeline ends."""

from __future__ import annotations

from chinwag.storage.db import Tx


def newest_message_at(tx: Tx, app_id: str, conversation_id: str) -> int | None:
    """The time of the conversation's newest message (deleted ones count: they hold a place)."""
    row = tx.one(
        "SELECT created_at FROM messages WHERE app_id = ? AND conversation_id = ? "
        "ORDER BY position DESC LIMIT 1",
        (app_id, conversation_id),
    )
    return int(row["created_at"]) if row else None
