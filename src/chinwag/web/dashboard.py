"""The operator's dashboard at ``/dashboard``: admin login, an app's keys, its security settings,
limits, users and conversations, and opening any conversation as a guest (supervisor inspection).

Server-rendered HTML with plain forms; each handler checks the admin session, makes one service
call and renders. The admin credential comes from :mod:`chinwag.services.admin`.
"""

from __future__ import annotations

import hmac
import json
import secrets
from html import escape
from importlib import resources
from string import Template
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from chinwag.domain.access import GuestAccess
from chinwag.errors import ChinwagError, RateLimited
from chinwag.services import admin as admin_service
from chinwag.services import apps, dashboard, moderation
from chinwag.services.admin import COOKIE, Admin
from chinwag.services.sessions import signature_of

router = APIRouter(prefix="/dashboard", tags=["dashboard"], include_in_schema=False)

#: Users and conversations listed per page.
PAGE = 50

#: The user id the dashboard watches conversations as (a guest, never a participant).
SUPERVISOR_ID = "chinwag-supervisor"  # one of sessions.RESERVED_USER_IDS
#: How long the invite minted for one inspection page admits its supervisor.
SUPERVISOR_INVITE_SECONDS = 3600

#: Who the audit log names for the dashboard's actions (one admin password, one operator).
ADMIN_ACTOR = "admin:operator"

WARNINGS = {
    "user": "Allowed: any visitor's browser can create users who do not exist yet, and change its "
    "own user's name, email, phone, photo and custom data, just by running code on your page.",
    "conversation": "Allowed: any visitor's browser can create conversations. Together with user "
    "sync it also lets anyone who knows a conversation id join it as a guest (unless its guest "
    "policy, or the default for a two-person chat, says no).",
    "identity": "Off: anyone can claim any user id from the browser and read and write as that "
    "user. Turn this on and sign each user id on your backend (signature or token).",
}

#: What each setting lets a browser do, one sentence each (docs/security.md has the table).
RULES = {
    "user": "With user sync allowed, a browser creates users who do not exist yet and updates "
    "its own user, but never another user's record and never a role.",
    "conversation": "With conversation sync allowed, a browser creates conversations, and its "
    "ReadWrite participants add people and change their access; nobody raises their own rights, "
    "removes others (moderators only) or undoes what you set here or over REST.",
    "identity": "With identity verification on, a browser session proves which user it is and "
    "can act only as that user.",
}


def _admin(request: Request) -> Admin | None:
    admin: Admin | None = getattr(request.app.state, "admin", None)
    return admin


def _session(request: Request) -> admin_service.Session | None:
    """The dashboard session of this request: a cookie the admin credential signed, naming a
    session that is still open in the database (signing out ends it on every node)."""
    admin = _admin(request)
    session = admin.session_of(request.cookies.get(COOKIE)) if admin is not None else None
    if session is None or not admin_service.session_open(request.app.state.ctx, session):
        return None
    return session


def _signed_in(request: Request) -> bool:
    """The one admin check of every dashboard page and form."""
    return _session(request) is not None


#: Every dashboard page: never framed (clickjacking), scripts only from this server, no
#: inline script; images from anywhere (users' photos).
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src * data: blob:; media-src * data: blob:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    ),
}

#: The sign-in form's cookie: the form carries the same random value (a login CSRF token), so a
#: page of another site cannot sign a browser in to this dashboard.
LOGIN_COOKIE = "chinwag_login"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _template(template: str, **values: object) -> str:
    """A page piece from ``static/dashboard/`` with ``$names`` filled in (values pre-escaped)."""
    text = resources.files("chinwag").joinpath("static", "dashboard", template).read_text("utf-8")
    return Template(text).substitute(values)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = _template("page.html", title=escape(title), body=body)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _message(title: str, text: str, status: int) -> HTMLResponse:
    body = (
        f'<main class="wrap"><p class="error">{escape(text)}</p>'
        '<p><a href="/dashboard">Back to the dashboard</a></p></main>'
    )
    return _page(title, body, status)


