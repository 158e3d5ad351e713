"""The operator's dashboard at ``/dashboard``: admin login, an app's keys, its security settings,
limits, users and conversations, and opening any conversation as a guest (supervisor inspection).

Server-rendered HTML with plain forms; each handler checks the admin session, makes one service
call and renders. The admin credential comes from :mod:`chinwag.services.admin`.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from chinwag.errors import ChinwagError
from chinwag.services import admin as admin_service
from chinwag.services import apps, dashboard
from chinwag.services.admin import COOKIE, Admin

router = APIRouter(prefix="/dashboard", tags=["dashboard"], include_in_schema=False)

#: The user id the dashboard watches conversations as (a guest, never a participant).
SUPERVISOR_ID = "chinwag-supervisor"

WARNINGS = {
    "user": "Allowed: any visitor's browser can create users and change their name, email, phone, "
    "photo and custom data, just by running code on your page.",
    "conversation": "Allowed: any visitor's browser can create conversations, add participants, "
    "change access and subjects. Together with user sync it also lets anyone who knows a "
    "conversation id join it as a guest.",
    "identity": "Off: anyone can claim any user id from the browser and read and write as that "
    "user. Turn this on and sign each user id on your backend (signature or token).",
}


def _admin(request: Request) -> Admin | None:
    admin: Admin | None = getattr(request.app.state, "admin", None)
    return admin


def _signed_in(request: Request) -> bool:
    admin = _admin(request)
    return admin is not None and admin.valid(request.cookies.get(COOKIE))


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Chinwag dashboard</title>
<link rel="stylesheet" href="/static/dashboard.css"></head>
<body>{body}</body></html>"""
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _login_page(error: str = "", status: int = 200) -> HTMLResponse:
    note = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return _page("Sign in", f"""
<main class="login">
  <form method="post" action="/dashboard/login" class="card">
    <h1><span class="logo" aria-hidden="true">●</span> Chinwag dashboard</h1>
    <p class="muted">Sign in with the admin password printed by <code>chinwag serve</code> on first
    start (or set with <code>CHINWAG_ADMIN_PASSWORD</code>).</p>
    {note}
    <label for="password">Admin password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
    <button type="submit" class="primary">Sign in</button>
  </form>
</main>""", status)


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", "replace")
    return {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}


@router.get("")
def home(request: Request) -> Response:
    if not _signed_in(request):
        return _login_page()
    ctx = request.app.state.ctx
    app_id = request.query_params.get("app")
    try:
        overview = dashboard.overview(ctx, app_id)
    except ChinwagError as exc:
        return _page("No app", f'<main class="wrap"><p class="error">{escape(exc.reasons[0])}</p></main>', 404)
    all_apps = apps.list_apps(ctx)
    cookie = request.cookies.get(COOKIE, "")
    admin = _admin(request)
    assert admin is not None
    return _page("Overview", _overview_html(overview, all_apps, admin.csrf_token(cookie),
                                            request.query_params.get("saved"),
                                            request.query_params.get("error")))


@router.post("/login")
async def login(request: Request) -> Response:
    admin = _admin(request)
    if admin is None:
        return _login_page("The dashboard is not configured on this server.", 503)
    form = await _form(request)
    cookie = admin.login(form.get("password", ""))
    if cookie is None:
        return _login_page("That password is not right.", 401)
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(COOKIE, cookie, max_age=admin_service.SESSION_SECONDS, httponly=True,
                        samesite="strict", path="/dashboard")
    return response


@router.post("/logout")
def logout() -> Response:
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
        return _page("Refused", '<main class="wrap"><p class="error">The form expired; reload the page.</p></main>', 400)
    back = f"/dashboard?{urlencode({'app': app_id})}"
    try:
        changes: dict[str, object] = {
            "allowUserSyncViaBrowser": "disallowUserSync" not in form,
            "allowConversationSyncViaBrowser": "disallowConversationSync" not in form,
            "identityVerification": "identityVerification" in form,
            "participantLimit": _int(form, "participantLimit", "Participant limit"),
            "notificationDelaySeconds": _int(form, "notificationDelaySeconds", "Notification delay"),
        }
        apps.patch_settings(request.app.state.ctx, app_id, changes)
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
def inspect(request: Request, conversation_id: str) -> Response:
    """Supervisor inspection: the transcript, and the live conversation opened as a guest."""
    if not _signed_in(request):
        return _login_page()
    ctx = request.app.state.ctx
    try:
        app = dashboard.pick_app(ctx, request.query_params.get("app"))
        data = dashboard.transcript(ctx, app.app.id, conversation_id)
    except ChinwagError as exc:
        return _page("Not found", f'<main class="wrap"><p class="error">{escape(exc.reasons[0])}</p>'
                     '<p><a href="/dashboard">Back</a></p></main>', 404)
    boot = {
        "appId": app.app.id,
        "conversationId": conversation_id,
        "me": {"id": SUPERVISOR_ID, "name": "Supervisor"},
        "signature": dashboard.signature(app.secret_keys[0], SUPERVISOR_ID),
    }
    return _page(f"Inspect {conversation_id}", _inspect_html(app.app.id, data, boot))


