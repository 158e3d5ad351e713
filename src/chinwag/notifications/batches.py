"""A due notification batch, evaluated once in one transaction into deliveries.

The rules are asked again with what is true now; when something is left to say, one ``email``
row per usable address and one ``sms`` row per usable number are written, plus the
``notification.triggered`` webhook, and the batch is done. Otherwise it is ``cancelled`` with
the reason. Because all of this commits together, a batch is never evaluated twice.
"""

from __future__ import annotations

from typing import Any

from chinwag.domain import markup
from chinwag.domain import notify as rules
from chinwag.notifications.enqueue import enqueue_webhook
from chinwag.notifications.presence import Presence
from chinwag.serialize import participant_detail_json
from chinwag.storage import notification_settings as channel_store
from chinwag.storage import outbox
from chinwag.storage import participants as part_store
from chinwag.storage import users as user_store
from chinwag.storage import webhooks as hook_store
from chinwag.storage.db import Tx
from chinwag.storage.outbox import OutboxItem
from chinwag.webhooks.events import conversation_ref


def evaluate(tx: Tx, item: OutboxItem, now: int, presence: Presence, link_template: str) -> str:
    """Turn the batch into deliveries; return the batch's final status."""
    assert item.conversation_id is not None and item.user_id is not None
    app_id, conversation_id, user_id = item.app_id, item.conversation_id, item.user_id

    def cancel(reason: str) -> str:
        outbox.finish(tx, item.id, "cancelled", now, error=reason)
        return "cancelled"

    participant = part_store.get_participant(tx, app_id, conversation_id, user_id)
    user = user_store.get_user(tx, app_id, user_id)
    if participant is None or user is None:
        return cancel("no longer a participant")
    emails, phones = rules.usable_channels(
        channel_store.get(tx, app_id), user.role, user.email, user.phone
    )
    candidate = rules.Candidate(
        user_id, participant.membership, participant.notify, bool(emails or phones)
    )
    listed = item.payload.get("messages", [])
    rows = outbox.batch_messages(tx, app_id, conversation_id, [m["id"] for m in listed])
    pending = [
        rules.Pending(int(r["position"]), r["sender_id"], r["text"], r["deleted_at"] is not None)
        for r in rows
    ]
    viewing = presence.is_viewing(app_id, user_id, conversation_id)
    keep = rules.still_unread(candidate, participant.read_position, pending, viewing)
    if not keep:
        if viewing:
            return cancel("the user is viewing the conversation")
        if not rules.may_be_notified(candidate):
            return cancel("the user may not be notified any more (access, notify or channels)")
        return cancel("nothing unread left")
    kept = {m.position for m in keep}
    by_position = {int(r["position"]): r for r in rows}
    senders = user_store.get_users(
        tx, app_id, sorted({r["sender_id"] for r in rows if r["sender_id"]})
    )
    messages = []
    for position in sorted(kept):
        r = by_position[position]
        sender = senders.get(r["sender_id"])
        messages.append(
            {
                "id": r["id"],
                "senderId": r["sender_id"],
                "senderName": sender.name if sender else r["sender_id"],
                "text": r["text"],
                "content": markup.content(r["text"]),
                "createdAt": r["created_at"],
            }
        )
    # Mentions show as names in emails and SMS, as they do in the chat.
    mentioned = sorted({uid for m in messages for uid in markup.mentions(m["text"])})
    people = user_store.get_users(tx, app_id, mentioned) if mentioned else {}
    conversation = conversation_ref(tx, app_id, conversation_id)
    link = link_template.format(appId=app_id, conversationId=conversation_id, userId=user_id)
    content: dict[str, Any] = {
        "appId": app_id,
        "batchId": item.id,
        "conversation": {"id": conversation_id, "subject": conversation.get("subject")},
        "recipient": {"id": user.id, "name": user.name},
        "messages": messages,
        "names": {uid: u.name or uid for uid, u in people.items()},
        "link": link,
    }
    for kind, targets in (("email", emails), ("sms", phones)):
        for target in targets:
            outbox.insert(
                tx,
                app_id,
                kind,
                content,
                now,
                target=target,
                conversation_id=conversation_id,
                user_id=user_id,
                parent_id=item.id,
            )
    endpoints = hook_store.enabled_for_app(tx, app_id)
    enqueue_webhook(
        tx,
        app_id,
        endpoints,
        "notification.triggered",
        {
            "notification": {
                "id": item.id,
                "channels": ["email"] * bool(emails) + ["sms"] * bool(phones),
                "messages": messages,
                "link": link,
            },
            "conversation": conversation,
            "recipient": {"id": user.id, "name": user.name, "role": user.role or "default"},
            "participant": participant_detail_json(participant),
        },
        now,
    )
    outbox.finish(tx, item.id, "sent", now)
    return "sent"


def sent_webhook(tx: Tx, item: OutboxItem, now: int) -> None:
    """``notification.sent`` for one delivery handed to its provider."""
    endpoints = hook_store.enabled_for_app(tx, item.app_id)
    enqueue_webhook(
        tx,
        item.app_id,
        endpoints,
        "notification.sent",
        {
            "notification": {
                "id": item.parent_id,
                "deliveryId": item.id,
                "channel": item.kind,
                "to": item.target,
                "messageIds": [m["id"] for m in item.payload.get("messages", [])],
            },
            "conversation": {"id": item.conversation_id},
            "recipient": {"id": item.user_id},
        },
        now,
    )
