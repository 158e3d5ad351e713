"""The dashboard's login and forms, and the demo's seeding, without a browser (the browser suite
drives the same pages in Chromium)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from chinwag.clock import FakeClock
from chinwag.errors import RateLimited
from chinwag.schemas import UserPut, parse
from chinwag.services import admin, apps, dashboard, users
from chinwag.services.context import Context
from chinwag.web.app import create_app
from chinwag.web.dashboard import PAGE
from tests import dashboard_support

PASSWORD = "open sesame"


@pytest.fixture
def login(clock: FakeClock) -> admin.Admin:
    made, new = admin.prepare(None, PASSWORD, clock)
    assert new is None
    return made


@pytest.fixture
def client(ctx: Context, login: admin.Admin) -> Iterator[TestClient]:
    with TestClient(create_app(ctx, admin=login), follow_redirects=False) as c:
        yield c


def sign_in(client: TestClient) -> None:
    r = dashboard_support.sign_in(client, PASSWORD)
    assert r.status_code == 303, r.text
    assert "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()


def form(client: TestClient, **fields: str) -> dict[str, str]:
    page = client.get(f"/dashboard?app={fields.pop('app')}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    return {"csrf": csrf.group(1), **fields}


def test_password_hash_is_scrypt_and_checks(tmp_path: Path) -> None:
    stored = admin.hash_password("pw")
    assert stored.startswith("scrypt$16384$8$1$")
    assert admin.check_password("pw", stored)
    assert not admin.check_password("PW", stored)
    assert not admin.check_password("pw", "md5$nonsense")


def test_first_start_makes_a_password_and_keeps_only_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "admin.json"
    made, password = admin.prepare(str(path), None)
    assert password and made.login(password)
    saved = json.loads(path.read_text())
    assert password not in path.read_text() and saved["passwordHash"].startswith("scrypt$")
    assert path.stat().st_mode & 0o777 == 0o600
    again, none = admin.prepare(str(path), None)
    assert none is None and again.login(password)
    # CHINWAG_ADMIN_PASSWORD replaces it and signs everyone out.
    cookie = again.login(password)
    changed, _ = admin.prepare(str(path), "new one")
    assert changed.login("new one") and not changed.login(password)
    assert not changed.valid(cookie)


def test_sessions_expire(login: admin.Admin, clock: FakeClock) -> None:
    cookie = login.login(PASSWORD)
    assert cookie and login.valid(cookie)
    assert not login.valid(cookie + "0") and not login.valid("123.abc") and not login.valid(None)
    clock.advance(admin.SESSION_SECONDS * 1000 + 1000)
    assert not login.valid(cookie)


def test_sign_in_attempts_are_limited(login: admin.Admin, clock: FakeClock) -> None:
    for _ in range(10):
        assert login.login("wrong", "10.0.0.1") is None
    with pytest.raises(RateLimited):
        login.login(PASSWORD, "10.0.0.1")
    assert login.login(PASSWORD, "10.0.0.2")  # another client is not held up
    clock.advance(6_000)
    assert login.login(PASSWORD, "10.0.0.1")


def test_dashboard_needs_the_admin_password(client: TestClient, app_keys: apps.AppWithKeys) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200 and "Admin password" in page.text
    assert app_keys.secret_keys[0] not in page.text
    wrong = dashboard_support.sign_in(client, "nope")
    assert wrong.status_code == 401 and "not right" in wrong.text
    inspect = client.get(f"/dashboard/conversations/x?app={app_keys.app.id}")
    assert "Admin password" in inspect.text
    refused = client.post(
        "/dashboard/settings",
        content=f"app={app_keys.app.id}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert refused.status_code == 401


def test_settings_form_uses_the_seeds_wording_and_saves(
    client: TestClient, ctx: Context, app_keys: apps.AppWithKeys
) -> None:
    sign_in(client)
    app_id = app_keys.app.id
    page = client.get(f"/dashboard?app={app_id}").text
    for text in (
        "Disallow user synchronization via the browser",
        "Disallow conversation synchronization via the browser",
        "Identity verification",
        "Participant limit",
        "Notification delay",
        app_id,
        "Allowed: any visitor",
        "Off: anyone can claim any user id",
    ):
        assert text in page
    assert f'data-secret="{app_keys.secret_keys[0]}"' in page
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    missing_csrf = client.post(
        "/dashboard/settings",
        headers=headers,
        content=f"app={app_id}&participantLimit=5&notificationDelaySeconds=0",
    )
    assert missing_csrf.status_code == 400
    fields = form(
        client,
        app=app_id,
        disallowConversationSync="on",
        identityVerification="on",
        participantLimit="7",
        notificationDelaySeconds="30",
    )
    r = client.post("/dashboard/settings", data={"app": app_id, **fields})
    assert r.status_code == 303 and "saved=1" in r.headers["location"]
    s = apps.get_app(ctx, app_id).settings
    assert (s.allowUserSyncViaBrowser, s.allowConversationSyncViaBrowser) == (True, False)
    assert (s.identityVerification, s.participantLimit, s.notificationDelaySeconds) == (True, 7, 30)
    page = client.get(f"/dashboard?app={app_id}&saved=1").text
    assert "Settings saved." in page and "Guest access is <strong>off</strong>" in page
    bad = client.post(
        "/dashboard/settings",
        data={
            "app": app_id,
            **form(client, app=app_id, participantLimit="0", notificationDelaySeconds="x"),
        },
    )
    assert bad.status_code == 303 and "error=" in bad.headers["location"]
    assert apps.get_app(ctx, app_id).settings.participantLimit == 7


def test_users_conversations_and_inspection(
    client: TestClient, ctx: Context, app_keys: apps.AppWithKeys
) -> None:
    sign_in(client)
    app_id = app_keys.app.id
    info = dashboard.prepare_demo(ctx, app_id)
    assert info["conversationId"] == dashboard.DEMO_CONVERSATION
    assert dashboard.prepare_demo(ctx, app_id) == info  # seeding twice changes nothing
    page = client.get(f"/dashboard?app={app_id}").text
    assert "Sebastian" in page and dashboard.DEMO_CONVERSATION in page and "Open as guest" in page
    inspect = client.get(f"/dashboard/conversations/{dashboard.DEMO_CONVERSATION}?app={app_id}")
    assert inspect.status_code == 200
    # The page's script (no inline script: the dashboard's CSP forbids it) opens the live
    # conversation as the supervisor guest, with the invite the page minted for itself.
    assert '<script src="/static/dashboard-inspect.js">' in inspect.text
    assert '"invite":' in inspect.text and dashboard.DEMO_WELCOME in inspect.text
    assert "asGuest: true" in client.get("/static/dashboard-inspect.js").text
    assert client.get(f"/dashboard/conversations/nope?app={app_id}").status_code == 404
    assert "Next page" not in page


def test_users_are_listed_page_by_page(
    client: TestClient, ctx: Context, app_keys: apps.AppWithKeys
) -> None:
    sign_in(client)
    bodies = {f"u{i:03d}": parse(UserPut, {"name": f"User {i}"}) for i in range(PAGE + 5)}
    users.put_users(ctx, app_keys.app.id, bodies)
    first = client.get(f"/dashboard?app={app_keys.app.id}").text
    assert "u000" in first and f"u{PAGE - 1:03d}" in first and f"u{PAGE:03d}" not in first
    link = re.search(r'href="(/dashboard\?[^"]*usersAfter[^"]*)"', first)
    assert link
    second = client.get(link.group(1).replace("&amp;", "&")).text
    assert f"u{PAGE:03d}" in second and f"u{PAGE + 4:03d}" in second and "u000" not in second


def test_demo_page_and_sdk_are_served_cross_origin(
    client: TestClient, ctx: Context, app_keys: apps.AppWithKeys
) -> None:
    demo = client.get(f"/demo?app={app_keys.app.id}")
    assert demo.status_code == 200 and app_keys.app.id in demo.text
    assert app_keys.secret_keys[0] not in demo.text
    for path in ("/talk.js", "/talk.mjs", "/sdk/session.js"):
        r = client.get(path, headers={"Origin": "https://shop.example"})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    assert client.get("/sdk/../cli.py").status_code == 404
    pre = client.options(
        f"/v1/{app_keys.app.id}/settings",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "*"


def test_demo_is_off_where_it_would_grant_more_than_a_browser_has(
    client: TestClient, ctx: Context, app_keys: apps.AppWithKeys
) -> None:
    """With identity verification on (or a browser sync disallowed) the demo neither writes nor
    signs anything: it says why it is off."""
    app_id = app_keys.app.id
    apps.patch_settings(ctx, app_id, {"identityVerification": True})
    page = client.get(f"/demo?app={app_id}").text
    assert "The demo is off for this app" in page and '"disabled"' in page
    assert users.list_users(ctx, app_id, 10, None) == []
    apps.patch_settings(
        ctx, app_id, {"identityVerification": False, "allowUserSyncViaBrowser": False}
    )
    assert "The demo is off" in client.get(f"/demo?app={app_id}").text
    apps.patch_settings(ctx, app_id, {"allowUserSyncViaBrowser": True})
    assert "The demo is off" not in client.get(f"/demo?app={app_id}").text
    assert len(users.list_users(ctx, app_id, 10, None)) == len(dashboard.DEMO_USERS)


def test_signing_out_ends_the_session_everywhere(client: TestClient) -> None:
    """Logout revokes the session server-side: a copy of its cookie is refused afterwards."""
    sign_in(client)
    copied = client.cookies.get("chinwag_admin")
    assert copied and "Admin password" not in client.get("/dashboard").text
    assert client.post("/dashboard/logout").status_code == 303
    client.cookies.set("chinwag_admin", copied, path="/dashboard")
    assert "Admin password" in client.get("/dashboard").text


def test_sign_in_needs_the_forms_token(client: TestClient) -> None:
    """A page of another site cannot post the sign-in form (login CSRF): the form's token must
    match the cookie the sign-in page set."""
    r = client.post("/dashboard/login", data={"password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 400 and "expired" in r.text
    client.get("/dashboard")  # sets the login cookie
    r = client.post(
        "/dashboard/login", data={"password": PASSWORD, "csrf": "forged"}, follow_redirects=False
    )
    assert r.status_code == 400
    assert dashboard_support.sign_in(client, PASSWORD).status_code == 303


def test_dashboard_pages_refuse_framing_and_inline_script(client: TestClient) -> None:
    for page in (client.get("/dashboard"), client.get("/dashboard/audit")):
        assert page.headers["x-frame-options"] == "DENY"
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
        assert "<script>" not in page.text


def test_the_session_cookie_is_secure_over_https(ctx: Context, login: admin.Admin) -> None:
    with TestClient(
        create_app(ctx, admin=login), base_url="https://testserver", follow_redirects=False
    ) as c:
        r = dashboard_support.sign_in(c, PASSWORD)
        assert r.status_code == 303
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "admin" in v)
        assert "secure" in cookie.lower()
    with TestClient(create_app(ctx, admin=login), follow_redirects=False) as c:
        r = dashboard_support.sign_in(c, PASSWORD)
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "admin" in v)
        assert "secure" not in cookie.lower()
