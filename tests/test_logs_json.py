"""``CHINWAG_LOG_FORMAT=json``: a real ``chinwag serve`` logs one JSON object a line, every HTTP
request with a request id and every socket session (opened, authenticated as whom or refused,
closed with which code) with a session id, and nothing secret: the whole log of a run with REST
calls, socket sessions, a message and a wrong signature holds neither the secret key, nor a
signature, nor a token, nor the message's text."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import jwt

from chinwag.logs import mask
from chinwag.services.sessions import signature_of
from tests.realtime_support import Client
from tests.serve_support import serve


def _records(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _wait_for(served: Any, pred: Any) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        records = _records(served.log())
        if pred(records):
            return records
        assert time.monotonic() < deadline, served.log()
        time.sleep(0.1)


def test_a_json_run_logs_requests_and_sessions_and_nothing_secret(tmp_path: Path) -> None:
    secret = "sk_" + secrets.token_hex(16)
    text = "the eagle lands at midnight " + secrets.token_hex(8)
    socket_text = "socket words " + secrets.token_hex(8)
    with serve(
        tmp_path,
        CHINWAG_APP_ID="logs",
        CHINWAG_SECRET_KEY=secret,
        CHINWAG_LOG_FORMAT="json",
        CHINWAG_ADMIN_PASSWORD="admin-" + secrets.token_hex(8),
    ) as served:
        rest = httpx.Client(
            base_url=f"{served.url}/v1/logs", headers={"Authorization": f"Bearer {secret}"}
        )
        assert rest.patch("/settings", json={"identityVerification": True}).status_code == 200
        rest.put("/users", json={"alice": {"name": "Alice"}, "bob": {"name": "Bob"}})
        rest.put("/conversations/c1", json={"participants": ["alice", "bob"]})
        sent = rest.post(
            "/conversations/c1/messages",
            json=[{"type": "UserMessage", "sender": "alice", "text": text}],
            headers={"X-Request-Id": "backend-job-42"},
        )
        assert sent.status_code == 200 and sent.headers["x-request-id"] == "backend-job-42"
        assert rest.get("/conversations/c1/messages").status_code == 200
        wrong = httpx.get(
            f"{served.url}/v1/logs/users/alice", headers={"Authorization": "Bearer not-the-key"}
        )
        assert wrong.status_code == 401 and wrong.headers["x-request-id"].startswith("req_")

        ws = served.url.replace("http://", "ws://")
        signature = signature_of(secret, "alice")
        with Client.open(ws, "logs", "alice", signature=signature) as alice:
            alice.ok("POST", "conversations/c1/messages", {"text": socket_text})
        token = jwt.encode(
            {"tokenType": "user", "iss": "logs", "sub": "bob", "exp": int(time.time()) + 600},
            secret,
            algorithm="HS256",
        )
        with Client.open(ws, "logs", "bob", token=token) as bob:
            bob.ok("GET", "ping")
        forged = signature_of("not-the-key", "alice")
        with Client.open(ws, "logs", "alice", signature=forged) as intruder:
            refused = intruder.wait_closed()
        assert refused.code == 4401
        _wait_for(served, lambda rs: sum(r["msg"] == "socket closed" for r in rs) == 3)

    whole = served.log() + served.stdout.read_text()
    for needle in (secret, text, socket_text, signature, forged, token, "not-the-key"):
        assert needle not in whole, needle
    records = _records(served.log())  # every line is one JSON object
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records)

    requests = [r for r in records if r["msg"] == "http request"]
    assert all(r["requestId"] and "?" not in r["path"] for r in requests)
    post = next(r for r in requests if r["method"] == "POST")
    assert post["requestId"] == "backend-job-42" and post["status"] == 200
    assert post["path"] == "/v1/logs/conversations/c1/messages" and post["appId"] == "logs"
    assert any(r["status"] == 401 for r in requests)

    by_session: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r["logger"] == "chinwag.realtime.session":
            by_session.setdefault(r["sessionId"], []).append(r)
    assert len(by_session) == 3
    stories = sorted(
        ([r["msg"] for r in rs], rs[1].get("userId"), rs[1].get("proof"), rs[-1]["closeCode"])
        for rs in by_session.values()
    )
    assert stories == [
        (["socket opened", "socket authenticated", "socket closed"], "alice", "signature", 1000),
        (["socket opened", "socket authenticated", "socket closed"], "bob", "token", 1000),
        (["socket opened", "socket refused", "socket closed"], None, None, 4401),
    ]
    refusal = next(rs[1] for rs in by_session.values() if rs[1]["msg"] == "socket refused")
    assert refusal["errorCode"] == "UNAUTHORIZED" and refusal["claimedUserId"] == "alice"
    closed_by = {rs[-1]["closedBy"] for rs in by_session.values()}
    assert closed_by == {"client", "server"}


def test_masking_is_a_second_line_of_defence() -> None:
    line = 'GET /x?signature=abc123&token=eyJ.a.b "Authorization": "Bearer sk_live" password=pw'
    masked = mask(line)
    for needle in ("abc123", "eyJ.a.b", "sk_live", "pw"):
        assert needle not in masked
    assert masked.count("[masked]") == 4


def test_configure_leaves_logging_set_up_by_someone_else_alone() -> None:
    import logging

    from chinwag import logs

    root = logging.getLogger()
    before = list(root.handlers)
    assert before  # pytest's own capture handlers
    logs.configure("debug", "json")  # e.g. `chinwag doctor` run in-process
    assert root.handlers == before