def _login_page(error: str = "", status: int = 200, app_id: str = "") -> HTMLResponse:
    note = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    token = secrets.token_urlsafe(18)
    body = _template("login.html", note=note, app=escape(app_id), csrf=token)
    page = _page("Sign in", body, status)
    page.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/dashboard")
    return page


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", "replace")
    return {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}


@router.get("")
def home(request: Request) -> Response:
    app_id = request.query_params.get("app")
    if not _signed_in(request):
        return _login_page(app_id=app_id or "")
    ctx = request.app.state.ctx
    try:
        overview = dashboard.overview(
            ctx,
            app_id,
            PAGE,
            request.query_params.get("usersAfter"),
            request.query_params.get("conversationsAfter"),
        )
    except ChinwagError as exc:
        return _message("No app", exc.reasons[0], 404)
    all_apps = apps.list_apps(ctx)
    cookie = request.cookies.get(COOKIE, "")
    admin = _admin(request)
    assert admin is not None
    base = str(request.base_url).rstrip("/")
    return _page(
        "Overview",
        _overview_html(
            overview,
            all_apps,
            admin.csrf_token(cookie),
            base,
            request.query_params.get("saved"),
            request.query_params.get("error"),
        ),
    )


@router.post("/login")
async def login(request: Request) -> Response:
    admin = _admin(request)
    if admin is None:
        return _login_page("The dashboard is not configured on this server.", 503)
    form = await _form(request)
    app_id = form.get("app", "")
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(form.get("csrf", ""), expected):
        return _login_page("The sign-in form expired; sign in again.", 400, app_id)
    client = request.client.host if request.client else ""
    try:
        cookie = admin.login(form.get("password", ""), client)
    except RateLimited as exc:
        page = _login_page("Too many attempts; wait a minute and try again.", 429, app_id)
        page.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        return page
    session = admin.session_of(cookie)
    if session is None:
        return _login_page("That password is not right.", 401, app_id)
    await run_in_threadpool(admin_service.open_session, request.app.state.ctx, session)
    target = f"/dashboard?{urlencode({'app': app_id})}" if app_id else "/dashboard"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie or "",
        max_age=admin_service.SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/dashboard",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/dashboard")
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """Sign out: the session ends server-side, so a copy of its cookie stops working too."""
    session = _session(request)
    if session is not None:
        admin_service.close_session(request.app.state.ctx, session)
    response = RedirectResponse("/dashboard", status_code=303)
    response.delete_cookie(COOKIE, path="/dashboard")
    return response


@router.post("/settings")
async def save_settings(request: Request) -> Response:
    if not _signed_in(request):
        return _login_page("Your session ended; sign in again.", 401)
    admin = _admin(request)
    assert admin is not None
    form = await _form(request)
    app_id = form.get("app", "")
    if form.get("csrf") != admin.csrf_token(request.cookies.get(COOKIE, "")):
        return _message("Refused", "The form expired; reload the page and try again.", 400)
    back = f"/dashboard?{urlencode({'app': app_id})}"
    try:
        changes: dict[str, object] = {
            "allowUserSyncViaBrowser": "disallowUserSync" not in form,
            "allowConversationSyncViaBrowser": "disallowConversationSync" not in form,
            "identityVerification": "identityVerification" in form,
            "participantLimit": _int(form, "participantLimit", "Participant limit"),
            "notificationDelaySeconds": _int(
                form, "notificationDelaySeconds", "Notification delay"
            ),
        }
        if "moderatorRoles" in form:
            roles = [r.strip() for r in form["moderatorRoles"].split(",")]
            changes["moderatorRoles"] = [r for r in roles if r]
        apps.patch_settings(request.app.state.ctx.acting(ADMIN_ACTOR), app_id, changes)
    except (ChinwagError, ValueError) as exc:
        reason = exc.reasons[0] if isinstance(exc, ChinwagError) else str(exc)
        return RedirectResponse(f"{back}&{urlencode({'error': reason})}#settings", status_code=303)
    return RedirectResponse(f"{back}&saved=1#settings", status_code=303)


def _int(form: dict[str, str], key: str, label: str) -> int:
    try:
        return int(form.get(key, ""))
    except ValueError:
        raise ValueError(f"{label} must be a whole number") from None


