"""Users of one app."""

from __future__ import annotations

from typing import Any

from chinwag.storage.db import Tx
from chinwag.storage.records import User, dumps, like_literal

# Column for each REST field a PUT may change.
COLUMNS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "photoUrl": "photo_url",
    "role": "role",
    "locale": "locale",
    "welcomeMessage": "welcome_message",
    "availabilityText": "availability_text",
    "custom": "custom",
}
_JSON = {"email", "phone", "custom"}


def get_user(tx: Tx, app_id: str, user_id: str) -> User | None:
    row = tx.one("SELECT * FROM users WHERE app_id = ? AND id = ?", (app_id, user_id))
    return User.from_row(row) if row else None


def get_users(tx: Tx, app_id: str, user_ids: list[str]) -> dict[str, User]:
    if not user_ids:
        return {}
    marks = ",".join("?" * len(user_ids))
    rows = tx.all(f"SELECT * FROM users WHERE app_id = ? AND id IN ({marks})", (app_id, *user_ids))
    return {r["id"]: User.from_row(r) for r in rows}


def existing_ids(tx: Tx, app_id: str, user_ids: list[str]) -> set[str]:
    if not user_ids:
        return set()
    marks = ",".join("?" * len(user_ids))
    rows = tx.all(f"SELECT id FROM users WHERE app_id = ? AND id IN ({marks})", (app_id, *user_ids))
    return {r["id"] for r in rows}


def list_users(tx: Tx, app_id: str, limit: int, after: str | None) -> list[User]:
    if after is None:
        rows = tx.all("SELECT * FROM users WHERE app_id = ? ORDER BY id LIMIT ?", (app_id, limit))
    else:
        rows = tx.all(
            "SELECT * FROM users WHERE app_id = ? AND id > ? ORDER BY id LIMIT ?",
            (app_id, after, limit),
        )
    return [User.from_row(r) for r in rows]


def search_users(tx: Tx, app_id: str, text: str, limit: int) -> list[User]:
    """Users whose id starts with ``text`` or whose name contains it (any letter case)."""
    pattern = like_literal(text.lower())
    rows = tx.all(
        "SELECT * FROM users WHERE app_id = ? AND (LOWER(id) LIKE ? ESCAPE '\\' "
        "OR LOWER(name) LIKE ? ESCAPE '\\') ORDER BY id LIMIT ?",
        (app_id, pattern + "%", "%" + pattern + "%", limit),
    )
    return [User.from_row(r) for r in rows]


def insert_user(tx: Tx, app_id: str, user_id: str, fields: dict[str, Any], now: int) -> None:
    values = {COLUMNS[k]: (dumps(v) if k in _JSON else v) for k, v in fields.items()}
    values.setdefault("custom", "{}")
    cols = ["app_id", "id", *values, "created_at", "updated_at"]
    tx.execute(
        f"INSERT INTO users ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        (app_id, user_id, *values.values(), now, now),
    )


def update_user(tx: Tx, app_id: str, user_id: str, fields: dict[str, Any], now: int) -> None:
    values = {COLUMNS[k]: (dumps(v) if k in _JSON else v) for k, v in fields.items()}
    sets = ", ".join(f"{c} = ?" for c in values)
    tx.execute(
        f"UPDATE users SET {sets}, updated_at = ? WHERE app_id = ? AND id = ?",
        (*values.values(), now, app_id, user_id),
    )
