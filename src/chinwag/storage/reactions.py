"""Emoji reactions: one row per user, message and emoji."""

from __future__ import annotations

from chinwag.storage.db import Tx


def add(
    tx: Tx, app_id: str, conversation_id: str, message_id: str, emoji: str, user_id: str, now: int
) -> bool:
    """Whether the reaction is new (adding one twice changes nothing)."""
    return (
        tx.execute(
            "INSERT INTO reactions (app_id, conversation_id, message_id, emoji, user_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (app_id, conversation_id, message_id, emoji, user_id, now),
        )
        > 0
    )


def remove(
    tx: Tx, app_id: str, conversation_id: str, message_id: str, emoji: str, user_id: str
) -> bool:
    return (
        tx.execute(
            "DELETE FROM reactions WHERE app_id = ? AND conversation_id = ? AND message_id = ? "
            "AND emoji = ? AND user_id = ?",
            (app_id, conversation_id, message_id, emoji, user_id),
        )
        > 0
    )


def of_messages(
    tx: Tx, app_id: str, conversation_id: str, message_ids: list[str]
) -> dict[str, list[tuple[str, str]]]:
    """``message id -> [(emoji, user id)]`` in the order they were added, for a page."""
    out: dict[str, list[tuple[str, str]]] = {m: [] for m in message_ids}
    if not message_ids:
        return out
    marks = ", ".join("?" * len(message_ids))
    rows = tx.all(
        "SELECT message_id, emoji, user_id FROM reactions WHERE app_id = ? "
        f"AND conversation_id = ? AND message_id IN ({marks}) ORDER BY created_at, emoji, user_id",
        (app_id, conversation_id, *message_ids),
    )
    for r in rows:
        out[r["message_id"]].append((r["emoji"], r["user_id"]))
    return out
