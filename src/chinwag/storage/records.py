"""Typed records read from storage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chinwag.domain.access import Access, GuestAccess, Membership
from chinwag.domain.permissions import Authority
from chinwag.domain.settings import AppSettings
from chinwag.storage.db import Row


def dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def like_literal(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern written with ``ESCAPE '\\'``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def loads(value: str | None) -> Any:
    if value is None:
        return None
    if value == "{}":  # most custom maps are empty: skip the parser
        return {}
    return json.loads(value)


@dataclass(frozen=True)
class App:
    id: str
    name: str
    settings: AppSettings
    created_at: int

    @classmethod
    def from_row(cls, row: Row) -> App:
        return cls(
            row["id"], row["name"], AppSettings.from_json(loads(row["settings"])), row["created_at"]
        )


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: list[str] | None
    phone: list[str] | None
    photo_url: str | None
    role: str | None
    locale: str | None
    welcome_message: str | None
    availability_text: str | None
    custom: dict[str, str]
    created_at: int

    @classmethod
    def from_row(cls, row: Row) -> User:
        return cls(
            id=row["id"],
            name=row["name"],
            email=loads(row["email"]),
            phone=loads(row["phone"]),
            photo_url=row["photo_url"],
            role=row["role"],
            locale=row["locale"],
            welcome_message=row["welcome_message"],
            availability_text=row["availability_text"],
            custom=loads(row["custom"]) or {},
            created_at=row["created_at"],
        )


@dataclass(frozen=True)
class Conversation:
    id: str
    subject: str | None
    photo_url: str | None
    welcome_messages: list[str] | None
    custom: dict[str, str]
    guest_access: GuestAccess
    seq: int
    last_message_at: int | None
    created_at: int
    #: The actor that created it ("backend", "user:<id>", "admin:<name>"); None before 2026-12.
    created_by: str | None = None
    #: Who set ``guest_access`` explicitly; None: never set, the default policy applies
    #: (domain.permissions.default_guest_access).
    guest_access_set_by: Authority | None = None

    @classmethod
    def from_row(cls, row: Row) -> Conversation:
        return cls(
            id=row["id"],
            subject=row["subject"],
            photo_url=row["photo_url"],
            welcome_messages=loads(row["welcome_messages"]),
            custom=loads(row["custom"]) or {},
            guest_access=GuestAccess(row["guest_access"]),
            seq=int(row["seq"]),
            last_message_at=row["last_message_at"],
            created_at=row["created_at"],
            created_by=row["created_by"],
            guest_access_set_by=Authority.of(row["guest_access_set_by"]),
        )


def notify_from_db(value: str) -> bool | str:
    return {"true": True, "false": False}.get(value, value)


def notify_to_db(value: bool | str) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


@dataclass(frozen=True)
class Participant:
    conversation_id: str
    user_id: str
    access: Access
    notify: bool | str
    member: bool
    horizon: int | None
    read_position: int
    joined_at: int
    seq: int
    #: Who set the access (and the membership itself) last, and who set notify last.
    access_set_by: Authority = Authority.BACKEND
    notify_set_by: Authority = Authority.BACKEND
    #: The conversation as this user saw it when access was withdrawn or the membership
    #: removed (services/horizons.py); None while live (and for rows frozen before 2026-12).
    frozen: dict[str, Any] | None = None
    #: The position at which the current membership began (None for rows from before 2026-12).
    joined_seq: int | None = None

    @property
    def membership(self) -> Membership:
        return Membership(access=self.access, member=self.member, horizon=self.horizon)

    @classmethod
    def from_row(cls, row: Row) -> Participant:
        return cls(
            conversation_id=row["conversation_id"],
            user_id=row["user_id"],
            access=Access(row["access"]),
            notify=notify_from_db(row["notify"]),
            member=bool(row["member"]),
            horizon=row["horizon"],
            read_position=int(row["read_position"]),
            joined_at=row["joined_at"],
            seq=int(row["seq"]),
            access_set_by=Authority.of(row["access_set_by"]) or Authority.BACKEND,
            notify_set_by=Authority.of(row["notify_set_by"]) or Authority.BACKEND,
            frozen=loads(row["frozen"]),
            joined_seq=row["joined_seq"],
        )


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    position: int
    type: str
    sender_id: str | None
    text: str
    custom: dict[str, str]
    referenced_message_id: str | None
    origin: str
    idempotency_key: str | None
    created_at: int
    edited_at: int | None
    deleted_at: int | None
    seq: int
    #: Sent by a user watching as a guest.
    by_guest: bool = False

    @classmethod
    def from_row(cls, row: Row) -> Message:
        return cls(
            id=row["id"],
            conversation_id=row["conversation_id"],
            position=int(row["position"]),
            type=row["type"],
            sender_id=row["sender_id"],
            text=row["text"],
            custom=loads(row["custom"]) or {},
            referenced_message_id=row["referenced_message_id"],
            origin=row["origin"],
            idempotency_key=row["idempotency_key"],
            created_at=row["created_at"],
            edited_at=row["edited_at"],
            deleted_at=row["deleted_at"],
            seq=int(row["seq"]),
            by_guest=bool(row["by_guest"]),
        )
