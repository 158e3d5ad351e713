"""The dashboard's guest controls for one conversation, and the app's audit log.

``/dashboard/conversations/{id}/moderation``: the guest policy, the live roster with kick, mute
and ban buttons, bans and mutes by user id (with an optional duration) and lifting them, invite
links, and supervisor inspection, silent or announced. ``/dashboard/audit``: the audit log, a
page at a time, and its JSON-lines export. Every form carries the dashboard's CSRF token and
every page needs the admin session; each handler makes one service call, acting as
:data:`ADMIN_ACTOR` so the audit log names the dashboard.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response, StreamingResponse

from chinwag.domain.access import GuestAccess
from chinwag.domain.moderation import RestrictionKind
from chinwag.errors import ChinwagError
from chinwag.realtime.roster import RosterGuest
from chinwag.schemas import ConversationPut, parse
from chinwag.services import audit, conversations, dashboard, moderation
from chinwag.services.admin import COOKIE
from chinwag.services.context import Context
from chinwag.storage.audit import AuditEntry
from chinwag.web.dashboard import (
    ADMIN_ACTOR,
    _admin,
    _form,
    _login_page,
    _message,
    _page,
    _signed_in,
    _template,
    inspection_page,
)

router = APIRouter(prefix="/dashboard", tags=["dashboard"], include_in_schema=False)

#: Audit entries per dashboard page.
AUDIT_PAGE = 50
ACTIONS = {"kick", "ban", "mute"}


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx.acting(ADMIN_ACTOR)


def _csrf(request: Request) -> str:
    admin = _admin(request)
    assert admin is not None
    return admin.csrf_token(request.cookies.get(COOKIE, ""))


async def _checked_form(request: Request) -> dict[str, str] | Response:
    """The posted form if the admin session and its CSRF token are good, else the answer."""
    if not _signed_in(request):
        return _login_page("Your session ended; sign in again.", 401)
    form = await _form(request)
    if form.get("csrf") != _csrf(request):
        return _message("Refused", "The form expired; reload the page and try again.", 400)
    return form


def _when(ms: int | None) -> str:
    if ms is None:
        return "until lifted"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(form: dict[str, str]) -> int | None:
    raw = form.get("durationSeconds", "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError("Duration must be a whole number of seconds") from None


def _page_url(app_id: str, cid: str, **query: str) -> str:
    return f"/dashboard/conversations/{quote(cid, safe='')}/moderation?" + urlencode(
        {"app": app_id, **query}
    )


# --- the moderation page ----------------------------------------------------------------------


@router.get("/conversations/{conversation_id}/moderation")
async def moderation_page(request: Request, conversation_id: str) -> Response:
    if not _signed_in(request):
        return _login_page()
    q = request.query_params
    return await _render(request, q.get("app"), conversation_id, q.get("done"), q.get("error"))


async def _render(
    request: Request,
    app_id: str | None,
    cid: str,
    done: str | None,
    error: str | None,
    minted: str | None = None,
) -> Response:
    ctx = _ctx(request)
    try:
        app = await run_in_threadpool(dashboard.pick_app, ctx, app_id)
        aid = app.app.id
        conv = await run_in_threadpool(conversations.get_conversation, ctx, aid, cid)
        restrictions = await run_in_threadpool(moderation.restrictions, ctx, aid, cid)
        invites = await run_in_threadpool(moderation.invites, ctx, aid, cid)
    except ChinwagError as exc:
        return _message("Not found", exc.reasons[0], 404)
    guests = await request.app.state.realtime.roster.guests(aid, cid)
    return _page(
        f"Moderate {cid}",
        _moderation_html(
            aid, conv, guests, restrictions, invites, _csrf(request), done, error, minted
        ),
    )


async def _act(
    request: Request, cid: str, what: str, act: Callable[[Context, str, dict[str, str]], object]
) -> Response:
    """Run one moderation action from a checked form, then back to the page saying how it went."""
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    app_id = form.get("app", "")
    try:
        await run_in_threadpool(act, _ctx(request), app_id, form)
    except (ChinwagError, ValueError) as exc:
        reason = exc.reasons[0] if isinstance(exc, ChinwagError) else str(exc)
        return RedirectResponse(_page_url(app_id, cid, error=reason), status_code=303)
    return RedirectResponse(_page_url(app_id, cid, done=what), status_code=303)


@router.post("/conversations/{conversation_id}/guest-access")
async def set_guest_access(request: Request, conversation_id: str) -> Response:
    def act(ctx: Context, app_id: str, form: dict[str, str]) -> None:
        value = form.get("guestAccess", "")
        if value not in {a.value for a in GuestAccess}:
            raise ValueError("Guest access must be ReadWrite, Read or None")
        body = parse(ConversationPut, {"guestAccess": value})
        conversations.put_conversation(ctx, app_id, conversation_id, body)

    return await _act(request, conversation_id, "Guest access saved.", act)


@router.post("/conversations/{conversation_id}/guests/{action}")
async def guest_action(request: Request, conversation_id: str, action: str) -> Response:
    if action not in ACTIONS:
        return _message("Not found", f"no guest action {action!r}", 404)

    def act(ctx: Context, app_id: str, form: dict[str, str]) -> None:
        user_id = form.get("userId", "").strip()
        if not user_id:
            raise ValueError("Name the user id")
        reason = form.get("reason", "").strip() or None
        if action == "kick":
            moderation.kick(ctx, app_id, conversation_id, user_id, reason)
        else:
            moderation.restrict(
                ctx,
                app_id,
                conversation_id,
                user_id,
                RestrictionKind(action),
                _duration(form),
                reason,
            )

    past = {"kick": "kicked", "ban": "banned", "mute": "muted"}[action]
    return await _act(request, conversation_id, f"Guest {past}.", act)


@router.post("/conversations/{conversation_id}/lift")
async def lift(request: Request, conversation_id: str) -> Response:
    def act(ctx: Context, app_id: str, form: dict[str, str]) -> None:
        kind = form.get("kind", "")
        if kind not in {"ban", "mute"}:
            raise ValueError("Lift a ban or a mute")
        moderation.lift(ctx, app_id, conversation_id, form.get("userId", ""), RestrictionKind(kind))

    return await _act(request, conversation_id, "Lifted.", act)


@router.post("/conversations/{conversation_id}/invites")
async def mint_invite(request: Request, conversation_id: str) -> Response:
    """Mint an invite and show its token once, on this response only (never in a URL)."""
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    app_id = form.get("app", "")
    try:
        access = GuestAccess(form.get("access", "ReadWrite"))
        seconds = int(form.get("expiresInSeconds", "") or 0)
        minted = await run_in_threadpool(
            moderation.create_invite, _ctx(request), app_id, conversation_id, access, seconds
        )
    except (ChinwagError, ValueError) as exc:
        reason = exc.reasons[0] if isinstance(exc, ChinwagError) else "Pick an access and expiry"
        return RedirectResponse(_page_url(app_id, conversation_id, error=reason), status_code=303)
    return await _render(request, app_id, conversation_id, "Invite minted.", None, minted.token)


@router.post("/conversations/{conversation_id}/invites/revoke")
async def revoke_invite(request: Request, conversation_id: str) -> Response:
    def act(ctx: Context, app_id: str, form: dict[str, str]) -> None:
        moderation.revoke_invite(ctx, app_id, conversation_id, form.get("inviteId", ""))

    return await _act(request, conversation_id, "Invite revoked.", act)


@router.post("/conversations/{conversation_id}/inspect")
async def inspect(request: Request, conversation_id: str) -> Response:
    """Inspection, silent or announced: recorded, and the live page in the answer (never a
    redirect, so no URL opens a conversation without its audit entry)."""
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    app_id = form.get("app", "")
    announced = form.get("mode") == "announced"
    return await inspection_page(request, app_id, conversation_id, announced)


# --- the audit log ----------------------------------------------------------------------------


@router.get("/audit")
async def audit_page(request: Request) -> Response:
    if not _signed_in(request):
        return _login_page()
    ctx = _ctx(request)
    q = request.query_params
    try:
        app = await run_in_threadpool(dashboard.pick_app, ctx, q.get("app"))
        entries = await run_in_threadpool(  # newest first: what just happened is on top
            audit.entries,
            ctx,
            app.app.id,
            AUDIT_PAGE,
            q.get("after"),
            q.get("conversationId"),
            True,
        )
    except ChinwagError as exc:
        return _message("No app", exc.reasons[0], 404)
    return _page("Audit log", _audit_html(app.app.id, entries, q.get("conversationId")))


@router.get("/audit/export")
async def audit_export(request: Request) -> Response:
    if not _signed_in(request):
        return _login_page()
    ctx = _ctx(request)
    try:
        app = await run_in_threadpool(dashboard.pick_app, ctx, request.query_params.get("app"))
    except ChinwagError as exc:
        return _message("No app", exc.reasons[0], 404)
    name = f"chinwag-audit-{app.app.id}.jsonl"
    return StreamingResponse(
        audit.export_lines(ctx, app.app.id),
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


# --- rendering --------------------------------------------------------------------------------


def _hidden(app_id: str, csrf: str) -> str:
    return (
        f'<input type="hidden" name="app" value="{escape(app_id)}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
    )


def _roster_html(guests: list[RosterGuest], form_for: Callable[[str, str, str], str]) -> str:
    if not guests:
        return '<p class="muted" id="roster-empty">No guests are watching right now.</p>'
    rows = "".join(
        f"<tr><td><code>{escape(g.user_id)}</code></td><td>{_when(g.since)}</td><td>"
        + form_for("kick", g.user_id, "Kick")
        + form_for("mute", g.user_id, "Mute")
        + form_for("ban", g.user_id, "Ban")
        + "</td></tr>"
        for g in guests
    )
    return (
        '<div class="table"><table id="roster"><thead><tr><th>Guest</th><th>Watching since'
        f"</th><th>Actions</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _moderation_html(
    app_id: str,
    conv: dict[str, Any],
    guests: list[RosterGuest],
    restrictions: list[Any],
    invites: list[Any],
    csrf: str,
    done: str | None,
    error: str | None,
    minted: str | None,
) -> str:
    cid = conv["id"]
    base = f"/dashboard/conversations/{quote(cid, safe='')}"
    hidden = _hidden(app_id, csrf)
    app_q = quote(app_id)

    def guest_form(action: str, user_id: str, label: str) -> str:
        return (
            f'<form method="post" action="{base}/guests/{action}" class="inline">{hidden}'
            f'<input type="hidden" name="userId" value="{escape(user_id)}">'
            f'<button type="submit" class="small" aria-label="{label} {escape(user_id)}">'
            f"{label}</button></form>"
        )

    status = f'<p class="ok" role="status">{escape(done)}</p>' if done else ""
    if error:
        status = f'<p class="error" role="alert">Not done: {escape(error)}</p>'
    if minted:
        status += (
            '<p class="ok" role="status">Invite token (shown once; pass it as '
            "<code>select(id, {asGuest: true, invite: token})</code>): "
            f'<code id="minted">{escape(minted)}</code></p>'
        )
    options = "".join(
        f'<option value="{a.value}"{" selected" if a.value == conv["guestAccess"] else ""}>'
        f"{a.value}</option>"
        for a in GuestAccess
    )
    lifts = (
        "".join(
            f"<tr><td><code>{escape(r.user_id)}</code></td><td>{escape(r.restriction.kind.value)}"
            f"</td><td>{_when(r.restriction.until)}</td><td>{escape(r.reason or '')}</td>"
            f"<td>{escape(r.created_by)}</td><td>"
            f'<form method="post" action="{base}/lift" class="inline">{hidden}'
            f'<input type="hidden" name="userId" value="{escape(r.user_id)}">'
            f'<input type="hidden" name="kind" value="{escape(r.restriction.kind.value)}">'
            f'<button type="submit" class="small">Lift</button></form></td></tr>'
            for r in restrictions
        )
        or '<tr><td colspan="6" class="muted">No bans or mutes.</td></tr>'
    )
    invite_rows = (
        "".join(
            f"<tr><td><code>{escape(i.id)}</code></td><td>{escape(i.access.value)}</td>"
            f"<td>{_when(i.expires_at)}</td><td>"
            + (
                "revoked"
                if i.revoked_at is not None
                else f'<form method="post" action="{base}/invites/revoke" class="inline">{hidden}'
                f'<input type="hidden" name="inviteId" value="{escape(i.id)}">'
                f'<button type="submit" class="small">Revoke</button></form>'
            )
            + "</td></tr>"
            for i in invites
        )
        or '<tr><td colspan="4" class="muted">No invites.</td></tr>'
    )
    return _template(
        "moderation.html",
        app_q=app_q,
        cid=escape(cid),
        cid_q=quote(cid, safe=""),
        base=base,
        subject=escape(conv.get("subject") or ""),
        status=status,
        hidden=hidden,
        options=options,
        guest_count=len(guests),
        roster=_roster_html(guests, guest_form),
        lifts=lifts,
        invites=invite_rows,
    )


def _details(data: dict[str, Any]) -> str:
    return escape(json.dumps(data, ensure_ascii=False, separators=(", ", ": ")))


def _audit_html(app_id: str, entries: list[AuditEntry], conversation_id: str | None) -> str:
    app_q = quote(app_id)
    rows = (
        "".join(
            f'<tr><td>{_when(e.at)}</td><td><code class="nowrap">{escape(e.actor)}</code></td>'
            f"<td>{escape(e.action)}</td><td>{escape(e.conversation_id or '')}</td>"
            f"<td>{escape(e.user_id or '')}</td><td><code>{_details(e.data)}</code></td></tr>"
            for e in entries
        )
        or '<tr><td colspan="6" class="muted">No entries.</td></tr>'
    )
    more = ""
    if len(entries) == AUDIT_PAGE:
        query = {"app": app_id, "after": entries[-1].id}
        if conversation_id:
            query["conversationId"] = conversation_id
        more = (
            f'<p><a class="button small" href="/dashboard/audit?{escape(urlencode(query))}">'
            "Older entries →</a></p>"
        )
    scope = f" of <code>{escape(conversation_id)}</code>" if conversation_id else ""
    return _template("audit.html", app_q=app_q, scope=scope, rows=rows, more=more)
