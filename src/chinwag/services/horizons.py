"""What a former participant sees: the conversation frozen at the moment their access was
withdrawn (``None``) or their membership removed.

Rules kept here, for every path that shows a conversation to a user (SUBSCRIBE and its resume,
``GET me/conversations/{id}``, history pages, the Inbox and REST ``users/{id}/conversations``):

- Messages up to the horizon only (domain/access.py), each **as it was at the horizon**: an edit
  made later is not shown (storage.messages.as_of keeps every replaced version).
- The subject, photo, custom fields, welcome messages and guest policy as they were then.
- The participant list as it was then (without the user themselves), with the read positions of
  then, so ``readBy`` tells nothing that happened later either.

The snapshot is taken once, inside the transaction that withdraws or removes, and stored on the
membership (``participants.frozen``); giving access back clears it. A deleted message is gone for
everyone, former participants included: deleting removes content, it reveals none.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chinwag.domain.access import Access, GuestAccess
from chinwag.serialize import conversation_json, listed
from chinwag.storage import messages as msg_store
from chinwag.storage import participants as part_store
from chinwag.storage.db import Tx
from chinwag.storage.records import Conversation, Message, Participant


def snapshot(tx: Tx, app_id: str, conv: Conversation, leaving: str) -> dict[str, Any]:
    """The conversation as ``leaving`` sees it now, to keep as their frozen view."""
    return {
        "subject": conv.subject,
        "photoUrl": conv.photo_url,
        "welcomeMessages": conv.welcome_messages,
        "custom": conv.custom,
        "guestAccess": conv.guest_access.value,
        "participants": [
            {
                "userId": p.user_id,
                "access": p.access.value,
                "notify": p.notify,
                "readUntil": p.read_position,
                "joinedAt": p.joined_at,
            }
            for p in part_store.list_participants(tx, app_id, conv.id)
            if listed(p) and p.user_id != leaving
        ],
    }


def frozen(
    conv: Conversation, me: Participant | None, participants: list[Participant]
) -> tuple[Conversation, list[Participant]]:
    """The conversation and its participants as ``me`` may see them: as they are for a live
    member, as they were at the horizon for a former one."""
    if me is None or me.horizon is None or me.frozen is None:
        return conv, participants
    f = me.frozen
    then = replace(
        conv,
        subject=f["subject"],
        photo_url=f["photoUrl"],
        welcome_messages=f["welcomeMessages"],
        custom=f["custom"],
        guest_access=GuestAccess(f["guestAccess"]),
    )
    return then, [
        Participant(
            conversation_id=conv.id,
            user_id=p["userId"],
            access=Access(p["access"]),
            notify=p["notify"],
            member=True,
            horizon=None,
            read_position=int(p["readUntil"]),
            joined_at=int(p["joinedAt"]),
            seq=0,
        )
        for p in f["participants"]
    ]


def messages_seen(
    tx: Tx, app_id: str, conversation_id: str, messages: list[Message], horizon: int | None
) -> list[Message]:
    """``messages`` as a viewer with this horizon saw them (unchanged when it is None)."""
    if horizon is None:
        return messages
    return msg_store.as_of(tx, app_id, conversation_id, messages, horizon)


def conversation_for(
    tx: Tx,
    app_id: str,
    conv: Conversation,
    me: Participant | None,
    participants: list[Participant],
    last: Message | None,
) -> dict[str, Any]:
    """The conversation's JSON as ``me`` may see it (``last``: the newest message they see)."""
    shown, members = frozen(conv, me, participants)
    horizon = me.horizon if me is not None else None
    if last is not None and horizon is not None:
        last = messages_seen(tx, app_id, conv.id, [last], horizon)[0]
    return conversation_json(shown, members, last)


def conversation_at(
    tx: Tx, app_id: str, conv: Conversation, me: Participant | None, upto: int
) -> dict[str, Any]:
    """:func:`conversation_for` with the newest message at or below ``upto`` (what the viewer
    may read: ``domain.access.read_upto``)."""
    participants = part_store.list_participants(tx, app_id, conv.id)
    last = msg_store.last_messages(tx, app_id, [(conv.id, upto)]).get(conv.id)
    return conversation_for(tx, app_id, conv, me, participants, last)
