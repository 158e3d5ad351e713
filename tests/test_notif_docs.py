"""docs/notifications.md and docs/webhooks.md stay true to the code."""

from __future__ import annotations

from pathlib import Path

from chinwag.config import OPTIONS
from chinwag.notifications.runner import WORKER_OPTIONS
from chinwag.storage.outbox import DONE
from chinwag.web.rest_webhooks import router
from chinwag.webhooks.events import FROM_INTERNAL, WEBHOOK_EVENTS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_webhook_event_is_documented() -> None:
    text = (DOCS / "webhooks.md").read_text()
    missing = [e for e in WEBHOOK_EVENTS if f"| `{e}` |" not in text]
    assert not missing, f"add these events to docs/webhooks.md: {missing}"
    assert set(FROM_INTERNAL.values()) <= set(WEBHOOK_EVENTS)


def test_every_notification_setting_is_documented() -> None:
    text = (DOCS / "notifications.md").read_text()
    ours = [
        n
        for n in WORKER_OPTIONS
        if n.startswith(("smtp", "email", "sms", "notification", "worker"))
    ] + ["worker"]
    missing = [OPTIONS[n][0] for n in ours if f"`{OPTIONS[n][0]}`" not in text]
    assert not missing, f"add these settings to docs/notifications.md: {missing}"
    assert "`notificationDelaySeconds`" in text


def test_every_outbox_status_is_documented() -> None:
    text = (DOCS / "notifications.md").read_text()
    missing = [s for s in ("pending", "sending", *DONE) if f"| `{s}` |" not in text]
    assert not missing, f"add these statuses to docs/notifications.md: {missing}"


def test_every_endpoint_is_documented() -> None:
    text = (DOCS / "webhooks.md").read_text() + (DOCS / "notifications.md").read_text()
    missing = [
        (method, route.path)  # type: ignore[attr-defined]
        for route in router.routes
        for method in route.methods  # type: ignore[attr-defined]
        if f"`{route.path}" not in text  # type: ignore[attr-defined]
    ]
    assert not missing, f"document these endpoints: {missing}"
