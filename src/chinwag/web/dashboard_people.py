"""The dashboard's people pages: search users and conversations (``/dashboard/search``), create
or edit a user (``/dashboard/users``), and a conversation's participants, added, changed and
removed (``/dashboard/conversations/{id}/participants``).

Every change goes through the same services as REST, acting as the dashboard's admin, so it is
validated, audited and published exactly as a backend call would be.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from chinwag import ids
from chinwag.errors import ChinwagError, InvalidRequest
from chinwag.schemas import ParticipantPatch, ParticipantPut, UserPut, parse
from chinwag.services import dashboard, participants, users
from chinwag.web.dashboard import ADMIN_ACTOR, _login_page, _message, _page, _signed_in
from chinwag.web.dashboard_moderation import _checked_form, _csrf, _hidden

router = APIRouter(prefix="/dashboard", tags=["dashboard"], include_in_schema=False)

#: Search results per kind.
FOUND = 100


def _back(path: str, **query: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode(query)}", status_code=303)


def _status(done: str | None, error: str | None) -> str:
    if error:
        return f'<p class="error" role="alert">Not done: {escape(error)}</p>'
    if done:
        return f'<p class="ok" role="status">{escape(done)}</p>'
    return ""


# --- search and users ---------------------------------------------------------------------------


@router.get("/search")
async def search_page(request: Request) -> Response:
    if not _signed_in(request):
        return _login_page()
    q = request.query_params
    text = q.get("q", "").strip()
    ctx = request.app.state.ctx
    try:
        app = await run_in_threadpool(dashboard.pick_app, ctx, q.get("app"))
        aid = app.app.id
        found_users = await run_in_threadpool(dashboard.find_users, ctx, aid, text, FOUND)
        found_convs = await run_in_threadpool(dashboard.find_conversations, ctx, aid, text, FOUND)
    except ChinwagError as exc:
        return _message("No app", exc.reasons[0], 404)
    user_rows = "".join(
        f"<tr><td><code>{escape(u.id)}</code></td><td>{escape(u.name)}</td>"
        f"<td>{escape(u.role or '')}</td><td>{escape(', '.join(u.email or []))}</td>"
        f'<td><a class="button small" href="/dashboard/users?{_q(aid, user=u.id)}">Edit</a>'
        "</td></tr>"
        for u in found_users
    ) or '<tr><td colspan="5" class="muted">No users match.</td></tr>'
    conv_rows = "".join(
        f"<tr><td><code>{escape(c['id'])}</code></td><td>{escape(c['subject'] or '')}</td>"
        f"<td>{len(c['participants'])}</td><td>{escape(c['guestAccess'])}</td>"
        f'<td><a class="button small" href="{_participants_url(aid, c["id"])}">Participants</a>'
        "</td></tr>"
        for c in found_convs
    ) or '<tr><td colspan="5" class="muted">No conversations match.</td></tr>'
    body = f"""<header class="top">
  <a class="brand" href="/dashboard?{_q(aid)}"><span class="logo" aria-hidden="true">●</span>
  Chinwag</a><nav aria-label="Sections"><a href="/dashboard?{_q(aid)}">← Overview</a>
  <a href="/dashboard/users?{_q(aid)}">New user</a></nav></header>
<main class="wrap">
  <section class="card" id="search">
    <h2>Search</h2>
    <form method="get" action="/dashboard/search" class="inline" role="search">
      <input type="hidden" name="app" value="{escape(aid)}">
      <label>Id, name or subject <input name="q" value="{escape(text)}" autofocus></label>
      <button type="submit">Search</button></form>
  </section>
  <section class="card" id="found-users">
    <h2>Users <span class="muted small">(id starting with, or name containing, the text)</span></h2>
    <div class="table"><table><thead><tr><th>Id</th><th>Name</th><th>Role</th><th>Email</th>
      <th></th></tr></thead><tbody>{user_rows}</tbody></table></div>
  </section>
  <section class="card" id="found-conversations">
    <h2>Conversations <span class="muted small">(id starting with, or subject containing, the
    text)</span></h2>
    <div class="table"><table><thead><tr><th>Id</th><th>Subject</th><th>Participants</th>
      <th>Guest access</th><th></th></tr></thead><tbody>{conv_rows}</tbody></table></div>
  </section>
