"""The outbox writer: runs inside every write transaction, just before it commits.

It turns the unit's events into outbox rows, so the work is stored atomically with the change
that caused it (a rolled-back change leaves no webhook and no notification behind):

- one ``webhook`` row per event and per endpoint that wants it;
- for each stored message, the recipients' notification batches (started or extended), and the
  quiet period of the conversation restarted;
- a deleted conversation cancels its pending batches.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from chinwag import ids
from chinwag.domain import notify as rules
from chinwag.domain.access import Access, Membership
from chinwag.services.context import Unit
from chinwag.services.events import Event
from chinwag.storage import outbox
from chinwag.storage import webhooks as hook_store
from chinwag.storage.db import Tx
from chinwag.storage.records import loads, notify_from_db
from chinwag.webhooks import events as webhook_events

#: A batch lists at most this many messages (the newest); the count says how many there were.
MAX_BATCH_MESSAGES = 50


def write_outbox(unit: Unit) -> None:
    """The :attr:`Context.in_transaction` hook."""
    if not unit.events:
        return
    by_app: dict[str, list[Event]] = defaultdict(list)
    for event in unit.events:
        by_app[event.app_id].append(event)
    for app_id, events in by_app.items():
        _webhooks(unit, app_id, events)
        _notifications(unit, app_id, events)


def new_event_id() -> str:
    return "evt_" + ids.random_token(22)


def enqueue_webhook(
    tx: Tx,
    app_id: str,
    endpoints: list[hook_store.Webhook],
    event_type: str,
    data: dict[str, Any],
    now: int,
) -> None:
    wanted = [h for h in endpoints if h.wants(event_type)]
    if not wanted:
        return
    event_id = new_event_id()
    body = webhook_events.body(event_type, data, event_id, now)
    for hook in wanted:
        outbox.insert(
            tx,
            app_id,
            "webhook",
            {"eventId": event_id, "body": body},
            now,
            webhook_id=hook.id,
            event_type=event_type,
            target=hook.url,
        )


def _webhooks(unit: Unit, app_id: str, events: list[Event]) -> None:
    if not any(e.type in webhook_events.FROM_INTERNAL for e in events):
        return
    tx, now = unit.tx, unit.now
    endpoints = unit.memo(("webhooks", app_id), lambda: hook_store.enabled_for_app(tx, app_id))
    for event in events:
        event_type = webhook_events.FROM_INTERNAL.get(event.type)
        if event_type and any(h.wants(event_type) for h in endpoints):
            data = webhook_events.webhook_data(tx, event)
            enqueue_webhook(tx, app_id, endpoints, event_type, data, now)


def _notifications(unit: Unit, app_id: str, events: list[Event]) -> None:
    tx, now = unit.tx, unit.now
    stored: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.type == "message.created" and event.conversation_id and "message" in event.data:
            stored[event.conversation_id].append(event)
        elif event.type == "conversation.deleted" and event.conversation_id:
            outbox.cancel_batches(tx, app_id, event.conversation_id, now, "conversation deleted")
    if not stored:
        return
    delay_seconds, channels = unit.memo(
        ("notify_config", app_id), lambda: outbox.notify_config(tx, app_id)
    )
    delay_ms = delay_seconds * 1000
    for conversation_id, created in stored.items():
        incoming = [(e.data["message"], _incoming(e)) for e in created]
        if any(rules.may_notify(i) for _, i in incoming):  # guests' messages skip the lookup
            candidates = _candidates(tx, app_id, conversation_id, channels)
            for message, i in incoming:
                for user_id in rules.recipients(i, candidates):
                    _add_to_batch(tx, app_id, conversation_id, user_id, message, now, delay_ms)
        # Any message, a system or guest message too, means the conversation is not quiet yet.
        outbox.delay_batches(tx, app_id, conversation_id, now + delay_ms, now)


def _incoming(event: Event) -> rules.Incoming:
    message = event.data["message"]
    return rules.Incoming(
        type=message["type"],
        sender_id=message["senderId"],
        text=message["text"],
        by_guest=bool(event.data.get("guest")),
    )


def _candidates(
    tx: Tx, app_id: str, conversation_id: str, channels: rules.Channels
) -> list[rules.Candidate]:
    out = []
    for r in outbox.notify_candidates(tx, app_id, conversation_id):
        emails, phones = loads(r["email"]), loads(r["phone"])
        has_channel = any(rules.usable_channels(channels, r["role"], emails, phones))
        membership = Membership(Access(r["access"]), bool(r["member"]), r["horizon"])
        out.append(
            rules.Candidate(r["user_id"], membership, notify_from_db(r["notify"]), has_channel)
        )
    return out


def _add_to_batch(
    tx: Tx,
    app_id: str,
    conversation_id: str,
    user_id: str,
    message: dict[str, Any],
    now: int,
    delay_ms: int,
) -> None:
    entry = {"id": message["id"], "position": message["position"]}
    batch = outbox.pending_batch(tx, app_id, conversation_id, user_id)
    if batch is None:
        outbox.insert(
            tx,
            app_id,
            "notification",
            {"messages": [entry], "total": 1},
            now,
            now + delay_ms,
            conversation_id=conversation_id,
            user_id=user_id,
        )
        return
    listed = [*batch.payload.get("messages", []), entry][-MAX_BATCH_MESSAGES:]
    total = int(batch.payload.get("total", len(listed) - 1)) + 1
    outbox.update_payload(tx, batch.id, {"messages": listed, "total": total}, now)
