"""The dashboard's notification and webhook page, ``/dashboard/notifications?app=...``.

Shows what the outbox did for an app: recent notification batches, emails and SMS (sent, or only
recorded when no provider is configured), and each webhook endpoint with its recent deliveries.
Read-only; signed-in admins only, like the rest of the dashboard.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from chinwag.errors import ChinwagError
from chinwag.services import apps
from chinwag.storage.outbox import OutboxItem
from chinwag.web.dashboard import _page, _signed_in
from chinwag.webhooks import service

router = APIRouter(prefix="/dashboard", tags=["dashboard"], include_in_schema=False)

SHOWN = 50


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _cell(value: object) -> str:
    return f"<td>{escape('' if value is None else str(value))}</td>"


def _status(item: OutboxItem) -> str:
    return f'<td><span class="status {escape(item.status)}">{escape(item.status)}</span></td>'


def _table(caption: str, heads: list[str], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in heads)
    return (
        f'<div class="table"><table><caption class="sr">{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _notification_row(i: OutboxItem) -> str:
    what = {"notification": "batch", "email": "email", "sms": "SMS"}.get(i.kind, i.kind)
    count = len(i.payload.get("messages", []))
    return (
        "<tr>"
        + _cell(_when(i.created_at))
        + _cell(what)
        + _cell(i.user_id)
        + _cell(i.conversation_id)
        + _cell(i.target)
        + _cell(count)
        + _status(i)
        + _cell(i.attempts)
        + _cell(i.last_error)
        + "</tr>"
    )


def _delivery_row(i: OutboxItem) -> str:
    return (
        "<tr>"
        + _cell(_when(i.created_at))
        + _cell(i.event_type)
        + _status(i)
        + _cell(i.attempts)
        + _cell(i.last_status)
        + _cell(i.last_error)
        + _cell(_when(i.due_at) if i.status == "pending" else "")
        + "</tr>"
    )


@router.get("/notifications")
def notifications_page(request: Request) -> Response:
    app_id = request.query_params.get("app") or ""
    if not _signed_in(request):
        return RedirectResponse(f"/dashboard?app={quote(app_id)}", status_code=303)
    ctx = request.app.state.ctx
    try:
        app = apps.get_app(ctx, app_id)
    except ChinwagError as exc:
        return _page(
            "No app",
            f'<main class="wrap"><p class="error">{escape(exc.reasons[0])}'
            '</p><p><a href="/dashboard">Back to the dashboard</a></p></main>',
            404,
        )
    seen = service.outbox_overview(ctx, app.id, SHOWN)
    notes = _table(
        "Notifications",
        [
            "Created (UTC)",
            "Kind",
            "User",
            "Conversation",
            "To",
            "Messages",
            "Status",
            "Attempts",
            "Note",
        ],
        [_notification_row(i) for i in seen["notifications"]],
        "No notifications yet. They appear here when a participant with an email address or "
        "phone number has unread messages after the notification delay.",
    )
    hooks = []
    for hook, deliveries in seen["webhooks"]:
        events = ", ".join(hook.events)
        state = "" if hook.enabled else ' <span class="muted">(disabled)</span>'
        hooks.append(
            f"<h3>{escape(hook.url)}{state}</h3>"
            f'<p class="muted small">{escape(hook.id)} · events: {escape(events)}</p>'
            + _table(
                f"Deliveries to {hook.url}",
                [
                    "Created (UTC)",
                    "Event",
                    "Status",
                    "Attempts",
                    "HTTP",
                    "Error",
                    "Next attempt (UTC)",
                ],
                [_delivery_row(i) for i in deliveries],
                "No deliveries yet.",
            )
        )
    app_q = escape(quote(app.id))
    body = (
        '<header class="top"><a class="brand" href="/dashboard"><span class="logo" '
        'aria-hidden="true">●</span> Chinwag</a></header><main class="wrap">'
        f'<p><a href="/dashboard?app={app_q}">← Back to {escape(app.name)}</a></p>'
        '<section id="notifications" class="card"><h2>Notifications</h2>'
        '<p class="muted small">Emails and SMS are <em>recorded</em> instead of sent while no '
        "SMTP server or SMS API is configured (CHINWAG_SMTP_URL, CHINWAG_SMS_URL).</p>"
        f"{notes}</section>"
        '<section id="webhooks" class="card"><h2>Webhooks</h2>'
        + (
            "".join(hooks)
            or f'<p class="muted">No webhooks. Add one with POST /v1/{escape(app.id)}/webhooks.</p>'
        )
        + "</section></main>"
    )
    return _page("Notifications and webhooks", body)
