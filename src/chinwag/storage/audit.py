"""The append-only audit log: rows are inserted and read, never updated or deleted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chinwag.storage.db import Row, Tx
from chinwag.storage.records import dumps, loads


@dataclass(frozen=True)
class AuditEntry:
    id: str
    at: int
    actor: str
    action: str
    conversation_id: str | None
    user_id: str | None
    data: dict[str, Any]

    @classmethod
    def from_row(cls, row: Row) -> AuditEntry:
        return cls(
            row["id"],
            row["at"],
            row["actor"],
            row["action"],
            row["conversation_id"],
            row["user_id"],
            loads(row["data"]) or {},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "conversationId": self.conversation_id,
            "userId": self.user_id,
            "data": self.data,
        }


def append(tx: Tx, app_id: str, entry: AuditEntry) -> None:
    tx.execute(
        "INSERT INTO audit_log (app_id, id, at, actor, action, conversation_id, user_id, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            app_id,
            entry.id,
            entry.at,
            entry.actor,
            entry.action,
            entry.conversation_id,
            entry.user_id,
            dumps(entry.data),
        ),
    )


def page(
    tx: Tx,
    app_id: str,
    limit: int,
    after: str | None,
    conversation_id: str | None,
    newest_first: bool = False,
) -> list[AuditEntry]:
    """Oldest first; ``after`` is the id of the last entry of the previous page. With
    ``newest_first`` the order turns, and ``after`` pages on toward older entries."""
    sql = "SELECT * FROM audit_log WHERE app_id = ?"
    params: list[object] = [app_id]
    if conversation_id is not None:
        sql += " AND conversation_id = ?"
        params.append(conversation_id)
    if after is not None:
        sql += " AND id < ?" if newest_first else " AND id > ?"
        params.append(after)
    sql += " ORDER BY id DESC LIMIT ?" if newest_first else " ORDER BY id LIMIT ?"
    params.append(limit)
    return [AuditEntry.from_row(r) for r in tx.all(sql, params)]
