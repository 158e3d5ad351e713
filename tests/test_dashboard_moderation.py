"""The dashboard's guest controls and audit log, on both databases: every form needs the admin
session and its CSRF token, acts through the moderation services as ``admin:operator``, and the
audit log pages and exports what was done."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from chinwag.clock import FakeClock
from chinwag.schemas import ConversationPut, UserPut
from chinwag.services import admin, apps, audit, conversations, messages, moderation, users
from chinwag.services.context import Context
from chinwag.web.app import create_app
from chinwag.web.dashboard_moderation import AUDIT_PAGE
from tests.test_dashboard import PASSWORD, sign_in

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client(ctx: Context, clock: FakeClock, app_keys: apps.AppWithKeys) -> Iterator[TestClient]:
    login, _ = admin.prepare(None, PASSWORD, clock)
    app_id = app_keys.app.id
    for uid in ("host", "g1"):
        users.put_user(ctx, app_id, uid, UserPut(name=uid))
    conversations.put_conversation(ctx, app_id, "room", ConversationPut(participants=["host"]))
    with TestClient(create_app(ctx, admin=login), follow_redirects=False) as c:
        yield c


def page_of(client: TestClient, app_id: str) -> str:
    r = client.get(f"/dashboard/conversations/room/moderation?app={app_id}")
    assert r.status_code == 200, r.text
    return r.text


def post(client: TestClient, app_id: str, path: str, **fields: str) -> Any:
    csrf = re.search(r'name="csrf" value="([^"]+)"', page_of(client, app_id))
    assert csrf
    data = {"app": app_id, "csrf": csrf.group(1), **fields}
    return client.post(f"/dashboard/conversations/room/{path}", data=data)


def done(r: Any) -> str:
    assert r.status_code == 303, r.text
    location: str = r.headers["location"]
    assert "done=" in location, location
    return location


def test_forms_need_the_session_and_the_csrf_token(
    client: TestClient, ctx: Context, app_keys: apps.AppWithKeys
) -> None:
    app_id = app_keys.app.id
    body = f"app={app_id}&userId=g1"
    assert (
        client.post(
            "/dashboard/conversations/room/guests/ban", content=body, headers=FORM
        ).status_code
        == 401
    )
    for path in (
        "/dashboard/conversations/room/moderation",
        "/dashboard/audit",
        "/dashboard/audit/export",
    ):
        assert "Admin password" in client.get(f"{path}?app={app_id}").text
    sign_in(client)
    r = client.post("/dashboard/conversations/room/guests/ban", content=body, headers=FORM)
    assert r.status_code == 400
    assert moderation.restrictions(ctx, app_id, "room") == []


def test_guest_controls(
    client: TestClient, ctx: Context, clock: FakeClock, app_keys: apps.AppWithKeys
) -> None:
    sign_in(client)
    app_id = app_keys.app.id
    assert "No guests are watching right now" in page_of(client, app_id)

    # A guest watching shows in the roster, with buttons; kicking it from there unlinks it.
    with client.websocket_connect(f"/v1/{app_id}/realtime/g1") as ws:
        ws.send_text(json.dumps([0, "SUBSCRIBE", "me/conversations/room", {"asGuest": True}]))
        assert json.loads(ws.receive_text())[1] == 200
        page = page_of(client, app_id)
        assert 'id="roster"' in page and "<code>g1</code>" in page
        assert 'aria-label="Kick g1"' in page and 'aria-label="Ban g1"' in page
        done(post(client, app_id, "guests/kick", userId="g1"))
        types: list[str] = []
        while "subscription.ended" not in types:
            types += [e["type"] for e in json.loads(ws.receive_text())[2:]]
        assert types == ["guest.kicked", "subscription.ended"]
    assert "No guests are watching right now" in page_of(client, app_id)

    # Ban for a minute, mute until lifted, then lift the ban.
    done(post(client, app_id, "guests/ban", userId="g2", durationSeconds="60", reason="spam"))
    done(post(client, app_id, "guests/mute", userId="g3", durationSeconds=""))
    found = {
        (r.user_id, r.restriction.kind.value): r.restriction.until
        for r in moderation.restrictions(ctx, app_id, "room")
    }
    assert found == {("g2", "ban"): clock.now_ms() + 60_000, ("g3", "mute"): None}
    page = page_of(client, app_id)
    assert "spam" in page and "until lifted" in page
    done(post(client, app_id, "lift", userId="g2", kind="ban"))
    assert [r.user_id for r in moderation.restrictions(ctx, app_id, "room")] == ["g3"]
    bad = post(client, app_id, "guests/ban", userId="g4", durationSeconds="soon")
    assert "error=" in bad.headers["location"]
    assert client.get(bad.headers["location"]).text.count("Not done") == 1
    assert client.post("/dashboard/conversations/room/guests/explode").status_code == 404

    # Guest policy.
    done(post(client, app_id, "guest-access", guestAccess="Read"))
    assert conversations.get_conversation(ctx, app_id, "room")["guestAccess"] == "Read"
    assert "error=" in post(client, app_id, "guest-access", guestAccess="All").headers["location"]

    # Invites: minted (the token shown once, in the answer), listed, revoked.
    r = post(client, app_id, "invites", access="ReadWrite", expiresInSeconds="600")
    assert r.status_code == 200 and "Invite minted." in r.text
    token = re.search(r'<code id="minted">([^<]+)</code>', r.text)
    assert token
    (invite,) = moderation.invites(ctx, app_id, "room")
    assert invite.expires_at == clock.now_ms() + 600_000
    done(post(client, app_id, "invites/revoke", inviteId=invite.id))
    assert moderation.invites(ctx, app_id, "room")[0].revoked_at is not None
    assert "revoked" in page_of(client, app_id)

    actors = {e.actor for e in audit.entries(ctx, app_id, 100, None)}
    assert actors == {"admin:operator"}


def test_inspection_silent_or_announced_is_recorded(
    client: TestClient, ctx: Context, app_keys: apps.AppWithKeys
) -> None:
    sign_in(client)
    app_id = app_keys.app.id
    assert client.get(f"/dashboard/conversations/room?app={app_id}").status_code == 200
    r = post(client, app_id, "inspect", mode="announced")
    assert r.status_code == 200 and "/static/dashboard-inspect.js" in r.text
    assert "A supervisor (operator) joined to review." in r.text  # in the transcript
    r = post(client, app_id, "inspect", mode="silent")
    assert r.status_code == 200
    views = [e for e in audit.entries(ctx, app_id, 100, None) if e.action == "supervisor.viewed"]
    assert [(e.actor, e.data["announced"]) for e in views] == [
        ("admin:operator", False),
        ("admin:operator", True),
        ("admin:operator", False),
    ]
    texts = [m["text"] for m in messages.history(ctx, app_id, "room", 10, None)]
    assert texts == ["A supervisor (operator) joined to review."]


def test_audit_log_pages_and_exports(
    client: TestClient, ctx: Context, clock: FakeClock, app_keys: apps.AppWithKeys
) -> None:
    sign_in(client)
    app_id = app_keys.app.id
    for i in range(AUDIT_PAGE + 3):
        clock.advance(1)
        moderation.kick(ctx.acting("backend"), app_id, "room", f"k{i:03d}", None)
    total = len(audit.entries(ctx, app_id, 500, None))
    first = client.get(f"/dashboard/audit?app={app_id}")  # newest first
    newest = f"k{AUDIT_PAGE + 2:03d}"
    assert first.status_code == 200 and newest in first.text and "k000" not in first.text
    assert "guest.kicked" in first.text and "/dashboard/audit/export" in first.text
    assert "{&quot;reason&quot;: null}" in first.text  # details as JSON
    link = re.search(r'href="(/dashboard/audit\?[^"]*after=[^"]*)"', first.text)
    assert link
    second = client.get(link.group(1).replace("&amp;", "&")).text  # older entries
    assert "k000" in second and newest not in second
    scoped = client.get(f"/dashboard/audit?app={app_id}&conversationId=elsewhere").text
    assert "No entries." in scoped
    export = client.get(f"/dashboard/audit/export?app={app_id}")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert len(lines) == total and lines[0]["actor"] == "backend"


def test_moderator_roles_in_the_settings_form(
    client: TestClient, ctx: Context, app_keys: apps.AppWithKeys
) -> None:
    sign_in(client)
    app_id = app_keys.app.id
    page = client.get(f"/dashboard?app={app_id}").text
    assert 'name="moderatorRoles" value=""' in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    fields = {
        "app": app_id,
        "csrf": csrf.group(1),
        "participantLimit": "50",
        "notificationDelaySeconds": "60",
        "moderatorRoles": " moderator, host ,,",
    }
    r = client.post("/dashboard/settings", data=fields)
    assert r.status_code == 303 and "saved=1" in r.headers["location"]
    assert apps.get_app(ctx, app_id).settings.moderatorRoles == ("moderator", "host")
    assert 'value="moderator, host"' in client.get(f"/dashboard?app={app_id}").text
    (entry,) = [e for e in audit.entries(ctx, app_id, 10, None) if e.action == "settings.changed"]
    assert entry.actor == "admin:operator"