@router.get("/conversations/{conversation_id}")
async def inspect(request: Request, conversation_id: str) -> Response:
    """Supervisor inspection, silent: recorded in the audit log each time the page opens (the
    moderation page also opens it announced)."""
    if not _signed_in(request):
        return _login_page()
    return await inspection_page(request, request.query_params.get("app"), conversation_id, False)


async def inspection_page(
    request: Request, app_id: str | None, conversation_id: str, announced: bool
) -> Response:
    """Record the inspection, then the transcript, the live guest roster, and the live
    conversation opened as a guest."""
    ctx = request.app.state.ctx.acting(ADMIN_ACTOR)
    try:
        app = await run_in_threadpool(dashboard.pick_app, ctx, app_id)
        await run_in_threadpool(
            moderation.record_inspection, ctx, app.app.id, conversation_id, announced
        )
        data = await run_in_threadpool(dashboard.transcript, ctx, app.app.id, conversation_id)
        # The supervisor watches through an invite of its own: it admits them whatever the
        # conversation's guest policy (a one-on-one admits no guests by default).
        minted = await run_in_threadpool(
            moderation.create_invite,
            ctx,
            app.app.id,
            conversation_id,
            GuestAccess.READ_WRITE,
            SUPERVISOR_INVITE_SECONDS,
        )
    except ChinwagError as exc:
        return _message("Not found", exc.reasons[0], 404)
    guests = await request.app.state.realtime.roster.guests(app.app.id, conversation_id)
    boot = {
        "appId": app.app.id,
        "conversationId": conversation_id,
        "me": {"id": SUPERVISOR_ID, "name": "Supervisor"},
        "signature": signature_of(app.secret_keys[0], SUPERVISOR_ID),
        "invite": minted.token,
    }
    html = _inspect_html(app.app.id, data, boot, [g.user_id for g in guests])
    return _page(f"Inspect {conversation_id}", html)


# --- rendering ------------------------------------------------------------------------------


def _overview_html(
    o: dashboard.Overview,
    all_apps: list[apps.AppWithKeys],
    csrf: str,
    base: str,
    saved: str | None,
    error: str | None,
) -> str:
    app = o.app.app
    s = app.settings
    options = "".join(
        f'<option value="{escape(a.app.id)}"{" selected" if a.app.id == app.id else ""}>'
        f"{escape(a.app.name)} ({escape(a.app.id)})</option>"
        for a in all_apps
    )
    keys = "".join(
        f'<li><code class="secret" data-secret="{escape(k)}">{escape(k[:12])}…</code> '
        f'<button type="button" class="small" data-reveal aria-label="Show secret key {i + 1}">'
        "Show</button></li>"
        for i, k in enumerate(o.app.secret_keys)
    )
    status = '<p class="ok" role="status">Settings saved.</p>' if saved else ""
    if error:
        status = f'<p class="error" role="alert">Not saved: {escape(error)}</p>'
    users = (
        "".join(
            f"<tr><td><code>{escape(u['id'])}</code></td><td>{escape(u['name'] or '')}</td>"
            f"<td>{escape(u['role'] or '')}</td><td>{escape(', '.join(u['email'] or []))}</td>"
            f'<td><a class="button small" href="/dashboard/users?'
            f'{escape(urlencode({"app": app.id, "user": u["id"]}))}">Edit</a></td></tr>'
            for u in o.users
        )
        or '<tr><td colspan="5" class="muted">No users yet.</td></tr>'
    )
    convs = "".join(_conversation_row(quote(app.id), c) for c in o.conversations) or (
        '<tr><td colspan="5" class="muted">No conversations yet.</td></tr>'
    )
    if s.allowUserSyncViaBrowser and s.allowConversationSyncViaBrowser:
        guest_note = (
            "Guest access is <strong>possible</strong>: both synchronizations are allowed, so "
            "anyone who knows a conversation id can open it as a guest (unless the "
            "conversation's guestAccess is None)."
        )
    else:
        guest_note = "Guest access is <strong>off</strong>: it needs both synchronizations allowed."
    return _template(
        "overview.html",
        options=options,
        app_id=escape(app.id),
        app_name=escape(app.name),
        keys=keys,
        base=escape(base),
        status=status,
        csrf=escape(csrf),
        user_sync=_setting(
            "disallowUserSync",
            "Disallow user synchronization via the browser",
            not s.allowUserSyncViaBrowser,
            "user",
        ),
        conversation_sync=_setting(
            "disallowConversationSync",
            "Disallow conversation synchronization via the browser",
            not s.allowConversationSyncViaBrowser,
            "conversation",
        ),
        guest_note=guest_note,
        identity=_setting(
            "identityVerification",
            "Identity verification (require a signature or token for every browser session)",
            s.identityVerification,
            "identity",
        ),
        participant_limit=s.participantLimit,
        delay=s.notificationDelaySeconds,
        moderator_roles=escape(", ".join(s.moderatorRoles)),
        user_count=len(o.users),
        users=users,
        users_more=_more(app.id, "usersAfter", o.users, "#users"),
        conversation_count=len(o.conversations),
        conversations=convs,
        conversations_more=_more(app.id, "conversationsAfter", o.conversations, "#conversations"),
    )


