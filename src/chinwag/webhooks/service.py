"""Use cases: an app's webhook endpoints, their delivery log, and the notification log."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import httpx

from chinwag import ids
from chinwag.errors import InvalidRequest, NotFound
from chinwag.services.context import Context
from chinwag.storage import outbox
from chinwag.storage import webhooks as store
from chinwag.storage.outbox import OutboxItem
from chinwag.storage.webhooks import Webhook
from chinwag.webhooks import addresses
from chinwag.webhooks.events import WEBHOOK_EVENTS

MAX_WEBHOOKS = 20
MAX_URL = 2048


def _well_formed(url: str) -> bool:
    """An http(s) URL with a host, that both the checker and the poster parse the same way."""
    if len(url) > MAX_URL or any(c <= " " or c == "\x7f" or "\ud800" <= c <= "\udfff" for c in url):
        return False
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018  (raises on a port out of range)
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)


def _check(url: str, events: list[str]) -> None:
    reasons = []
    if not _well_formed(url):
        reasons.append(f"url must be an http:// or https:// URL of at most {MAX_URL} characters")
    else:
        reasons += addresses.registration_reasons(url)
    unknown = [e for e in events if e != "*" and e not in WEBHOOK_EVENTS]
    if unknown:
        reasons.append(f"unknown event types {unknown}; known: {sorted(WEBHOOK_EVENTS)} or *")
    if not events:
        reasons.append("events must name at least one event type (or *)")
    if reasons:
        raise InvalidRequest(*reasons)


def _not_found(webhook_id: str) -> NotFound:
    return NotFound(f"no webhook {webhook_id!r} in this app")


def create_webhook(
    ctx: Context, app_id: str, url: str, events: list[str] | None, enabled: bool
) -> Webhook:
    events = list(dict.fromkeys(events)) if events is not None else ["*"]
    _check(url, events)
    with ctx.write() as unit:
        if len(store.list_for_app(unit.tx, app_id)) >= MAX_WEBHOOKS:
            raise InvalidRequest(f"an app may have at most {MAX_WEBHOOKS} webhooks")
        webhook_id = "wh_" + ids.random_token(16)
        store.insert(unit.tx, app_id, webhook_id, url, events, enabled, unit.now)
        hook = store.get(unit.tx, app_id, webhook_id)
    assert hook is not None
    return hook


def update_webhook(ctx: Context, app_id: str, webhook_id: str, changes: dict[str, Any]) -> Webhook:
    with ctx.write() as unit:
        old = store.get(unit.tx, app_id, webhook_id)
        if old is None:
            raise _not_found(webhook_id)
        url = changes.get("url") or old.url
        events = changes.get("events")
        events = list(dict.fromkeys(events)) if events is not None else old.events
        enabled = changes.get("enabled")
        enabled = old.enabled if enabled is None else enabled
        _check(url, events)
        store.update(unit.tx, app_id, webhook_id, url, events, enabled, unit.now)
        hook = store.get(unit.tx, app_id, webhook_id)
    assert hook is not None
    return hook


def delete_webhook(ctx: Context, app_id: str, webhook_id: str) -> None:
    """Stops new deliveries; ones already queued are still attempted and stay in the log."""
    with ctx.write() as unit:
        if not store.delete(unit.tx, app_id, webhook_id):
            raise _not_found(webhook_id)


def get_webhook(ctx: Context, app_id: str, webhook_id: str) -> Webhook:
    with ctx.read() as tx:
        hook = store.get(tx, app_id, webhook_id)
    if hook is None:
        raise _not_found(webhook_id)
    return hook


def list_webhooks(ctx: Context, app_id: str) -> list[Webhook]:
    with ctx.read() as tx:
        return store.list_for_app(tx, app_id)


def deliveries(ctx: Context, app_id: str, webhook_id: str, limit: int) -> list[OutboxItem]:
    with ctx.read() as tx:
        if store.get(tx, app_id, webhook_id) is None:
            raise _not_found(webhook_id)
        return outbox.log(tx, app_id, ["webhook"], limit, webhook_id=webhook_id)


def notification_log(ctx: Context, app_id: str, limit: int) -> list[OutboxItem]:
    with ctx.read() as tx:
        return outbox.log(tx, app_id, ["notification", "email", "sms"], limit)


# -- JSON shapes --------------------------------------------------------------------------


def webhook_json(h: Webhook) -> dict[str, Any]:
    return {
        "id": h.id,
        "url": h.url,
        "events": h.events,
        "enabled": h.enabled,
        "createdAt": h.created_at,
        "updatedAt": h.updated_at,
    }


def _outcome(item: OutboxItem) -> dict[str, Any]:
    return {
        "status": item.status,
        "attempts": item.attempts,
        "nextAttemptAt": item.due_at if item.status == "pending" else None,
        "lastStatus": item.last_status,
        "lastError": item.last_error,
        "createdAt": item.created_at,
        "updatedAt": item.updated_at,
        "doneAt": item.done_at,
    }


def delivery_json(item: OutboxItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "webhookId": item.webhook_id,
        "eventId": item.payload.get("eventId"),
        "type": item.event_type,
        "url": item.target,
        **_outcome(item),
    }


def notification_json(item: OutboxItem) -> dict[str, Any]:
    out = {
        "id": item.id,
        "kind": item.kind,
        "conversationId": item.conversation_id,
        "userId": item.user_id,
        "to": item.target,
        "batchId": item.parent_id,
        **_outcome(item),
    }
    if item.kind == "notification":
        out["messageIds"] = [m["id"] for m in item.payload.get("messages", [])]
    else:
        out["messageIds"] = [m["id"] for m in item.payload.get("messages", [])]
        out["subject"] = item.payload.get("conversation", {}).get("subject")
    return out


def outbox_overview(ctx: Context, app_id: str, limit: int) -> dict[str, Any]:
    """What the dashboard shows: recent notifications, and each webhook with recent deliveries."""
    with ctx.read() as tx:
        hooks = store.list_for_app(tx, app_id)
        return {
            "notifications": outbox.log(tx, app_id, ["notification", "email", "sms"], limit),
            "webhooks": [
                (h, outbox.log(tx, app_id, ["webhook"], limit, webhook_id=h.id)) for h in hooks
            ],
        }
