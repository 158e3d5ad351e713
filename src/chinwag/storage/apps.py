"""Apps and their secret keys."""

from __future__ import annotations

from chinwag.domain.settings import AppSettings
from chinwag.storage.db import Tx
from chinwag.storage.records import App, dumps


def insert_app(tx: Tx, app_id: str, name: str, settings: AppSettings, now: int) -> None:
    tx.execute(
        "INSERT INTO apps (id, name, settings, created_at) VALUES (?, ?, ?, ?)",
        (app_id, name, dumps(settings.to_json()), now),
    )


def insert_secret_key(tx: Tx, app_id: str, secret: str, now: int) -> None:
    tx.execute(
        "INSERT INTO secret_keys (secret, app_id, created_at) VALUES (?, ?, ?)",
        (secret, app_id, now),
    )


def get_app(tx: Tx, app_id: str) -> App | None:
    row = tx.one("SELECT * FROM apps WHERE id = ?", (app_id,))
    return App.from_row(row) if row else None


def list_apps(tx: Tx) -> list[App]:
    return [App.from_row(r) for r in tx.all("SELECT * FROM apps ORDER BY created_at, id")]


def secret_keys(tx: Tx, app_id: str) -> list[str]:
    rows = tx.all(
        "SELECT secret FROM secret_keys WHERE app_id = ? ORDER BY created_at, secret", (app_id,)
    )
    return [r["secret"] for r in rows]


def update_settings(tx: Tx, app_id: str, settings: AppSettings) -> None:
    tx.execute("UPDATE apps SET settings = ? WHERE id = ?", (dumps(settings.to_json()), app_id))