</main>"""
    return _page("Search", body)


@router.get("/users")
async def user_page(request: Request) -> Response:
    """The form to create a user, or to edit the one named by ``?user=``."""
    if not _signed_in(request):
        return _login_page()
    q = request.query_params
    ctx = request.app.state.ctx
    try:
        app = await run_in_threadpool(dashboard.pick_app, ctx, q.get("app"))
        user = None
        if q.get("user"):
            user = await run_in_threadpool(users.get_user, ctx, app.app.id, q["user"])
    except ChinwagError as exc:
        return _message("Not found", exc.reasons[0], 404)
    aid = app.app.id
    value = {
        "id": user.id if user else "",
        "name": user.name if user else "",
        "email": ", ".join(user.email or []) if user else "",
        "phone": ", ".join(user.phone or []) if user else "",
        "role": (user.role or "") if user else "",
    }
    readonly = " readonly" if user else " required"
    title = f"Edit {user.id}" if user else "New user"
    body = f"""<header class="top">
  <a class="brand" href="/dashboard?{_q(aid)}"><span class="logo" aria-hidden="true">●</span>
  Chinwag</a><nav aria-label="Sections"><a href="/dashboard/search?{_q(aid)}">← Search</a></nav>
</header>
<main class="wrap"><section class="card" id="user">
  <h2>{escape(title)}</h2>{_status(q.get("done"), q.get("error"))}
  <form method="post" action="/dashboard/users" class="settings">{_hidden(aid, _csrf(request))}
    <label>Id <input name="userId" value="{escape(value["id"])}"{readonly}></label>
    <label>Name <input name="name" value="{escape(value["name"])}" required></label>
    <label>Email <span class="muted small">(comma-separated)</span>
      <input name="email" value="{escape(value["email"])}"></label>
    <label>Phone <span class="muted small">(comma-separated)</span>
      <input name="phone" value="{escape(value["phone"])}"></label>
    <label>Role <input name="role" value="{escape(value["role"])}"></label>
    <button type="submit" class="primary">Save user</button>
  </form></section></main>"""
    return _page(title, body)


@router.post("/users")
async def save_user(request: Request) -> Response:
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    aid, uid = form.get("app", ""), form.get("userId", "").strip()
    body: dict[str, Any] = {"name": form.get("name", "").strip()}
    for key in ("email", "phone"):
        items = [x.strip() for x in form.get(key, "").split(",") if x.strip()]
        body[key] = items or None
    body["role"] = form.get("role", "").strip() or None
    ctx = request.app.state.ctx.acting(ADMIN_ACTOR)
    try:
        if not uid:
            raise InvalidRequest("the user needs an id")
        ids.check_id(uid, "user id")
        await run_in_threadpool(users.put_user, ctx, aid, uid, parse(UserPut, body))
    except ChinwagError as exc:
        return _back("/dashboard/users", app=aid, user=uid, error=exc.reasons[0])
    return _back("/dashboard/users", app=aid, user=uid, done="Saved.")


# --- a conversation's participants ------------------------------------------------------------


def _q(app_id: str, **more: str) -> str:
    return escape(urlencode({"app": app_id, **more}))


def _participants_url(app_id: str, cid: str) -> str:
    return escape(f"/dashboard/conversations/{quote(cid, safe='')}/participants?") + _q(app_id)


@router.get("/conversations/{conversation_id}/participants")
async def participants_page(request: Request, conversation_id: str) -> Response:
    if not _signed_in(request):
        return _login_page()
    q = request.query_params
    ctx = request.app.state.ctx
    try:
        app = await run_in_threadpool(dashboard.pick_app, ctx, q.get("app"))
        rows = await run_in_threadpool(dashboard.memberships, ctx, app.app.id, conversation_id)
    except ChinwagError as exc:
        return _message("Not found", exc.reasons[0], 404)
    aid, hidden = app.app.id, _hidden(app.app.id, _csrf(request))
    base = escape(f"/dashboard/conversations/{quote(conversation_id, safe='')}/participants")

    def row(p: dict[str, Any]) -> str:
        uid = p["userId"]
        state = p["access"] if p["isMember"] else "removed"
        options = "".join(
            f'<option{" selected" if a == p["access"] else ""}>{a}</option>'
            for a in ("ReadWrite", "Read", "None")
        )
        change = (
            f'<form method="post" action="{base}/change" class="inline">{hidden}'
            f'<input type="hidden" name="userId" value="{escape(uid)}">'
            f'<label class="sr" for="a-{escape(uid)}">Access of {escape(uid)}</label>'
            f'<select id="a-{escape(uid)}" name="access">{options}</select>'
            '<button type="submit" class="small">Set</button>'
            '<button type="submit" class="small" name="remove" value="1">Remove</button></form>'
            if p["isMember"]
            else ""
        )
        name = escape(p["name"] or "")
        return (
            f"<tr><td>{name} <code class='small'>{escape(uid)}</code></td><td>{escape(state)}"
            f"</td><td>{escape(str(p['notify']).lower())}</td><td>{change}</td></tr>"
        )

    table = "".join(row(p) for p in rows) or (
        '<tr><td colspan="4" class="muted">No participants yet.</td></tr>'
    )
    body = f"""<header class="top">
  <a class="brand" href="/dashboard?{_q(aid)}"><span class="logo" aria-hidden="true">●</span>
  Chinwag</a><nav aria-label="Sections"><a href="/dashboard?{_q(aid)}#conversations">←
  Conversations</a></nav></header>