# --- rendering ------------------------------------------------------------------------------


def _overview_html(o: dashboard.Overview, all_apps: list[apps.AppWithKeys], csrf: str,
                   saved: str | None, error: str | None) -> str:
    app = o.app.app
    s = app.settings
    app_q = quote(app.id)
    options = "".join(
        f'<option value="{escape(a.app.id)}"{" selected" if a.app.id == app.id else ""}>'
        f"{escape(a.app.name)} ({escape(a.app.id)})</option>" for a in all_apps
    )
    keys = "".join(
        f'<li><code class="secret" data-secret="{escape(k)}">{escape(k[:12])}…</code> '
        f'<button type="button" class="small" data-reveal aria-label="Show secret key {i + 1}">Show</button></li>'
        for i, k in enumerate(o.app.secret_keys)
    )
    status = ""
    if saved:
        status = '<p class="ok" role="status">Settings saved.</p>'
    if error:
        status = f'<p class="error" role="alert">Not saved: {escape(error)}</p>'
    users = "".join(
        f"<tr><td><code>{escape(u['id'])}</code></td><td>{escape(u['name'] or '')}</td>"
        f"<td>{escape(u['role'] or '')}</td><td>{escape(', '.join(u['email'] or []))}</td></tr>"
        for u in o.users
    ) or '<tr><td colspan="4" class="muted">No users yet.</td></tr>'
    convs = "".join(_conversation_row(app_q, c) for c in o.conversations) or (
        '<tr><td colspan="5" class="muted">No conversations yet.</td></tr>'
    )
    guest_ok = s.allowUserSyncViaBrowser and s.allowConversationSyncViaBrowser

    def check(name: str, label: str, checked: bool, warning: str, warn_when_unchecked: bool) -> str:
        warn = (not checked) if warn_when_unchecked else checked
        return f"""
      <div class="setting">
        <label class="check"><input type="checkbox" name="{name}"{" checked" if checked else ""}> {escape(label)}</label>
        <p class="warning" data-for="{name}"{"" if warn else " hidden"}>{escape(warning)}</p>
      </div>"""

    return f"""
<header class="top">
  <a class="brand" href="/dashboard"><span class="logo" aria-hidden="true">●</span> Chinwag</a>
  <form method="get" action="/dashboard" class="app-pick">
    <label for="app-select" class="sr">App</label>
    <select id="app-select" name="app" onchange="this.form.submit()">{options}</select>
    <noscript><button type="submit">Open</button></noscript>
  </form>
  <nav aria-label="Sections"><a href="#keys">Keys</a><a href="#settings">Settings</a><a href="#users">Users</a><a href="#conversations">Conversations</a></nav>
  <form method="post" action="/dashboard/logout"><button type="submit" class="link">Sign out</button></form>
</header>
<main class="wrap">
  <section id="keys" class="card">
    <h2>App</h2>
    <dl class="facts">
      <dt>App id</dt><dd><code id="app-id">{escape(app.id)}</code></dd>
      <dt>Name</dt><dd>{escape(app.name)}</dd>
      <dt>Secret keys</dt><dd><ul class="keys">{keys}</ul>
        <p class="muted small">Keep secret keys on your backend: they sign REST calls and identity verification.</p></dd>
      <dt>Script tag</dt><dd><code>&lt;script src="/talk.js"&gt;&lt;/script&gt;</code> from this server</dd>
    </dl>
  </section>

  <section id="settings" class="card">
    <h2>Security settings</h2>
    {status}
    <form method="post" action="/dashboard/settings" class="settings">
      <input type="hidden" name="app" value="{escape(app.id)}">
      <input type="hidden" name="csrf" value="{escape(csrf)}">
      {check("disallowUserSync", "Disallow user synchronization via the browser", not s.allowUserSyncViaBrowser, WARNINGS["user"], True)}
      {check("disallowConversationSync", "Disallow conversation synchronization via the browser", not s.allowConversationSyncViaBrowser, WARNINGS["conversation"], True)}
      <p class="note" id="guest-note">{"Guest access is <strong>possible</strong>: both synchronizations are allowed, so anyone who knows a conversation id can open it as a guest (unless its guestAccess is None)." if guest_ok else "Guest access is <strong>off</strong>: it needs both synchronizations allowed."}</p>
      {check("identityVerification", "Identity verification (require a signature or token for every browser session)", s.identityVerification, WARNINGS["identity"], True)}
      <h3>Limits</h3>
      <div class="row">
        <label>Participant limit <span class="muted small">(every user who was ever a participant takes a slot; guests never do)</span>
          <input type="number" name="participantLimit" min="1" value="{s.participantLimit}" required></label>
        <label>Notification delay, seconds <span class="muted small">(how long a message stays unread before email/SMS)</span>
          <input type="number" name="notificationDelaySeconds" min="0" value="{s.notificationDelaySeconds}" required></label>
      </div>
      <button type="submit" class="primary">Save settings</button>
    </form>
  </section>

  <section id="users" class="card">
    <h2>Users <span class="muted small">({len(o.users)} shown)</span></h2>
    <div class="table"><table><thead><tr><th>Id</th><th>Name</th><th>Role</th><th>Email</th></tr></thead>
    <tbody>{users}</tbody></table></div>
  </section>

  <section id="conversations" class="card">
    <h2>Conversations <span class="muted small">({len(o.conversations)} shown)</span></h2>
    <div class="table"><table><thead><tr><th>Id</th><th>Subject</th><th>Participants</th><th>Guests</th><th></th></tr></thead>
    <tbody>{convs}</tbody></table></div>
  </section>
</main>
<script>
for (const button of document.querySelectorAll("[data-reveal]")) {{
  button.addEventListener("click", () => {{
    const code = button.previousElementSibling;
    const shown = button.textContent === "Hide";
    code.textContent = shown ? code.dataset.secret.slice(0, 12) + "…" : code.dataset.secret;
    button.textContent = shown ? "Show" : "Hide";
  }});
}}
for (const box of document.querySelectorAll(".settings input[type=checkbox]")) {{
  box.addEventListener("change", () => {{
    const warning = document.querySelector(`[data-for="${{box.name}}"]`);
    if (warning) warning.hidden = box.checked;
  }});
}}
</script>"""


