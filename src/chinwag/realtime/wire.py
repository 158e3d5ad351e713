"""Services' events as clients see them, and the envelope they travel in between nodes.

A client event is ``{"type", "conversationId", "position", ...data}``. On the bus an event travels
as one line of routing header and the client event's JSON, serialized once by the node that
committed it; receiving nodes read the small header and forward the event text untouched:

    {"t": type, "p": position, "u": [affected user ids], "m": [access, member, horizon],
     "at": Unix seconds of the publish, ...}\n
    {"type": "message.created", "conversationId": "c1", "position": 7, "message": {...}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chinwag.domain.access import Access, GuestAccess, Membership
from chinwag.services.events import Event

#: Events about memberships; they also go to the app's session channel, so a user who is not
#: watching the conversation still learns they were added or lost access.
MEMBERSHIP_EVENTS = frozenset(
    {"participant.joined", "participant.access_changed", "participant.left"}
)


#: Events sessions never receive: audit-only facts (an unannounced supervisor view must stay
#: unseen; invite ids are the integrator's business), and user records.
NOT_FOR_SESSIONS = frozenset(
    {
        "supervisor.viewed",
        "invite.created",
        "user.created",
        "user.updated",
        "user.contact_changed",
    }
)

#: Events that travel to the nodes but reach no client: the hub acts on them (a revoked
#: invite unlinks the guests it admitted), and the invite's id stays the integrator's business.
FOR_HUBS_ONLY = frozenset({"invite.revoked"})


def conversation_channel(app_id: str, conversation_id: str) -> str:
    return f"{app_id}:c:{conversation_id}"


def app_channel(app_id: str) -> str:
    return f"{app_id}:app"


def client_event(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"type": event.type}
    if event.conversation_id is not None:
        out["conversationId"] = event.conversation_id
        out["position"] = event.position
    out.update(event.data)
    return out


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Header:
    type: str
    conversation_id: str | None
    position: int | None
    users: tuple[str, ...]
    membership: Membership | None  # for participant events: the affected user's new membership
    guest_access: GuestAccess | None  # for conversation.updated: the new guest policy
    invite: str | None = None  # for invite.revoked: the invite's id
    sent_at: float | None = None  # Unix seconds of the publish (None: replayed from storage)


def _header(event: Event) -> dict[str, Any]:
    head: dict[str, Any] = {"t": event.type, "c": event.conversation_id, "p": event.position}
    if event.affected_users:
        head["u"] = list(event.affected_users)
    participant = event.data.get("participant")
    if event.type in MEMBERSHIP_EVENTS and isinstance(participant, dict):
        head["m"] = [participant["access"], participant["isMember"], participant["historyUntil"]]
    conversation = event.data.get("conversation")
    if event.type == "conversation.updated" and isinstance(conversation, dict):
        head["g"] = conversation.get("guestAccess")
    if event.type in FOR_HUBS_ONLY:
        head["i"] = event.data.get("inviteId")
    return head


def envelopes(event: Event, sent_at: float | None = None) -> list[tuple[str, str]]:
    """The (channel, payload) pairs an event is published as; empty if no session cares.
    ``sent_at`` (Unix seconds) lets receiving nodes measure the publish-to-socket latency."""
    if event.type in NOT_FOR_SESSIONS:
        return []
    if event.conversation_id is None and event.type != "settings.updated":
        return []
    text = "{}" if event.type in FOR_HUBS_ONLY else _dumps(client_event(event))
    head = _header(event)
    if sent_at is not None:
        head["at"] = round(sent_at, 4)
    payload = _dumps(head) + "\n" + text
    if event.conversation_id is None:
        return [(app_channel(event.app_id), payload)]
    out = [(conversation_channel(event.app_id, event.conversation_id), payload)]
    if event.type in MEMBERSHIP_EVENTS:
        out.append((app_channel(event.app_id), payload))
    return out


def encode(event: Event) -> tuple[Header, str]:
    """Header and event text for an event made on this node (catch-up from the database)."""
    return read_header(_dumps(_header(event))), _dumps(client_event(event))


def read_header(line: str) -> Header:
    head = json.loads(line)
    m = head.get("m")
    membership = None
    if m is not None:
        membership = Membership(access=Access(m[0]), member=bool(m[1]), horizon=m[2])
    g = head.get("g")
    return Header(
        type=head["t"],
        conversation_id=head.get("c"),
        position=head.get("p"),
        users=tuple(head.get("u", ())),
        membership=membership,
        guest_access=GuestAccess(g) if g else None,
        invite=head.get("i"),
        sent_at=head.get("at"),
    )


def decode(payload: str) -> tuple[Header, str]:
    line, _, text = payload.partition("\n")
    return read_header(line), text
