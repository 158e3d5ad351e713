# ruff: noqa: F811  (pytest fixtures imported from tests.test_notif_support)
"""``chinwag worker`` processes killed with SIGKILL mid-batch lose and double nothing; two workers
at once never send the same notification twice. Real processes, real SMTP and HTTP servers on
loopback, SQLite and PostgreSQL.

The workers run on the real clock (they are other processes); notifications are due at once
(``notificationDelaySeconds`` 0) and leases last one second, so the only waits are for a killed
worker's lease to run out. The test polls the database for completion; it never sleeps on time
it could inject.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from chinwag.notifications import install
from chinwag.schemas import ConversationPut, SystemMessageIn, UserMessageIn, UserPut
from chinwag.services import apps, conversations, messages, users
from chinwag.services.context import Context
from chinwag.storage.db import Database
from tests.test_notif_support import (  # noqa: F401  (fixtures)
    HttpRecorder,
    SmtpServer,
    notif_db,
    notif_db_url,
    sms_server,
    smtp_server,
)

TIMEOUT = 60.0


def start_worker(db_url: str, smtp: SmtpServer, sms: HttpRecorder, threads: int) -> Any:
    env = {
        **os.environ,
        "CHINWAG_WORKER_LEASE_SECONDS": "1",
        "CHINWAG_WORKER_THREADS": str(threads),
        "CHINWAG_LOG_LEVEL": "warning",
    }
    for var in ("CHINWAG_APP_ID", "CHINWAG_SECRET_KEY", "CHINWAG_DATABASE_URL"):
        env.pop(var, None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chinwag",
            "worker",
            "--database-url",
            db_url,
            "--smtp-url",
            smtp.url,
            "--email-from",
            "chat@example.test",
            "--sms-url",
            sms.url,
            "--sms-account",
            "AC1",
            "--sms-token",
            "t",
            "--sms-from",
            "+15550000000",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def procs() -> Iterator[list[Any]]:
    started: list[Any] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)
        if p.stderr:
            p.stderr.close()


def burst(db: Database, recipients: int) -> list[str]:
    """An app where ``boss`` writes to ``recipients`` people, each with an email and a phone."""
    ctx = install(Context(db=db))
    app = apps.create_app(ctx, "crash").app.id
    apps.patch_settings(ctx, app, {"notificationDelaySeconds": 0})
    people = [f"u{i:02d}" for i in range(recipients)]
    users.put_user(ctx, app, "boss", UserPut(name="Boss"))
    for i, person in enumerate(people):
        users.put_user(
            ctx,
            app,
            person,
            UserPut(name=person, email=[f"{person}@example.com"], phone=[f"+1555010{i:04d}"]),
        )
        conversations.put_conversation(
            ctx, app, f"c-{person}", ConversationPut(participants=["boss", person])
        )
        messages.send_messages(
            ctx,
            app,
            f"c-{person}",
            [
                UserMessageIn(type="UserMessage", sender="boss", text=f"hello {person}"),
                SystemMessageIn(type="SystemMessage", text="never notifies"),
            ],
        )
    return people


def settled(db: Database) -> bool:
    with db.read() as tx:
        row = tx.one("SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sending')")
    return row is not None and int(row["n"]) == 0


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def statuses(db: Database, kind: str) -> Counter[str]:
    with db.read() as tx:
        rows = tx.all("SELECT status FROM outbox WHERE kind = ?", (kind,))
    return Counter(r["status"] for r in rows)


def block_at(
    count: int, reached: threading.Event, release: threading.Event, answer: str | None
) -> Any:
    """An SMTP hook that, on its ``count``-th call, signals and blocks until released."""
    calls = 0

    def hook(*_: Any) -> str | None:
        nonlocal calls
        calls += 1
        if calls == count:
            reached.set()
            release.wait(TIMEOUT)
            return answer
        return None

    return hook


def kill(proc: Any) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_kill_9_mid_batch_loses_and_doubles_nothing(
    notif_db: Database,
    notif_db_url: str,
    smtp_server: SmtpServer,
    sms_server: HttpRecorder,
    procs: list[Any],
) -> None:
    people = burst(notif_db, 8)
    # First crash: the worker is inside an SMTP conversation, before handing the mail over.
    reached, release = threading.Event(), threading.Event()
    smtp_server.on_rcpt = block_at(3, reached, release, "451 the client went away")
    procs.append(first := start_worker(notif_db_url, smtp_server, sms_server, threads=1))
    assert reached.wait(TIMEOUT), "the first worker never reached the third mail"
    kill(first)
    release.set()
    smtp_server.on_rcpt = None
    # Second crash: the mail was handed over (DATA received), the worker dies before recording it.
    reached2, release2 = threading.Event(), threading.Event()
    handed_over: list[list[str]] = []

    def on_data(rcpts: list[str]) -> str | None:
        if not reached2.is_set() and len(smtp_server.mails) >= 4:
            handed_over.append(list(rcpts))
            reached2.set()
            release2.wait(TIMEOUT)
        return None  # accepted: the server keeps the mail

    smtp_server.on_data = on_data
    procs.append(second := start_worker(notif_db_url, smtp_server, sms_server, threads=1))
    assert reached2.wait(TIMEOUT), "the second worker never reached the fifth mail"
    kill(second)
    release2.set()
    smtp_server.on_data = None
    # A third worker finishes the work once the dead workers' leases run out.
    procs.append(third := start_worker(notif_db_url, smtp_server, sms_server, threads=2))
    wait_for(lambda: settled(notif_db), "the outbox to settle")
    third.terminate()
    assert third.wait(timeout=10) == 0

    mails = Counter(m.rcpt_tos[0] for m in smtp_server.mails)
    assert mails == Counter({f"{p}@example.com": 1 for p in people})  # none lost, none twice
    texts = Counter(r.form()["To"] for r in sms_server.received())
    assert sorted(texts.values()) == [1] * len(people)
    for mail in smtp_server.mails:
        person = mail.rcpt_tos[0].split("@")[0]
        assert f"hello {person}" in mail.part("plain")
        assert "never notifies" not in mail.part("plain")
    # The handed-over mail was not sent again: its outcome could not be known, so it says so.
    assert statuses(notif_db, "email") == Counter({"sent": len(people) - 1, "unknown": 1})
    with notif_db.read() as tx:
        (row,) = tx.all("SELECT target FROM outbox WHERE status = 'unknown'")
    assert [row["target"]] == handed_over[0]
    assert statuses(notif_db, "sms") == Counter({"sent": len(people)})
    assert statuses(notif_db, "notification") == Counter({"sent": len(people)})


def test_two_workers_never_send_twice(
    notif_db: Database,
    notif_db_url: str,
    smtp_server: SmtpServer,
    sms_server: HttpRecorder,
    procs: list[Any],
) -> None:
    people = burst(notif_db, 24)
    procs.append(a := start_worker(notif_db_url, smtp_server, sms_server, threads=4))
    procs.append(b := start_worker(notif_db_url, smtp_server, sms_server, threads=4))
    wait_for(lambda: settled(notif_db), "the outbox to settle")
    for p in (a, b):
        p.terminate()
        assert p.wait(timeout=10) == 0
    assert Counter(m.rcpt_tos[0] for m in smtp_server.mails) == Counter(
        {f"{p}@example.com": 1 for p in people}
    )
    assert sorted(Counter(r.form()["To"] for r in sms_server.received()).values()) == [1] * 24
    assert statuses(notif_db, "email") == Counter({"sent": 24})
    with notif_db.read() as tx:
        owners = {r["lease_owner"] for r in tx.all("SELECT lease_owner FROM outbox")}
    assert owners == {None}  # every lease given back
