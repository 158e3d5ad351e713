# ruff: noqa: F811  (pytest fixtures imported from tests.test_notif_support)
"""The dashboard page that shows recorded and sent notifications and webhook deliveries."""

from __future__ import annotations

from starlette.testclient import TestClient

from chinwag.clock import FakeClock
from chinwag.services import admin, apps
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests import dashboard_support
from tests.conftest import Api
from tests.test_notif_support import (  # noqa: F401
    allow_private_webhooks,
    make_worker,
    nctx,
    notif_db,
    notif_db_url,
)

PASSWORD = "open sesame"


def test_recorded_notifications_and_deliveries_are_visible(
    nctx: Context, clock: FakeClock, allow_private_webhooks: None
) -> None:
    login, _ = admin.prepare(None, PASSWORD, clock)
    keys = apps.create_app(nctx, "Shop")
    with TestClient(create_app(nctx, admin=login), follow_redirects=False) as client:
        api = Api(client, keys.app.id, keys.secret_keys[0])
        page = f"/dashboard/notifications?app={api.app_id}"
        assert client.get(page).status_code == 303  # signed-in admins only
        api.ok(api.patch("/settings", {"notificationDelaySeconds": 0}))
        api.ok(
            api.post("/webhooks", {"url": "http://127.0.0.1:9/<hook>", "events": ["message.sent"]})
        )
        api.ok(api.put("/users/alice", {"name": "Alice", "email": "alice@example.com"}))
        api.ok(api.put("/users/bob", {"name": "Bob"}))
        api.ok(api.put("/conversations/c", {"participants": ["alice", "bob"]}))
        api.ok(
            api.post(
                "/conversations/c/messages",
                [{"type": "UserMessage", "sender": "bob", "text": "hi"}],
            )
        )
        # No SMTP server, no SMS API: recorded only.
        worker = make_worker(nctx.db, clock, allow_private_webhooks=True)
        try:
            worker.drain()
        finally:
            worker.close()
        r = dashboard_support.sign_in(client, PASSWORD)
        assert r.status_code == 303
        html = client.get(page).text
        assert "alice@example.com" in html and ">recorded<" in html
        assert "no email provider configured" in html
        assert "http://127.0.0.1:9/&lt;hook&gt;" in html and "<hook>" not in html
        assert "message.sent" in html and ">pending<" in html  # nothing listens there: retrying
        assert client.get("/dashboard/notifications?app=nope").status_code == 404
