"""Memberships of users in conversations, current and past."""

from __future__ import annotations

from typing import Any

from chinwag.domain.access import Membership
from chinwag.domain.permissions import Authority
from chinwag.storage.db import Tx
from chinwag.storage.records import Participant, dumps, notify_to_db


def get_participant(tx: Tx, app_id: str, conversation_id: str, user_id: str) -> Participant | None:
    row = tx.one(
        "SELECT * FROM participants WHERE app_id = ? AND conversation_id = ? AND user_id = ?",
        (app_id, conversation_id, user_id),
    )
    return Participant.from_row(row) if row else None


def list_participants(tx: Tx, app_id: str, conversation_id: str) -> list[Participant]:
    rows = tx.all(
        "SELECT * FROM participants WHERE app_id = ? AND conversation_id = ? "
        "ORDER BY joined_at, user_id",
        (app_id, conversation_id),
    )
    return [Participant.from_row(r) for r in rows]


def lifetime_count(tx: Tx, app_id: str, conversation_id: str) -> int:
    row = tx.one(
        "SELECT COUNT(*) AS n FROM participants WHERE app_id = ? AND conversation_id = ?",
        (app_id, conversation_id),
    )
    return int(row["n"]) if row else 0


def lifetime_ids(tx: Tx, app_id: str, conversation_id: str) -> list[str]:
    """Everyone who has been a participant (removed ones included)."""
    rows = tx.all(
        "SELECT user_id FROM participants WHERE app_id = ? AND conversation_id = ?",
        (app_id, conversation_id),
    )
    return [r["user_id"] for r in rows]


def upsert_participant(
    tx: Tx,
    app_id: str,
    conversation_id: str,
    user_id: str,
    membership: Membership,
    notify: bool | str,
    seq: int,
    now: int,
    frozen_activity_at: int | None,
    rejoined: bool,
    set_by: tuple[Authority, Authority] = (Authority.BACKEND, Authority.BACKEND),
    frozen: dict[str, Any] | None = None,
) -> None:
    """Write a membership. ``rejoined`` resets the join time (a removed user added again);
    ``set_by`` is who set its access and its notify; ``frozen`` the view kept at its horizon."""
    values = (
        membership.access.value,
        notify_to_db(notify),
        1 if membership.member else 0,
        membership.horizon,
        frozen_activity_at,
        seq,
        set_by[0].stored(),
        set_by[1].stored(),
        dumps(frozen),
    )
    updated = tx.execute(
        "UPDATE participants SET access = ?, notify = ?, member = ?, horizon = ?, "
        "frozen_activity_at = ?, seq = ?, access_set_by = ?, notify_set_by = ?, frozen = ?"
        + (", joined_at = ?, joined_seq = ?" if rejoined else "")
        + " WHERE app_id = ? AND conversation_id = ? AND user_id = ?",
        (*values, *((now, seq) if rejoined else ()), app_id, conversation_id, user_id),
    )
    if updated == 0:
        tx.execute(
            "INSERT INTO participants (access, notify, member, horizon, frozen_activity_at, seq, "
            "access_set_by, notify_set_by, frozen, app_id, conversation_id, user_id, "
            "read_position, joined_at, joined_seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            (*values, app_id, conversation_id, user_id, now, seq),
        )


def set_read_position(
    tx: Tx, app_id: str, conversation_id: str, user_id: str, position: int
) -> None:
    tx.execute(
        "UPDATE participants SET read_position = ? WHERE app_id = ? AND conversation_id = ? "
        "AND user_id = ? AND read_position < ?",
        (position, app_id, conversation_id, user_id, position),
    )
