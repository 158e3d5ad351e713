"""Dashboard sign-ins: the server-side half of the admin's session cookie."""

from __future__ import annotations

from chinwag.storage.db import Tx


def insert(tx: Tx, session_id: str, now: int, expires_at: int) -> None:
    tx.execute(
        "INSERT INTO admin_sessions (id, created_at, expires_at) VALUES (?, ?, ?)",
        (session_id, now, expires_at),
    )


def is_open(tx: Tx, session_id: str, now: int) -> bool:
    row = tx.one(
        "SELECT 1 AS ok FROM admin_sessions WHERE id = ? AND revoked_at IS NULL AND expires_at > ?",
        (session_id, now),
    )
    return row is not None


def revoke(tx: Tx, session_id: str, now: int) -> None:
    tx.execute(
        "UPDATE admin_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        (now, session_id),
    )


def revoke_all(tx: Tx, now: int) -> None:
    tx.execute("UPDATE admin_sessions SET revoked_at = ? WHERE revoked_at IS NULL", (now,))


def forget_expired(tx: Tx, now: int) -> None:
    """Drop rows whose session is over anyway (a sign-in is the time to tidy up)."""
    tx.execute("DELETE FROM admin_sessions WHERE expires_at <= ?", (now,))