def _more(app_id: str, key: str, rows: list[dict[str, Any]], anchor: str) -> str:
    """A link to the next page when this one is full (pages go by id)."""
    if len(rows) < PAGE:
        return ""
    query = urlencode({"app": app_id, key: rows[-1]["id"]})
    link = f"/dashboard?{escape(query)}{anchor}"
    return f'<p><a class="button small" href="{link}">Next page →</a></p>'


def _setting(name: str, label: str, checked: bool, warning: str) -> str:
    """A checkbox; its warning shows while it is unchecked (the permissive state)."""
    return _template(
        "setting.html",
        name=name,
        label=escape(label),
        checked=" checked" if checked else "",
        hidden=" hidden" if checked else "",
        warning=escape(WARNINGS[warning]),
        rule=escape(RULES[warning]),
    )


def _conversation_row(app_q: str, c: dict[str, Any]) -> str:
    names = ", ".join(
        f"{escape(uid)} ({escape(p['access'])})" for uid, p in c["participants"].items()
    )
    link = f"/dashboard/conversations/{quote(c['id'], safe='')}?app={app_q}"
    mod = f"/dashboard/conversations/{quote(c['id'], safe='')}/moderation?app={app_q}"
    members = f"/dashboard/conversations/{quote(c['id'], safe='')}/participants?app={app_q}"
    return (
        f"<tr><td><code>{escape(c['id'])}</code></td><td>{escape(c['subject'] or '')}</td>"
        f"<td>{names or '<span class=muted>none</span>'}</td><td>{escape(c['guestAccess'])}</td>"
        f'<td><a class="button small" href="{escape(link)}">Open as guest</a> '
        f'<a class="button small" href="{escape(mod)}">Moderate</a> '
        f'<a class="button small" href="{escape(members)}">Participants</a></td></tr>'
    )


def _who(user_id: str | None, names: dict[str, str]) -> str:
    """A sender as the transcript shows it: the name, with the id beside it."""
    if user_id is None:
        return "system"
    name = names.get(user_id)
    code = f'<code class="small">{escape(user_id)}</code>'
    return f"{escape(name)} {code}" if name else code


def _inspect_html(
    app_id: str, data: dict[str, Any], boot: dict[str, Any], guests: list[str]
) -> str:
    conv = data["conversation"]
    lines = (
        "".join(
            f'<li class="{"system" if m["type"] == "SystemMessage" else "user"}"><span class="who">'
            f"{_who(m['senderId'], data['names'])}</span> {escape(m['text'])}</li>"
            for m in data["messages"]
        )
        or '<li class="muted">No messages yet.</li>'
    )
    watching = "".join(f"<li><code>{escape(g)}</code></li>" for g in guests if g != SUPERVISOR_ID)
    return _template(
        "inspect.html",
        app_q=quote(app_id),
        cid_q=quote(conv["id"], safe=""),
        guest_count=len(guests),
        guests=watching or '<li class="muted">none besides you</li>',
        title=escape(conv["subject"] or conv["id"]),
        supervisor=SUPERVISOR_ID,
        count=len(data["messages"]),
        lines=lines,
        boot=json.dumps(boot).replace("<", "\\u003c"),
    )
