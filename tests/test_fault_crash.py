"""``kill -9`` of the server under steady sends, on SQLite and PostgreSQL (issue 11, the fault
suite): after each crash the server starts again on the same database, and every message it
acknowledged is stored once, in the order acknowledged. The sender does what a careful
integrator's backend does: on a lost connection it sends the same message again with the same
idempotency key, so a send whose first attempt was stored before the crash is stored once.

Bounded: three crashes, deadlines on everything; traffic only on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chinwag.storage.db import open_database
from tests.cluster_support import start_node, stop_nodes
from tests.conftest import make_pg_database
from tests.realtime_support import free_port

CRASHES = 3


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.db'}"
        return
    url, drop = make_pg_database("chinwag_crash")
    try:
        yield url
    finally:
        drop()


def test_kill_9_under_steady_sends_loses_and_doubles_nothing(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    app_id, secret = f"t{uuid.uuid4().hex[:8]}", "sk_test_" + uuid.uuid4().hex
    env = {
        **os.environ,
        "CHINWAG_DATABASE_URL": database_url,
        "CHINWAG_APP_ID": app_id,
        "CHINWAG_SECRET_KEY": secret,
        "CHINWAG_DATA_DIR": str(tmp_path),
        "CHINWAG_LOG_LEVEL": "warning",
        "CHINWAG_WORKER": "off",
    }
    rest = f"http://127.0.0.1:{port}/v1/{app_id}"
    headers = {"Authorization": f"Bearer {secret}"}
    acknowledged: list[str] = []
    retried = 0
    stop = threading.Event()

    def send() -> None:
        nonlocal retried
        n = 0
        with httpx.Client(headers=headers, timeout=15) as client:
            while not stop.is_set():
                n += 1
                message = {
                    "type": "UserMessage",
                    "sender": "ann",
                    "text": f"m{n}",
                    "idempotencyKey": f"k{n}",
                }
                deadline = time.monotonic() + 60
                while True:  # the same message, the same key, until it is acknowledged
                    try:
                        r = client.post(f"{rest}/conversations/c/messages", json=[message])
                        if r.status_code == 200:
                            acknowledged.append(message["text"])
                            break
                        assert r.status_code == 503, r.text  # only "retry later" is allowed
                    except httpx.TransportError:
                        pass  # the server is down: it comes back
                    retried += 1
                    assert time.monotonic() < deadline, "the server never came back"
                    time.sleep(0.05)

    with open(tmp_path / "serve.log", "wb") as log:
        proc = start_node(port, env, log)
        try:
            assert httpx.put(f"{rest}/users/ann", json={"name": "Ann"}, headers=headers)
            body = {"participants": ["ann"]}
            assert httpx.put(f"{rest}/conversations/c", json=body, headers=headers)
            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            for _ in range(CRASHES):
                time.sleep(1.0)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                proc = start_node(port, env, log)
            time.sleep(1.0)
            stop.set()
            sender.join(timeout=90)
            assert not sender.is_alive()
        finally:
            stop_nodes([proc])

    db = open_database(database_url)
    try:
        with db.read() as tx:
            rows = tx.all(
                "SELECT text, position FROM messages WHERE app_id = ? AND conversation_id = 'c' "
                "ORDER BY position",
                (app_id,),
            )
    finally:
        db.close()
    stored = [r["text"] for r in rows]
    assert len(stored) == len(set(stored)), "a message was stored twice"
    assert stored == acknowledged, "lost, doubled or out of order"
    assert retried > 0 and len(acknowledged) > 20, (retried, len(acknowledged))
    dialect = database_url.split(":", 1)[0]
    print(f"{dialect}: {CRASHES} kill -9; {len(stored)} stored, 0 lost, 0 twice; {retried} retries")
