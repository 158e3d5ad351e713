"""Two `chinwag serve` processes on one PostgreSQL database and one Redis: what one node does
reaches sessions on the other, and revoking access on one cuts delivery on the other."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import make_pg_database
from tests.realtime_support import Client, free_port

REDIS_URL = os.environ.get("CHINWAG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class Cluster:
    def __init__(self, ports: list[int], app_id: str, secret: str) -> None:
        self.ports, self.app_id, self.secret = ports, app_id, secret

    def rest(self, node: int, method: str, path: str, body: Any = None) -> Any:
        r = httpx.request(
            method,
            f"http://127.0.0.1:{self.ports[node]}/v1/{self.app_id}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.secret}"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return r.json()

    def client(self, node: int, user_id: str) -> Client:
        return Client.open(f"ws://127.0.0.1:{self.ports[node]}", self.app_id, user_id)


def _start(port: int, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "chinwag", "serve", "--port", str(port)],
        env={**env, "CHINWAG_PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"node on port {port} did not start")
        time.sleep(0.1)


@pytest.fixture
def cluster(tmp_path: Any) -> Iterator[Cluster]:
    url, drop = make_pg_database("chinwag_nodes")
    app_id, secret = f"t{uuid.uuid4().hex[:8]}", "sk_test_" + uuid.uuid4().hex
    env = {
        **os.environ,
        "CHINWAG_DATABASE_URL": url,
        "CHINWAG_BROKER_URL": REDIS_URL,
        "CHINWAG_APP_ID": app_id,
        "CHINWAG_SECRET_KEY": secret,
        "CHINWAG_DATA_DIR": str(tmp_path),
        "CHINWAG_LOG_LEVEL": "warning",
        "CHINWAG_WORKER": "off",
    }
    procs: list[subprocess.Popen[bytes]] = []
    ports = [free_port(), free_port()]
    with open(tmp_path / "nodes.log", "wb") as log:
        try:
            for port in ports:  # one after the other: the first creates the schema and app
                procs.append(_start(port, env, log))
            yield Cluster(ports, app_id, secret)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            drop()


def said(text: str) -> Any:
    return lambda e: e.get("type") == "message.created" and e["message"]["text"] == text


def test_two_nodes_share_messages_guests_and_revocations(cluster: Cluster) -> None:
    for uid in ("alice", "bob", "carol", "sup"):
        cluster.rest(0, "PUT", f"/users/{uid}", {"name": uid})
    cluster.rest(0, "PUT", "/conversations/team", {"participants": ["alice", "bob"]})
    cluster.rest(1, "PUT", "/conversations/team/participants/carol", {"access": "Read"})

    with (
        cluster.client(0, "alice") as alice,
        cluster.client(1, "bob") as bob,
        cluster.client(1, "carol") as carol,
        cluster.client(1, "sup") as sup,
    ):
        alice.ok("SUBSCRIBE", "me/conversations/team")
        bob.ok("SUBSCRIBE", "me/conversations/team")
        carol.ok("SUBSCRIBE", "me/conversations/team")
        assert (
            sup.ok("SUBSCRIBE", "me/conversations/team", {"asGuest": True})["access"]["kind"]
            == "guest"
        )

        # Sent on node 0, received by a participant and a guest on node 1.
        sent = alice.ok("POST", "me/conversations/team/messages", {"text": "across"})
        for c in (bob, carol, sup):
            assert c.wait_event(said("across"))["position"] == sent["position"]
        # The read-only participant (made so through node 1) cannot write on node 1 either.
        status, body = carol.request("POST", "me/conversations/team/messages", {"text": "x"})
        assert (status, body["errorCode"]) == (403, "NOT_ALLOWED_TO_WRITE")
        # And back: the guest writes on node 1, alice reads on node 0.
        sup.ok("POST", "me/conversations/team/messages", {"text": "guest says hi"})
        alice.wait_event(said("guest says hi"))
        # A REST message on node 1 reaches sessions on node 0.
        cluster.rest(
            1,
            "POST",
            "/conversations/team/messages",
            [{"type": "UserMessage", "sender": "bob", "text": "from the backend"}],
        )
        alice.wait_event(said("from the backend"))

        # Revoked on node 0: bob (on node 1) is told and hears nothing more.
        cluster.rest(0, "PATCH", "/conversations/team/participants/bob", {"access": "None"})
        told = bob.wait_event("participant.access_changed")
        assert told["participant"]["access"] == "None"
        alice.ok("POST", "me/conversations/team/messages", {"text": "after revocation"})
        sup.wait_event(said("after revocation"))  # node 1 has it...
        carol.wait_event(said("after revocation"))
        assert not [
            e
            for e in bob.drain()
            if e["type"] == "message.created" and e["message"]["text"] == "after revocation"
        ]  # ...bob does not

        # Removal on node 1 of carol cuts her too, and access given back on node 0 restores bob.
        cluster.rest(1, "DELETE", "/conversations/team/participants/carol")
        carol.wait_event("participant.left")
        cluster.rest(0, "PATCH", "/conversations/team/participants/bob", {"access": "ReadWrite"})
        bob.wait_event(
            lambda e: (
                e.get("type") == "participant.access_changed"
                and e["participant"]["access"] == "ReadWrite"
            )
        )
        alice.ok("POST", "me/conversations/team/messages", {"text": "welcome back"})
        bob.wait_event(said("welcome back"))
        sup.wait_event(said("welcome back"))
        assert not [
            e
            for e in carol.drain()
            if e["type"] == "message.created" and e["message"]["text"] == "welcome back"
        ]
        history = bob.ok("GET", "me/conversations/team/messages")["data"]
        assert "after revocation" in [m["text"] for m in history]

        # A moderator kicks the guest through node 0: its subscription on node 1 ends at once.
        cluster.rest(0, "POST", "/conversations/team/guests/sup/kick", {"reason": "test"})
        assert sup.wait_event("subscription.ended")["errorCode"] == "GUEST_ACCESS_NOT_ALLOWED"
        alice.ok("POST", "me/conversations/team/messages", {"text": "after the kick"})
        bob.wait_event(said("after the kick"))
        assert not [
            e
            for e in sup.drain()
            if e["type"] == "message.created" and e["message"]["text"] == "after the kick"
        ]

    # The guest left no trace on either node.
    for node in (0, 1):
        assert "sup" not in cluster.rest(node, "GET", "/conversations/team")["participants"]
        assert cluster.rest(node, "GET", "/users/sup/conversations")["data"] == []