def _conversation_row(app_q: str, c: dict[str, Any]) -> str:
    names = ", ".join(f"{escape(uid)} ({escape(p['access'])})" for uid, p in c["participants"].items())
    link = f"/dashboard/conversations/{quote(c['id'], safe='')}?app={app_q}"
    return (
        f"<tr><td><code>{escape(c['id'])}</code></td><td>{escape(c['subject'] or '')}</td>"
        f"<td>{names or '<span class=muted>none</span>'}</td><td>{escape(c['guestAccess'])}</td>"
        f'<td><a class="button small" href="{escape(link)}">Open as guest</a></td></tr>'
    )


def _inspect_html(app_id: str, data: dict[str, Any], boot: dict[str, Any]) -> str:
    conv = data["conversation"]
    lines = "".join(
        f'<li class="{ "system" if m["type"] == "SystemMessage" else "user"}"><span class="who">'
        f'{escape(m["senderId"] or "system")}</span> {escape(m["text"])}</li>'
        for m in data["messages"]
    ) or '<li class="muted">No messages yet.</li>'
    boot_json = json.dumps(boot).replace("<", "\\u003c")
    return f"""
<header class="top">
  <a class="brand" href="/dashboard?app={quote(app_id)}"><span class="logo" aria-hidden="true">●</span> Chinwag</a>
  <nav aria-label="Sections"><a href="/dashboard?app={quote(app_id)}#conversations">← Conversations</a></nav>
</header>
<main class="wrap inspect">
  <section class="card">
    <h2>{escape(conv["subject"] or conv["id"])}</h2>
    <p class="muted">Supervisor inspection: you watch as the guest <code>{SUPERVISOR_ID}</code>. You are not
    a participant, are not listed in the header, and leave no trace but the messages you send.</p>
    <div id="live" class="live" aria-label="Live conversation"></div>
  </section>
  <section class="card">
    <h2>Transcript <span class="muted small">(newest {len(data["messages"])} messages, as stored)</span></h2>
    <ol class="transcript">{lines}</ol>
  </section>
</main>
<script src="/talk.js"></script>
<script>
(async () => {{
  const boot = {boot_json};
  await Talk.ready;
  const me = new Talk.User(boot.me);
  const session = new Talk.Session({{ appId: boot.appId, me, signature: boot.signature }});
  const chatbox = session.createChatbox();
  chatbox.mount(document.getElementById("live"));
  chatbox.select(boot.conversationId, {{ asGuest: true }});
}})();
</script>"""