<main class="wrap"><section class="card" id="participants">
  <h2>Participants of <code>{escape(conversation_id)}</code></h2>
  {_status(q.get("done"), q.get("error"))}
  <div class="table"><table><thead><tr><th>User</th><th>Access</th><th>Notify</th><th></th>
    </tr></thead><tbody>{table}</tbody></table></div>
  <h3>Add a participant</h3>
  <form method="post" action="{base}/add" class="inline">{hidden}
    <label>User id <input name="userId" required></label>
    <label>Access <select name="access"><option>ReadWrite</option><option>Read</option></select>
    </label><button type="submit">Add</button></form>
</section></main>"""
    return _page(f"Participants of {conversation_id}", body)


@router.post("/conversations/{conversation_id}/participants/{action}")
async def change_participant(request: Request, conversation_id: str, action: str) -> Response:
    form = await _checked_form(request)
    if isinstance(form, Response):
        return form
    aid, uid = form.get("app", ""), form.get("userId", "").strip()
    path = f"/dashboard/conversations/{quote(conversation_id, safe='')}/participants"
    ctx = request.app.state.ctx.acting(ADMIN_ACTOR)
    try:
        if action == "add":
            body = parse(ParticipantPut, {"access": form.get("access", "ReadWrite")})
            await run_in_threadpool(
                participants.put_participant, ctx, aid, conversation_id, uid, body
            )
            done = f"Added {uid}."
        elif action == "change" and form.get("remove"):
            await run_in_threadpool(
                participants.delete_participant, ctx, aid, conversation_id, uid
            )
            done = f"Removed {uid}."
        elif action == "change":
            patch = parse(ParticipantPatch, {"access": form.get("access", "")})
            await run_in_threadpool(
                participants.patch_participant, ctx, aid, conversation_id, uid, patch
            )
            done = f"Set the access of {uid} to {form.get('access')}."
        else:
            return _message("Not found", f"no action {action[:40]!r}", 404)
    except ChinwagError as exc:
        return _back(path, app=aid, error=exc.reasons[0])
    return _back(path, app=aid, done=done)
