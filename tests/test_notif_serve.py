# ruff: noqa: F811  (pytest fixtures imported from tests.test_notif_support)
"""``chinwag serve`` delivers by itself: its in-process worker mails, texts and calls webhooks.

A real server process configured only through environment variables, as an operator would,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from chinwag.webhooks import signing
from tests.test_notif_support import (  # noqa: F401  (fixtures)
    HttpRecorder,
    SmtpServer,
    free_port,
    hook_server,
    notif_db_url,
    sms_server,
    smtp_server,
)

APP, SECRET = "serveapp", "sk_test_serve_0123456789"


def wait_for(condition: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_serve_runs_the_worker(
    tmp_path: Path,
    notif_db_url: str,
    smtp_server: SmtpServer,
    sms_server: HttpRecorder,
    hook_server: HttpRecorder,
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHINWAG_")}
    env.update(
        CHINWAG_DATABASE_URL=notif_db_url,
        CHINWAG_PORT=str(port),
        CHINWAG_APP_ID=APP,
        CHINWAG_SECRET_KEY=SECRET,
        CHINWAG_LOG_LEVEL="warning",
        CHINWAG_SMTP_URL=smtp_server.url,
        CHINWAG_EMAIL_FROM="chat@example.test",
        CHINWAG_SMS_URL=sms_server.url,
        CHINWAG_SMS_ACCOUNT="AC9",
        CHINWAG_SMS_TOKEN="tok",
        CHINWAG_SMS_FROM="+15550000000",
        CHINWAG_NOTIFICATION_URL="https://app.example.test/chat/{conversationId}",
        CHINWAG_ADMIN_PASSWORD="admin-password-for-tests",
        CHINWAG_DATA_DIR=str(tmp_path),
        CHINWAG_WEBHOOK_ALLOW_PRIVATE="on",  # the receiver is on loopback
    )
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "chinwag", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}/v1/{APP}"
    auth = {"Authorization": f"Bearer {SECRET}"}
    try:

        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            except httpx.TransportError:
                return proc.poll() is not None

        wait_for(up, "the server to start")
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        with httpx.Client(base_url=base, headers=auth, timeout=10) as api:

            def ok(response: httpx.Response) -> Any:
                assert response.status_code == 200, response.text
                return response.json()

            ok(api.patch("/settings", json={"notificationDelaySeconds": 0}))
            ok(
                api.post(
                    "/webhooks",
                    json={"url": hook_server.url, "events": ["message.sent", "notification.sent"]},
                )
            )
            ok(
                api.put(
                    "/users/alice",
                    json={"name": "Alice", "email": "alice@example.com", "phone": "+15550001111"},
                )
            )
            ok(api.put("/users/bob", json={"name": "Bob"}))
            ok(
                api.put(
                    "/conversations/c1", json={"subject": "Ops", "participants": ["alice", "bob"]}
                )
            )
            ok(
                api.post(
                    "/conversations/c1/messages",
                    json=[{"type": "UserMessage", "sender": "bob", "text": "server up?"}],
                )
            )
            wait_for(lambda: len(hook_server.received()) >= 3, "three webhooks")
            wait_for(lambda: smtp_server.mails and sms_server.received(), "an email and an SMS")
            notes = ok(api.get("/notifications"))["data"]
        (mail,) = smtp_server.mails
        assert mail.rcpt_tos == ["alice@example.com"] and "server up?" in mail.part("plain")
        assert "https://app.example.test/chat/c1" in mail.part("plain")
        (sms,) = sms_server.received()
        assert sms.form()["To"] == "+15550001111"
        types = []
        for r in hook_server.received():
            assert signing.verify(
                SECRET, r.headers["x-chinwag-timestamp"], r.body, r.headers["x-chinwag-signature"]
            )
            types.append(r.json()["type"])
        assert sorted(types) == ["message.sent", "notification.sent", "notification.sent"]
        assert {n["kind"] for n in notes} == {"notification", "email", "sms"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
