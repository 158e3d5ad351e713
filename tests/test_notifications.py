# ruff: noqa: F811  (pytest fixtures imported from tests.test_notif_support)
"""Notifications end to end: REST writes fill the outbox, the worker mails and texts through real
servers on loopback (aiosmtpd, an HTTP server as the SMS provider), the clock is injected.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from chinwag.clock import FakeClock
from chinwag.domain import access as rules
from chinwag.domain.access import BrowserSync, GuestAccess
from chinwag.notifications.worker import start_in_thread
from chinwag.schemas import UserMessageIn
from chinwag.services import apps, messages
from chinwag.services.context import Context
from chinwag.storage import outbox
from chinwag.web.app import create_app
from tests.conftest import Api
from tests.test_notif_support import (  # noqa: F401  (fixtures)
    HttpRecorder,
    SmtpServer,
    hook_server,
    make_worker,
    nctx,
    notif_db,
    notif_db_url,
    sms_server,
    smtp_server,
)

DELAY = 30


@pytest.fixture
def napi(nctx: Context) -> Iterator[Api]:
    keys = apps.create_app(nctx, f"notif-{uuid.uuid4().hex[:6]}")
    with TestClient(create_app(nctx)) as client:
        api = Api(client, keys.app.id, keys.secret_keys[0])
        api.ok(api.patch("/settings", {"notificationDelaySeconds": DELAY}))
        yield api


def users(api: Api, **people: dict[str, Any]) -> None:
    for user_id, fields in people.items():
        api.ok(api.put(f"/users/{user_id}", {"name": user_id.title(), **fields}))


def say(api: Api, conv: str, sender: str, *texts: str) -> None:
    api.ok(
        api.post(
            f"/conversations/{conv}/messages",
            [{"type": "UserMessage", "sender": sender, "text": t} for t in texts],
        )
    )


def guest_says(ctx: Context, api: Api, conv: str, sender: str, text: str) -> None:
    view = rules.guest_view(BrowserSync(True, True), GuestAccess.READ_WRITE, None)
    messages.send_messages(
        ctx,
        api.app_id,
        conv,
        [UserMessageIn(type="UserMessage", sender=sender, text=text)],
        origin="web",
        guest=view,
    )


def statuses(ctx: Context, kind: str) -> list[tuple[str | None, str]]:
    with ctx.read() as tx:
        rows = tx.all("SELECT target, user_id, status FROM outbox WHERE kind = ?", (kind,))
    return sorted((r["target"] or r["user_id"], r["status"]) for r in rows)


def test_offline_participant_gets_one_email_and_one_sms_for_a_burst(
    nctx: Context,
    napi: Api,
    clock: FakeClock,
    smtp_server: SmtpServer,
    sms_server: HttpRecorder,
) -> None:
    users(
        napi,
        alice={"email": ["alice@example.com"], "phone": ["+15550001111"]},
        bob={"email": "bob@example.com"},
        carol={"email": ["[email protected]"]},  # the seeds' placeholder: never mailed
        dave={"email": "dave@example.com"},
        erin={"email": "erin@example.com"},
        frank={"email": "frank@example.com"},
        gus={"email": "gus@example.com", "phone": "+15550002222"},
    )
    conv = "c1"
    napi.ok(
        napi.put(
            f"/conversations/{conv}",
            {"subject": "Project <X>", "participants": ["alice", "bob", "carol"]},
        )
    )
    napi.ok(napi.put(f"/conversations/{conv}/participants/dave", {"notify": False}))
    napi.ok(napi.put(f"/conversations/{conv}/participants/erin", {"access": "Read"}))
    napi.ok(napi.put(f"/conversations/{conv}/participants/frank", {}))
    napi.ok(napi.patch(f"/conversations/{conv}/participants/frank", {"access": "None"}))
    worker = make_worker(nctx.db, clock, smtp_server, sms_server)
    try:
        say(napi, conv, "bob", "first", "second")
        guest_says(nctx, napi, conv, "gus", "a guest says hi")
        napi.ok(
            napi.post(
                f"/conversations/{conv}/messages",
                [{"type": "SystemMessage", "text": "system note"}],
            )
        )
        assert worker.drain() == 0  # nothing is due before the delay
        clock.advance(20_000)
        say(napi, conv, "bob", "third")  # not quiet yet: the delay starts again
        clock.advance((DELAY - 1) * 1000)
        assert worker.drain() == 0
        clock.advance(2000)
        worker.drain()
        worker.drain()  # nothing is sent twice
    finally:
        worker.close()

    assert sorted(m.rcpt_tos[0] for m in smtp_server.mails) == [
        "alice@example.com",
        "erin@example.com",
    ]
    (mail,) = smtp_server.to("alice@example.com")
    assert mail.message["Subject"] == "3 new messages in Project <X>"
    assert mail.message["From"] == "Chinwag <chat@example.test>"
    text, html = mail.part("plain"), mail.part("html")
    for body in (text, html):
        assert "Bob" in body and "first" in body and "second" in body and "third" in body
        assert "guest says" not in body and "system note" not in body
    assert f"https://chat.example.test/c/{conv}?app={napi.app_id}" in text
    assert "Project &lt;X&gt;" in html and 'href="https://chat.example.test/c/c1' in html

    (sms,) = sms_server.received()
    assert sms.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert sms.basic_auth() == ("AC123", "tok3n")
    form = sms.form()
    assert form["To"] == "+15550001111" and form["From"] == "+15550000000"
    assert form["Body"].startswith("3 new messages in Project <X>. Bob: third")
    assert len(form["Body"]) <= 320

    assert statuses(nctx, "notification") == [("alice", "sent"), ("erin", "sent")]
    assert statuses(nctx, "email") == [("alice@example.com", "sent"), ("erin@example.com", "sent")]
    assert statuses(nctx, "sms") == [("+15550001111", "sent")]
    # What /metrics reports, as the worker counted it.
    assert worker.outcomes.items() == [
        (("email", "sent"), 2),
        (("notification", "sent"), 2),
        (("sms", "sent"), 1),
    ]


def test_read_messages_and_mentions_only(
    nctx: Context,
    napi: Api,
    clock: FakeClock,
    smtp_server: SmtpServer,
) -> None:
    users(
        napi,
        alice={"email": "alice@example.com"},
        bob={"email": "bob@example.com"},
        carol={"email": "carol@example.com"},
    )
    napi.ok(napi.put("/conversations/c", {"participants": ["alice", "bob"]}))
    napi.ok(napi.put("/conversations/c/participants/carol", {"notify": "MentionsOnly"}))
    say(napi, "c", "alice", "hello", "are you there <@carol>?")
    messages.mark_read(
        nctx, napi.app_id, "c", "bob"
    )  # bob saw them in the UI before the delay ran out
    clock.advance(DELAY * 1000)
    worker = make_worker(nctx.db, clock, smtp_server)
    try:
        worker.drain()
    finally:
        worker.close()
    (mail,) = smtp_server.mails
    assert mail.rcpt_tos == ["carol@example.com"]
    assert "are you there" in mail.part("plain") and "hello" not in mail.part("plain")
    assert mail.message["Subject"] == "1 new message in your conversation"
    assert statuses(nctx, "notification") == [("bob", "cancelled"), ("carol", "sent")]


def test_nothing_configured_records_instead_of_sending(
    nctx: Context,
    napi: Api,
    clock: FakeClock,
) -> None:
    users(napi, alice={"email": "alice@example.com", "phone": "+15550001111"}, bob={})
    napi.ok(napi.put("/conversations/c", {"participants": ["alice", "bob"]}))
    say(napi, "c", "bob", "hi")
    clock.advance(DELAY * 1000)
    worker = make_worker(nctx.db, clock)
    try:
        worker.drain()
    finally:
        worker.close()
    assert statuses(nctx, "email") == [("alice@example.com", "recorded")]
    assert statuses(nctx, "sms") == [("+15550001111", "recorded")]
    assert worker.outcomes.get("email", "recorded") == 1
    assert worker.outcomes.get("sms", "recorded") == 1


def test_access_withdrawn_or_conversation_deleted_before_due_sends_nothing(
    nctx: Context,
    napi: Api,
    clock: FakeClock,
    smtp_server: SmtpServer,
) -> None:
    users(
        napi,
        alice={"email": "alice@example.com"},
        bob={"email": "bob@example.com"},
        carol={"email": "carol@example.com"},
    )
    napi.ok(napi.put("/conversations/c", {"participants": ["alice", "bob", "carol"]}))
    napi.ok(napi.put("/conversations/d", {"participants": ["alice", "bob"]}))
    say(napi, "c", "alice", "secret plans")
    say(napi, "d", "alice", "doomed")
    napi.ok(napi.patch("/conversations/c/participants/bob", {"access": "None"}))
    napi.ok(napi.delete("/conversations/c/participants/carol"))
    napi.ok(napi.delete("/conversations/d"))
    clock.advance(DELAY * 1000)
    worker = make_worker(nctx.db, clock, smtp_server)
    try:
        worker.drain()
    finally:
        worker.close()
    assert smtp_server.mails == []
    with nctx.read() as tx:
        rows = tx.all(
            "SELECT conversation_id, user_id, status FROM outbox "
            "WHERE kind = 'notification' ORDER BY conversation_id, user_id"
        )
    assert [(r["conversation_id"], r["user_id"], r["status"]) for r in rows] == [
        ("c", "bob", "cancelled"),
        ("c", "carol", "cancelled"),
        ("d", "bob", "cancelled"),
    ]


def test_smtp_refusals_retry_with_backoff_then_succeed(
    nctx: Context,
    napi: Api,
    clock: FakeClock,
    smtp_server: SmtpServer,
) -> None:
    users(napi, alice={"email": "alice@example.com"}, bob={})
    napi.ok(napi.put("/conversations/c", {"participants": ["alice", "bob"]}))
    say(napi, "c", "bob", "hi")
    clock.advance(DELAY * 1000)
    refusals = iter(["451 try later", "451 try later"])
    smtp_server.on_data = lambda rcpts: next(refusals, None)
    worker = make_worker(nctx.db, clock, smtp_server)
    try:
        worker.drain()
        assert statuses(nctx, "email") == [("alice@example.com", "pending")]
        clock.advance(9_999)
        assert worker.drain() == 0  # first retry waits 10 s
        clock.advance(1)
        worker.drain()
        clock.advance(19_999)
        assert worker.drain() == 0  # then 20 s
        clock.advance(1)
        worker.drain()
    finally:
        worker.close()
    assert len(smtp_server.mails) == 1
    with nctx.read() as tx:
        (row,) = tx.all("SELECT * FROM outbox WHERE kind = 'email'")
    item = outbox.OutboxItem.from_row(row)
    assert (item.status, item.attempts) == ("sent", 3)
    assert worker.outcomes.get("email", "retried") == 2
    assert worker.outcomes.get("email", "sent") == 1


def test_permanent_refusal_fails_without_retry(
    nctx: Context,
    napi: Api,
    clock: FakeClock,
    smtp_server: SmtpServer,
    sms_server: HttpRecorder,
) -> None:
    users(napi, alice={"email": "alice@example.com", "phone": "+15550001111"}, bob={})
    napi.ok(napi.put("/conversations/c", {"participants": ["alice", "bob"]}))
    say(napi, "c", "bob", "hi")
    clock.advance(DELAY * 1000)
    smtp_server.on_rcpt = lambda address: "550 no such user"
    sms_server.answer = lambda request: 400
    worker = make_worker(nctx.db, clock, smtp_server, sms_server)
    try:
        worker.drain()
        clock.advance(3_600_000)
        worker.drain()
    finally:
        worker.close()
    assert statuses(nctx, "email") == [("alice@example.com", "failed")]
    assert statuses(nctx, "sms") == [("+15550001111", "failed")]
    assert len(sms_server.received()) == 1
    assert worker.outcomes.get("email", "failed") == worker.outcomes.get("sms", "failed") == 1
    assert worker.outcomes.get("email", "retried") == 0


def test_channel_switches_per_app_and_role(
    nctx: Context,
    napi: Api,
    clock: FakeClock,
    smtp_server: SmtpServer,
    sms_server: HttpRecorder,
) -> None:
    assert napi.ok(napi.get("/notifications/settings")) == {"email": True, "sms": True, "roles": {}}
    body = {"sms": False, "roles": {"vip": {"sms": True}, "muted": {"email": False}}}
    expected = {
        "email": True,
        "sms": False,
        "roles": {"vip": {"sms": True}, "muted": {"email": False}},
    }
    assert napi.ok(napi.put("/notifications/settings", body)) == expected
    assert napi.ok(napi.get("/notifications/settings")) == expected
    for bad in (
        {"sms": "no"},
        {"roles": {"vip": {"push": True}}},
        {"extra": 1},
        {"roles": {"": {}}},
    ):
        assert napi.put("/notifications/settings", bad).status_code == 400, bad
    users(
        napi,
        alice={"email": "alice@example.com", "phone": "+15550001111"},  # role default: email only
        vic={"role": "vip", "email": "vic@example.com", "phone": "+15550002222"},
        mo={"role": "muted", "email": "mo@example.com"},  # no channel left: no batch at all
        bob={},
    )
    napi.ok(napi.put("/conversations/c", {"participants": ["alice", "vic", "mo", "bob"]}))
    say(napi, "c", "bob", "hi all")
    clock.advance(DELAY * 1000)
    worker = make_worker(nctx.db, clock, smtp_server, sms_server)
    try:
        worker.drain()
    finally:
        worker.close()
    assert sorted(m.rcpt_tos[0] for m in smtp_server.mails) == [
        "alice@example.com",
        "vic@example.com",
    ]
    assert [r.form()["To"] for r in sms_server.received()] == ["+15550002222"]
    assert statuses(nctx, "notification") == [("alice", "sent"), ("vic", "sent")]


class FlakyPresence:
    """Fails the first time it is asked (a realtime hub hiccup), then says nobody is viewing."""

    def __init__(self) -> None:
        self.calls = 0

    def is_viewing(self, app_id: str, user_id: str, conversation_id: str) -> bool:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("hub unavailable")
        return False


def test_a_batch_whose_evaluation_fails_is_retried_beside_a_newer_batch(
    nctx: Context,
    napi: Api,
    clock: FakeClock,
    smtp_server: SmtpServer,
) -> None:
    users(napi, alice={"email": "alice@example.com"}, bob={})
    napi.ok(napi.put("/conversations/c", {"participants": ["alice", "bob"]}))
    say(napi, "c", "bob", "one")
    clock.advance(DELAY * 1000)
    worker = make_worker(nctx.db, clock, smtp_server)
    worker.presence = FlakyPresence()
    try:
        worker.drain()  # the evaluation fails: the batch waits, still claimed, for a retry
        say(napi, "c", "bob", "two")  # a newer batch starts beside it
        assert statuses(nctx, "notification") == [("alice", "pending"), ("alice", "sending")]
        clock.advance(10_000)
        worker.drain()
        assert [m.part("plain").count("Bob:") for m in smtp_server.mails] == [1]
        clock.advance(DELAY * 1000)
        worker.drain()
    finally:
        worker.close()
    texts = [m.part("plain") for m in smtp_server.mails]
    assert len(texts) == 2 and "one" in texts[0] and "two" in texts[1]
    assert statuses(nctx, "notification") == [("alice", "sent"), ("alice", "sent")]


def test_background_thread_delivers_and_forgets_old_rows(
    nctx: Context,
    napi: Api,
    clock: FakeClock,
    smtp_server: SmtpServer,
) -> None:
    napi.ok(napi.patch("/settings", {"notificationDelaySeconds": 0}))
    users(napi, alice={"email": "alice@example.com"}, bob={})
    napi.ok(napi.put("/conversations/c", {"participants": ["alice", "bob"]}))
    worker = make_worker(nctx.db, clock, smtp_server)
    thread, stop = start_in_thread(worker, idle_seconds=0.01)
    try:
        say(napi, "c", "bob", "hi")
        wait_until(lambda: statuses(nctx, "email") == [("alice@example.com", "sent")])
        clock.advance(8 * 24 * 3_600_000)  # past the 7 days the log keeps finished rows
        wait_until(lambda: statuses(nctx, "email") == [] and statuses(nctx, "notification") == [])
    finally:
        stop.set()
        thread.join(timeout=10)
        worker.close()
    assert not thread.is_alive() and len(smtp_server.mails) == 1


def wait_until(condition: Any, timeout: float = 20.0) -> None:
    """Polls a background thread's progress (the clock it reads is the injected one)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_emails_and_sms_show_formatting_mentions_and_links_safely(
    nctx: Context,
    napi: Api,
    clock: FakeClock,
    smtp_server: SmtpServer,
    sms_server: HttpRecorder,
) -> None:
    users(
        napi,
        alice={"name": "Alice", "email": "alice@example.com", "phone": "+15550001111"},
        bob={"name": "Bob"},
    )
    napi.ok(napi.put("/conversations/c", {"participants": ["alice", "bob"]}))
    say(napi, "c", "bob", "*see* <@alice>: <https://example.com/x|the docs> <img src=x>")
    say(napi, "c", "bob", "not a link: <javascript:alert(1)|click>")
    clock.advance(DELAY * 1000)
    worker = make_worker(nctx.db, clock, smtp_server, sms_server)
    try:
        worker.drain()
    finally:
        worker.close()
    (mail,) = smtp_server.to("alice@example.com")
    text, page = mail.part("plain"), mail.part("html")
    assert "Bob: see @Alice: the docs (https://example.com/x) <img src=x>" in text
    assert "Bob: not a link: <javascript:alert(1)|click>" in text
    assert "<strong>see</strong> <strong>@Alice</strong>:" in page
    assert '<a href="https://example.com/x" rel="noopener noreferrer">the docs</a>' in page
    assert "&lt;img src=x&gt;" in page and "<img" not in page
    assert "javascript:" not in page.replace("&lt;javascript:alert(1)|click&gt;", "")
    (sms,) = sms_server.received()
    assert "Bob: not a link: <javascript:alert(1)|click>" in sms.form()["Body"]
