"""Conversations and their change counter (``seq``)."""

from __future__ import annotations

from typing import Any

from chinwag.domain.access import Access, GuestAccess, Membership
from chinwag.domain.permissions import Authority
from chinwag.storage.db import Tx
from chinwag.storage.records import Conversation, dumps, like_literal

COLUMNS = {
    "subject": "subject",
    "photoUrl": "photo_url",
    "welcomeMessages": "welcome_messages",
    "custom": "custom",
}
_JSON = {"welcomeMessages", "custom"}


def get_conversation(
    tx: Tx, app_id: str, conversation_id: str, lock: bool = False
) -> Conversation | None:
    sql = "SELECT * FROM conversations WHERE app_id = ? AND id = ?"
    if lock and tx.dialect == "postgresql":
        sql += " FOR UPDATE"
    row = tx.one(sql, (app_id, conversation_id))
    return Conversation.from_row(row) if row else None


def lock_with_member(
    tx: Tx, app_id: str, conversation_id: str, user_id: str | None
) -> tuple[bool, Membership | None]:
    """Whether the conversation exists, locking it for this transaction if so (PostgreSQL:
    FOR UPDATE), and the membership of ``user_id`` in it (None: no participant row), in one
    statement."""
    sql = (
        "SELECT p.access, p.member, p.horizon FROM conversations c LEFT JOIN participants p "
        "ON p.app_id = c.app_id AND p.conversation_id = c.id AND p.user_id = ? "
        "WHERE c.app_id = ? AND c.id = ?"
    )
    if tx.dialect == "postgresql":
        sql += " FOR UPDATE OF c"
    row = tx.one(sql, (user_id, app_id, conversation_id))
    if row is None:
        return False, None
    if row["access"] is None:
        return True, None
    return True, Membership(Access(row["access"]), bool(row["member"]), row["horizon"])


def list_conversations(tx: Tx, app_id: str, limit: int, after: str | None) -> list[Conversation]:
    if after is None:
        rows = tx.all(
            "SELECT * FROM conversations WHERE app_id = ? ORDER BY id LIMIT ?", (app_id, limit)
        )
    else:
        rows = tx.all(
            "SELECT * FROM conversations WHERE app_id = ? AND id > ? ORDER BY id LIMIT ?",
            (app_id, after, limit),
        )
    return [Conversation.from_row(r) for r in rows]


def search_conversations(tx: Tx, app_id: str, text: str, limit: int) -> list[Conversation]:
    """Conversations whose id starts with ``text`` or whose subject contains it (any case)."""
    pattern = like_literal(text.lower())
    rows = tx.all(
        "SELECT * FROM conversations WHERE app_id = ? AND (LOWER(id) LIKE ? ESCAPE '\\' "
        "OR LOWER(COALESCE(subject, '')) LIKE ? ESCAPE '\\') ORDER BY id LIMIT ?",
        (app_id, pattern + "%", "%" + pattern + "%", limit),
    )
    return [Conversation.from_row(r) for r in rows]


def insert_conversation(
    tx: Tx, app_id: str, conversation_id: str, fields: dict[str, Any], now: int, created_by: str
) -> None:
    values = {COLUMNS[k]: (dumps(v) if k in _JSON else v) for k, v in fields.items()}
    values.setdefault("custom", "{}")
    values.setdefault("guest_access", "ReadWrite")
    cols = ["app_id", "id", *values, "seq", "created_at", "created_by"]
    tx.execute(
        f"INSERT INTO conversations ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        (app_id, conversation_id, *values.values(), 0, now, created_by),
    )


def set_guest_policy(
    tx: Tx, app_id: str, conversation_id: str, access: GuestAccess, set_by: Authority | None
) -> None:
    """The conversation's effective guest policy, and who set it (None: the default)."""
    tx.execute(
        "UPDATE conversations SET guest_access = ?, guest_access_set_by = ? "
        "WHERE app_id = ? AND id = ?",
        (access.value, None if set_by is None else set_by.stored(), app_id, conversation_id),
    )


def update_conversation(tx: Tx, app_id: str, conversation_id: str, fields: dict[str, Any]) -> None:
    if not fields:
        return
    values = {COLUMNS[k]: (dumps(v) if k in _JSON else v) for k, v in fields.items()}
    sets = ", ".join(f"{c} = ?" for c in values)
    tx.execute(
        f"UPDATE conversations SET {sets} WHERE app_id = ? AND id = ?",
        (*values.values(), app_id, conversation_id),
    )


def next_seq(tx: Tx, app_id: str, conversation_id: str, message_at: int | None = None) -> int:
    """Advance the conversation's change counter inside the caller's transaction.

    On PostgreSQL the UPDATE takes the row lock, so concurrent writers to one conversation get
    consecutive positions in commit order.
    """
    if message_at is None:
        row = tx.one(
            "UPDATE conversations SET seq = seq + 1 WHERE app_id = ? AND id = ? RETURNING seq",
            (app_id, conversation_id),
        )
    else:
        row = tx.one(
            "UPDATE conversations SET seq = seq + 1, last_message_at = ? "
            "WHERE app_id = ? AND id = ? RETURNING seq",
            (message_at, app_id, conversation_id),
        )
    assert row is not None
    return int(row["seq"])


def delete_conversation(tx: Tx, app_id: str, conversation_id: str) -> bool:
    for table in ("message_revisions", "reactions"):
        tx.execute(
            f"DELETE FROM {table} WHERE app_id = ? AND conversation_id = ?",
            (app_id, conversation_id),
        )
    tx.execute(
        "DELETE FROM messages WHERE app_id = ? AND conversation_id = ?", (app_id, conversation_id)
    )
    tx.execute(
        "DELETE FROM participants WHERE app_id = ? AND conversation_id = ?",
        (app_id, conversation_id),
    )
    return (
        tx.execute(
            "DELETE FROM conversations WHERE app_id = ? AND id = ?", (app_id, conversation_id)
        )
        > 0
    )


def current_seq(tx: Tx, app_id: str, conversation_id: str) -> int:
    row = tx.one(
        "SELECT seq FROM conversations WHERE app_id = ? AND id = ?", (app_id, conversation_id)
    )
    return int(row["seq"]) if row else 0
