"""Webhook endpoints of one app: a URL and the event types it wants."""

from __future__ import annotations

from dataclasses import dataclass

from chinwag.storage.db import Row, Tx
from chinwag.storage.records import dumps, loads


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    events: list[str]  # ["*"] means every event
    enabled: bool
    created_at: int
    updated_at: int

    def wants(self, event_type: str) -> bool:
        return self.enabled and ("*" in self.events or event_type in self.events)

    @classmethod
    def from_row(cls, row: Row) -> Webhook:
        return cls(
            id=row["id"],
            url=row["url"],
            events=loads(row["events"]) or [],
            enabled=bool(row["enabled"]),
            created_at=int(row["created_at"]),
            updated_at=int(row["updated_at"]),
        )


def insert(
    tx: Tx, app_id: str, webhook_id: str, url: str, events: list[str], enabled: bool, now: int
) -> None:
    tx.execute(
        "INSERT INTO webhooks (app_id, id, url, events, enabled, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (app_id, webhook_id, url, dumps(events), 1 if enabled else 0, now, now),
    )


def update(
    tx: Tx, app_id: str, webhook_id: str, url: str, events: list[str], enabled: bool, now: int
) -> None:
    tx.execute(
        "UPDATE webhooks SET url = ?, events = ?, enabled = ?, updated_at = ? "
        "WHERE app_id = ? AND id = ?",
        (url, dumps(events), 1 if enabled else 0, now, app_id, webhook_id),
    )


def delete(tx: Tx, app_id: str, webhook_id: str) -> int:
    return tx.execute("DELETE FROM webhooks WHERE app_id = ? AND id = ?", (app_id, webhook_id))


def get(tx: Tx, app_id: str, webhook_id: str) -> Webhook | None:
    row = tx.one("SELECT * FROM webhooks WHERE app_id = ? AND id = ?", (app_id, webhook_id))
    return Webhook.from_row(row) if row else None


def list_for_app(tx: Tx, app_id: str) -> list[Webhook]:
    rows = tx.all("SELECT * FROM webhooks WHERE app_id = ? ORDER BY created_at, id", (app_id,))
    return [Webhook.from_row(r) for r in rows]


def enabled_for_app(tx: Tx, app_id: str) -> list[Webhook]:
    rows = tx.all("SELECT * FROM webhooks WHERE app_id = ? AND enabled = 1", (app_id,))
    return [Webhook.from_row(r) for r in rows]
