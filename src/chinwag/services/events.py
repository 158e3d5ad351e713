"""Events that services publish after their transaction commits.

An event names its app and (for conversation events) the conversation and the position of the
change, so a subscriber can tell a gap and catch up from the database, which stays the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

#: Every event type Chinwag emits; docs/protocol.md lists them and a test keeps both in step.
EVENT_TYPES = (
    "message.created",
    "message.edited",
    "message.deleted",
    "reaction.added",
    "reaction.removed",
    "participant.joined",
    "participant.access_changed",
    "participant.left",
    "conversation.updated",
    "conversation.deleted",
    "conversation.read",
    "typing.changed",
    "user.created",
    "user.updated",
    "user.contact_changed",
    "settings.updated",
    "conversation.guest_access_changed",
    "guest.kicked",
    "guest.banned",
    "guest.unbanned",
    "guest.muted",
    "guest.unmuted",
    "invite.created",
    "invite.revoked",
    "supervisor.viewed",
)


@dataclass(frozen=True)
class Event:
    type: str
    app_id: str
    data: dict[str, Any]
    conversation_id: str | None = None
    position: int | None = None
    # Users whose view of the conversation changed (joined, lost or regained access).
    affected_users: tuple[str, ...] = field(default=())


class EventSink(Protocol):
    def publish(self, events: list[Event]) -> None:
        """Called after commit with the events of one transaction, in order."""
        ...


class NullSink:
    def publish(self, events: list[Event]) -> None:
        return None


class RecordingSink:
    """Keeps every published event; for tests."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, events: list[Event]) -> None:
        self.events.extend(events)
