"""Guest restrictions (bans, mutes) and invite links."""

from __future__ import annotations

from dataclasses import dataclass

from chinwag.domain.access import GuestAccess
from chinwag.domain.moderation import Restriction, RestrictionKind
from chinwag.storage.db import Row, Tx


@dataclass(frozen=True)
class RestrictionRow:
    user_id: str
    restriction: Restriction
    reason: str | None
    created_by: str
    created_at: int

    @classmethod
    def from_row(cls, row: Row) -> RestrictionRow:
        return cls(
            row["user_id"],
            Restriction(RestrictionKind(row["kind"]), row["until"]),
            row["reason"],
            row["created_by"],
            row["created_at"],
        )


def restrictions_of(tx: Tx, app_id: str, conversation_id: str, user_id: str) -> list[Restriction]:
    rows = tx.all(
        "SELECT * FROM guest_restrictions WHERE app_id = ? AND conversation_id = ? AND user_id = ?",
        (app_id, conversation_id, user_id),
    )
    return [RestrictionRow.from_row(r).restriction for r in rows]


def list_restrictions(tx: Tx, app_id: str, conversation_id: str) -> list[RestrictionRow]:
    rows = tx.all(
        "SELECT * FROM guest_restrictions WHERE app_id = ? AND conversation_id = ? "
        "ORDER BY created_at, user_id, kind",
        (app_id, conversation_id),
    )
    return [RestrictionRow.from_row(r) for r in rows]


def put_restriction(
    tx: Tx,
    app_id: str,
    conversation_id: str,
    user_id: str,
    kind: RestrictionKind,
    until: int | None,
    reason: str | None,
    actor: str,
    now: int,
) -> None:
    tx.execute(
        "DELETE FROM guest_restrictions WHERE app_id = ? AND conversation_id = ? AND user_id = ? "
        "AND kind = ?",
        (app_id, conversation_id, user_id, kind.value),
    )
    tx.execute(
        "INSERT INTO guest_restrictions (app_id, conversation_id, user_id, kind, until, reason, "
        "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (app_id, conversation_id, user_id, kind.value, until, reason, actor, now),
    )


def delete_restriction(
    tx: Tx, app_id: str, conversation_id: str, user_id: str, kind: RestrictionKind
) -> bool:
    return (
        tx.execute(
            "DELETE FROM guest_restrictions WHERE app_id = ? AND conversation_id = ? "
            "AND user_id = ? AND kind = ?",
            (app_id, conversation_id, user_id, kind.value),
        )
        > 0
    )


@dataclass(frozen=True)
class Invite:
    id: str
    conversation_id: str
    access: GuestAccess
    expires_at: int
    revoked_at: int | None
    created_by: str
    created_at: int

    @classmethod
    def from_row(cls, row: Row) -> Invite:
        return cls(
            row["id"],
            row["conversation_id"],
            GuestAccess(row["access"]),
            row["expires_at"],
            row["revoked_at"],
            row["created_by"],
            row["created_at"],
        )


def insert_invite(tx: Tx, app_id: str, invite: Invite) -> None:
    tx.execute(
        "INSERT INTO invites (app_id, id, conversation_id, access, expires_at, revoked_at, "
        "created_by, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
        (
            app_id,
            invite.id,
            invite.conversation_id,
            invite.access.value,
            invite.expires_at,
            invite.created_by,
            invite.created_at,
        ),
    )


def get_invite(tx: Tx, app_id: str, invite_id: str) -> Invite | None:
    row = tx.one("SELECT * FROM invites WHERE app_id = ? AND id = ?", (app_id, invite_id))
    return Invite.from_row(row) if row else None


def list_invites(tx: Tx, app_id: str, conversation_id: str) -> list[Invite]:
    rows = tx.all(
        "SELECT * FROM invites WHERE app_id = ? AND conversation_id = ? ORDER BY created_at, id",
        (app_id, conversation_id),
    )
    return [Invite.from_row(r) for r in rows]


def revoke_invite(tx: Tx, app_id: str, invite_id: str, now: int) -> bool:
    return (
        tx.execute(
            "UPDATE invites SET revoked_at = ? WHERE app_id = ? AND id = ? AND revoked_at IS NULL",
            (now, app_id, invite_id),
        )
        > 0
    )
