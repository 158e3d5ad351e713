"""Records to the JSON shapes of the REST API (and the realtime events, which reuse them)."""

from __future__ import annotations

from typing import Any

from chinwag.domain import markup
from chinwag.domain.access import Access
from chinwag.storage.moderation import Invite
from chinwag.storage.records import Conversation, Message, Participant, User


def user_json(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "name": u.name,
        "welcomeMessage": u.welcome_message,
        "photoUrl": u.photo_url,
        "headerPhotoUrl": None,
        "role": u.role or "default",
        "email": u.email,
        "phone": u.phone,
        "custom": u.custom,
        "availabilityText": u.availability_text,
        "locale": u.locale,
        "createdAt": u.created_at,
        "pushTokens": {},
    }


def message_json(
    m: Message, read_by: list[str] | None = None, reactions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A message; ``reactions`` (history and REST reads) only when given: live events leave
    them out, and ``reaction.*`` events tell what changes."""
    out = {
        "id": m.id,
        "conversationId": m.conversation_id,
        "type": m.type,
        "senderId": m.sender_id,
        "text": m.text,
        "content": markup.content(m.text),
        "custom": m.custom,
        "readBy": read_by if read_by is not None else [],
        "attachment": None,
        "location": None,
        "origin": m.origin,
        "referencedMessageId": m.referenced_message_id,
        "createdAt": m.created_at,
        "editedAt": m.edited_at,
        "position": m.position,
    }
    if reactions is not None:
        out["reactions"] = reactions
    return out


def read_by(m: Message, participants: list[Participant]) -> list[str]:
    """Members who have read up to the message, the sender excluded."""
    return [
        p.user_id
        for p in participants
        if p.read_position >= m.position and p.user_id != m.sender_id
    ]


def participant_json(p: Participant) -> dict[str, Any]:
    return {"access": p.access.value, "notify": p.notify}


def participant_detail_json(p: Participant) -> dict[str, Any]:
    return {
        "userId": p.user_id,
        "access": p.access.value if p.member else "None",
        "notify": p.notify,
        "isMember": p.member,
        "joinedAt": p.joined_at,
        "readUntil": p.read_position,
        "historyUntil": p.horizon,
    }


def listed(p: Participant) -> bool:
    """Participants shown in a conversation's participant map and header."""
    return p.member and p.access is not Access.NONE


def conversation_json(
    c: Conversation, participants: list[Participant], last: Message | None
) -> dict[str, Any]:
    return {
        "id": c.id,
        "subject": c.subject,
        "photoUrl": c.photo_url,
        "welcomeMessages": c.welcome_messages,
        "custom": c.custom,
        "guestAccess": c.guest_access.value,
        "lastMessage": message_json(last, read_by(last, participants)) if last else None,
        "participants": {p.user_id: participant_json(p) for p in participants if listed(p)},
        "createdAt": c.created_at,
        "topicId": None,
    }


def invite_json(invite: Invite) -> dict[str, Any]:
    """An invite link's record, without its token (shown only once, when minted)."""
    return {
        "id": invite.id,
        "conversationId": invite.conversation_id,
        "access": invite.access.value,
        "expiresAt": invite.expires_at,
        "revokedAt": invite.revoked_at,
        "createdBy": invite.created_by,
        "createdAt": invite.created_at,
    }
