"""Messages, ordered by their per-conversation position; history pages use a keyset on it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chinwag.storage.db import Row, Tx
from chinwag.storage.records import Message, dumps, loads


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
    by_guest: bool = False,
) -> Message:
    """Store a message and return it as stored (one statement: INSERT ... RETURNING)."""
    row = tx.one(
        "INSERT INTO messages (app_id, conversation_id, position, id, type, sender_id, text, "
        "custom, referenced_message_id, origin, idempotency_key, created_at, seq, by_guest) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
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
            1 if by_guest else 0,
        ),
    )
    assert row is not None
    return Message.from_row(row)


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


def page_before_message(
    tx: Tx,
    app_id: str,
    conversation_id: str,
    limit: int,
    anchor_id: str,
    upto: int | None,
) -> list[Message]:
    """Newest first: live messages older than the message ``anchor_id`` (and <= ``upto``), in
    one statement; empty when the anchor is not in the conversation."""
    horizon = "" if upto is None else " AND position <= ?"
    rows = tx.all(
        "SELECT * FROM messages WHERE app_id = ? AND conversation_id = ? AND position < "
        "(SELECT position FROM messages WHERE app_id = ? AND id = ? AND conversation_id = ?)"
        f"{horizon} AND deleted_at IS NULL ORDER BY position DESC LIMIT ?",
        (
            app_id,
            conversation_id,
            app_id,
            anchor_id,
            conversation_id,
            *(() if upto is None else (upto,)),
            limit,
        ),
    )
    return [Message.from_row(r) for r in rows]


def last_messages(tx: Tx, app_id: str, keys: list[tuple[str, int]]) -> dict[str, Message]:
    """The newest live message at or below a bound, for each ``(conversation_id, bound)``.

    One statement for all the keys (an inbox page asks for up to 100), each found by a backward
    probe of the primary key, as a single key would be.
    """
    bounds = dict(keys)
    if not bounds:
        return {}
    wanted, params = _rows(tx, list(bounds.items()))
    rows = tx.all(
        f"WITH wanted (conversation_id, bound) AS ({wanted}), "
        "newest (conversation_id, position) AS (SELECT w.conversation_id, "
        "(SELECT x.position FROM messages x WHERE x.app_id = ? "
        "AND x.conversation_id = w.conversation_id AND x.position <= w.bound "
        "AND x.deleted_at IS NULL ORDER BY x.position DESC LIMIT 1) FROM wanted w) "
        "SELECT m.* FROM newest n JOIN messages m ON m.app_id = ? "
        "AND m.conversation_id = n.conversation_id AND m.position = n.position",
        (*params, app_id, app_id),
    )
    return {r["conversation_id"]: Message.from_row(r) for r in rows}


def _rows(tx: Tx, rows: list[tuple[Any, ...]]) -> tuple[str, list[Any]]:
    """A query yielding ``rows`` (a text column, then BIGINT columns) for a WITH clause.

    PostgreSQL gets one array per column, so the statement text is the same for every page size
    and is planned and prepared once per connection; SQLite gets a VALUES list.
    """
    width = len(rows[0])
    if tx.dialect == "postgresql":
        arrays = ", ".join(["CAST(? AS TEXT[])"] + ["CAST(? AS BIGINT[])"] * (width - 1))
        return f"SELECT * FROM unnest({arrays})", [
            list(column) for column in zip(*rows, strict=True)
        ]
    row = "(?" + ", CAST(? AS BIGINT)" * (width - 1) + ")"
    return "VALUES " + ", ".join([row] * len(rows)), [v for r in rows for v in r]


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
    """Edit a message at position ``seq``, keeping the version it replaces (see
    :func:`as_of`)."""
    tx.execute(
        "INSERT INTO message_revisions (app_id, conversation_id, message_id, replaced_at, "
        "version_seq, text, custom, edited_at) "
        "SELECT app_id, conversation_id, id, ?, seq, text, custom, edited_at "
        "FROM messages WHERE app_id = ? AND conversation_id = ? AND id = ?",
        (seq, app_id, conversation_id, message_id),
    )
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
    """Delete a message's content but keep its row, so the order and resume stay intact; its
    earlier versions go too (a deleted message is gone for everyone)."""
    tx.execute(
        "DELETE FROM message_revisions WHERE app_id = ? AND conversation_id = ? "
        "AND message_id = ?",
        (app_id, conversation_id, message_id),
    )
    tx.execute(
        "DELETE FROM reactions WHERE app_id = ? AND conversation_id = ? AND message_id = ?",
        (app_id, conversation_id, message_id),
    )
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


def unread_counts(
    tx: Tx, app_id: str, user_id: str, ranges: list[tuple[str, int, int]]
) -> dict[str, int]:
    """:func:`unread_count` for many ``(conversation_id, after, upto)`` in one statement."""
    counts = {conversation_id: 0 for conversation_id, _, _ in ranges}
    nonempty = [r for r in ranges if r[2] > r[1]]
    if not nonempty:
        return counts
    wanted, params = _rows(tx, nonempty)
    rows = tx.all(
        f"WITH wanted (conversation_id, after, upto) AS ({wanted}) "
        "SELECT w.conversation_id, (SELECT COUNT(*) FROM messages m WHERE m.app_id = ? "
        "AND m.conversation_id = w.conversation_id AND m.position > w.after "
        "AND m.position <= w.upto AND m.deleted_at IS NULL "
        "AND (m.sender_id IS NULL OR m.sender_id <> ?)) AS n FROM wanted w",
        (*params, app_id, user_id),
    )
    counts.update({r["conversation_id"]: int(r["n"]) for r in rows})
    return counts


def as_of(tx: Tx, app_id: str, conversation_id: str, messages: list[Message], upto: int) -> list[
    Message
]:
    """``messages`` as they were at position ``upto`` (a horizon): a message edited later shows
    the text and custom data it had then. Messages unchanged since cost nothing."""
    later = [m for m in messages if m.seq > upto and m.deleted_at is None]
    if not later:
        return messages
    found: dict[str, Row] = {}
    for m in later:
        row = tx.one(
            "SELECT text, custom, edited_at, version_seq FROM message_revisions "
            "WHERE app_id = ? AND conversation_id = ? AND message_id = ? AND replaced_at > ? "
            "ORDER BY replaced_at LIMIT 1",
            (app_id, conversation_id, m.id, upto),
        )
        if row is not None:
            found[m.id] = row
    out = []
    for m in messages:
        row = found.get(m.id)
        if row is None:
            out.append(m)
            continue
        out.append(
            replace(
                m,
                text=row["text"],
                custom=loads(row["custom"]) or {},
                edited_at=row["edited_at"],
                seq=int(row["version_seq"]),
            )
        )
    return out
