"""An app's notification channel switches (see :class:`chinwag.domain.notify.Channels`)."""

from __future__ import annotations

from chinwag.domain.notify import Channels
from chinwag.storage.db import Tx
from chinwag.storage.records import dumps, loads


def get(tx: Tx, app_id: str) -> Channels:
    row = tx.one("SELECT settings FROM notification_settings WHERE app_id = ?", (app_id,))
    return Channels.from_json(loads(row["settings"]) if row else None)


def put(tx: Tx, app_id: str, channels: Channels, now: int) -> None:
    updated = tx.execute(
        "UPDATE notification_settings SET settings = ?, updated_at = ? WHERE app_id = ?",
        (dumps(channels.to_json()), now, app_id),
    )
    if not updated:
        tx.execute(
            "INSERT INTO notification_settings (app_id, settings, updated_at) VALUES (?, ?, ?)",
            (app_id, dumps(channels.to_json()), now),
        )
