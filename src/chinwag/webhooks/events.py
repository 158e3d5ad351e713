"""Webhook event types, and the one place that maps Chinwag's internal events onto them.

A webhook body is ``{"type", "data", "id", "createdAt"}``; ``id`` is unique per event and stays
the same across retries, so a receiver can drop duplicates.
"""

from __future__ import annotations

import json
from typing import Any

from chinwag.serialize import user_json
from chinwag.services.events import Event
from chinwag.storage import conversations as conv_store
from chinwag.storage import users as user_store
from chinwag.storage.db import Tx

#: Every webhook event type and what it means; docs/webhooks.md lists them and a test checks it.
WEBHOOK_EVENTS: dict[str, str] = {
    "message.sent": "A message was stored (users', guests' and system messages).",
    "message.updated": "A message's text or custom data was edited.",
    "message.deleted": "A message was deleted.",
    "reaction.added": "A user added an emoji reaction to a message.",
    "reaction.removed": "A user removed an emoji reaction from a message.",
    "conversation.updated": "A conversation was created or its attributes changed.",
    "conversation.deleted": "A conversation was deleted.",
    "user.created": "A user was created.",
    "user.updated": "A user's fields changed.",
    "participant.joined": "A user became a participant (or was added back).",
    "participant.access_changed": "A participant's access or notify setting changed.",
    "participant.removed": "A participant was removed (REST DELETE).",
    "conversation.read": "A participant's read position moved (they read up to a message).",
    "notification.triggered": "A notification batch became due and will be sent to a user.",
    "notification.sent": "An email or SMS of a notification was handed to the provider.",
}

#: Internal event type -> webhook event type. Internal events not listed are not forwarded.
FROM_INTERNAL: dict[str, str] = {
    "message.created": "message.sent",
    "message.edited": "message.updated",
    "message.deleted": "message.deleted",
    "reaction.added": "reaction.added",
    "reaction.removed": "reaction.removed",
    "conversation.updated": "conversation.updated",
    "conversation.deleted": "conversation.deleted",
    "user.created": "user.created",
    "user.updated": "user.updated",
    "participant.joined": "participant.joined",
    "participant.access_changed": "participant.access_changed",
    "participant.left": "participant.removed",
    "conversation.read": "conversation.read",
}


def body(event_type: str, data: dict[str, Any], event_id: str, created_at: int) -> str:
    """The exact JSON text sent (and signed); stored so retries send the same bytes."""
    envelope = {"type": event_type, "data": data, "id": event_id, "createdAt": created_at}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def conversation_ref(tx: Tx, app_id: str, conversation_id: str) -> dict[str, Any]:
    conv = conv_store.get_conversation(tx, app_id, conversation_id)
    if conv is None:
        return {"id": conversation_id}
    return {
        "id": conv.id,
        "subject": conv.subject,
        "photoUrl": conv.photo_url,
        "custom": conv.custom,
    }


def sender_ref(tx: Tx, app_id: str, sender_id: str | None, guest: bool) -> dict[str, Any] | None:
    if sender_id is None:
        return None
    user = user_store.get_user(tx, app_id, sender_id)
    ref = user_json(user) if user is not None else {"id": sender_id}
    return {**ref, "isGuest": guest}


def webhook_data(tx: Tx, event: Event) -> dict[str, Any]:
    """The ``data`` of the webhook for an internal event, read inside its transaction.

    Lenient about the event's shape (``.get`` everywhere): a webhook must never make the change
    that caused it fail.
    """
    data = {k: v for k, v in event.data.items() if k != "guest"}
    d = event.data
    if event.type in ("message.created", "message.edited"):
        message = d.get("message") or {}
        conversation_id = message.get("conversationId") or event.conversation_id or ""
        data["conversation"] = conversation_ref(tx, event.app_id, conversation_id)
        data["sender"] = sender_ref(tx, event.app_id, message.get("senderId"), bool(d.get("guest")))
    elif event.type == "message.deleted":
        conversation_id = d.get("conversationId") or event.conversation_id or ""
        data = {
            "message": {
                "id": d.get("messageId"),
                "conversationId": conversation_id,
                "position": d.get("position"),
            },
            "conversation": conversation_ref(tx, event.app_id, conversation_id),
        }
    elif event.type in ("conversation.read", "reaction.added", "reaction.removed"):
        conversation_id = d.get("conversationId") or event.conversation_id or ""
        data["conversation"] = conversation_ref(tx, event.app_id, conversation_id)
    elif event.type.startswith("participant."):
        conversation_id = d.get("conversationId") or event.conversation_id or ""
        data["conversation"] = conversation_ref(tx, event.app_id, conversation_id)
    return data
