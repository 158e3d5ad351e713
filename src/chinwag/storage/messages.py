"""Messages, ordered by their per-conversation position; history pages use a keyset on it."""

from __future__ import annotations

from chinwag.storage.db import Tx
from chinwag.storage.records import Message, dumps


def insert_message(
    tx: Tx,
    app_id: str,
    conversation_id: str,
    position: int,
    message_id: str,
    type_: str,
    sender_id: str | None,
    text: str,
    custom: dict[str, str],
    referenced_message_id: str | None,
    origin: str,
    idempotency_key: str | None,
    now: int,
) -> None:
    tx.execute(
        "INSERT INTO messages (app_id, conversation_id, position, id, type, sender_id, text, "
        "custom, referenced_message_id, origin, idempotency_key, created_at, seq) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            app_id,
            conversation_id,
            position,
            message_id,
            type_,
            sender_id,
            text,
            dumps(custom),
            referenced_message_id,
            origin,
            idempotency_key,
            now,
            position,
        ),
    )


def get_message(tx: Tx, app_id: str, conversation_id: str, message_id: str) -> Message | None:
    row = tx.one(
        "SELECT * FROM messages WHERE app_id = ? AND id = ? AND conversation_id = ?",
        (app_id, message_id, conversation_id),
    )
    return Message.from_row(row) if row else None


def by_idempotency_key(tx: Tx, app_id: str, conversation_id: str, key: str) -> Message | None:
    row = tx.one(
        "SELECT * FROM messages WHERE app_id = ? AND conversation_id = ? AND idempotency_key = ?",
        (app_id, conversation_id, key),
    )
    return Message.from_row(row) if row else None


def page(
    tx: Tx,
    app_id: str,
    conversation_id: str,
    limit: int,
    before: int | None,
    upto: int | None,
) -> list[Message]:
    """Newest first: live messages with position < ``before`` and <= ``upto`` (a horizon)."""
    bound = before - 1 if before is not None else None
    if upto is not None:
        bound = upto if bound is None else min(bound, upto)
    if bound is None:
        rows = tx.all(
            "SELECT * FROM messages WHERE app_id = ? AND conversation_id = ? "
            "AND deleted_at IS NULL ORDER BY position DESC LIMIT ?",
            (app_id, conversation_id, limit),
        )
    else:
        rows = tx.all(
            "SELECT * FROM messages WHERE app_id = ? AND conversation_id = ? AND position <= ? "
            "AND deleted_at IS NULL ORDER BY position DESC LIMIT ?",
            (app_id, conversation_id, bound, limit),
        )
    return [Message.from_row(r) for r in rows]


def last_messages(tx: Tx, app_id: str, keys: list[tuple[str, int]]) -> dict[str, Message]:
    """The newest live message at or below a bound, for each ``(conversation_id, bound)``."""
    out: dict[str, Message] = {}
    for conversation_id, bound in keys:
        row = tx.one(
            "SELECT * FROM messages WHERE app_id = ? AND conversation_id = ? AND position <= ? "
            "AND deleted_at IS NULL ORDER BY position DESC LIMIT 1",
            (app_id, conversation_id, bound),
        )
        if row:
            out[conversation_id] = Message.from_row(row)
    return out


def update_message(
    tx: Tx,
    app_id: str,
    conversation_id: str,
    message_id: str,
    text: str | None,
    custom: dict[str, str] | None,
    seq: int,
    now: int,
) -> None:
    sets = ["edited_at = ?", "seq = ?"]
    params: list[object] = [now, seq]
    if text is not None:
        sets.append("text = ?")
        params.append(text)
    if custom is not None:
        sets.append("custom = ?")
        params.append(dumps(custom))
    tx.execute(
        f"UPDATE messages SET {', '.join(sets)} "
        "WHERE app_id = ? AND conversation_id = ? AND id = ?",
        (*params, app_id, conversation_id, message_id),
    )


def tombstone(
    tx: Tx, app_id: str, conversation_id: str, message_id: str, seq: int, now: int
) -> None:
    """Delete a message's content but keep its row, so the order and resume stay intact."""
    tx.execute(
        "UPDATE messages SET deleted_at = ?, seq = ?, text = '', custom = '{}' "
        "WHERE app_id = ? AND conversation_id = ? AND id = ?",
        (now, seq, app_id, conversation_id, message_id),
    )


def unread_count(
    tx: Tx, app_id: str, conversation_id: str, user_id: str, after: int, upto: int
) -> int:
    if upto <= after:
        return 0
    row = tx.one(
        "SELECT COUNT(*) AS n FROM messages WHERE app_id = ? AND conversation_id = ? "
        "AND position > ? AND position <= ? AND deleted_at IS NULL "
        "AND (sender_id IS NULL OR sender_id <> ?)",
        (app_id, conversation_id, after, upto, user_id),
    )
    return int(row["n"]) if row else 0
