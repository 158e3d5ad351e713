"""A bus outage between two nodes (issue 11, finding 1): changes made on one node while Redis is
down are enforced on the other as soon as the bus is back. The test runs its own Redis on a
free port and kills it by PID; two `chinwag serve` processes share one PostgreSQL database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster_support import Cluster, running_cluster
from tests.fault_support import Redis
from tests.metrics_support import value
from tests.realtime_support import Client, free_port


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[tuple[Cluster, Redis]]:
    redis = Redis(free_port(), tmp_path / "redis.log")
    redis.start()
    try:
        with running_cluster(tmp_path, redis.url) as cluster:
            yield cluster, redis
    finally:
        if redis.proc is not None and redis.proc.poll() is None:
            redis.kill()


def said(text: str) -> Any:
    return lambda e: e.get("type") == "message.created" and e["message"]["text"] == text


def texts(client: Client) -> list[str]:
    return [e["message"]["text"] for e in client.drain() if e.get("type") == "message.created"]


def test_changes_during_a_bus_outage_hold_once_it_is_back(
    outage: tuple[Cluster, Redis],
) -> None:
    cluster, redis = outage
    for uid in ("alice", "bob", "carol", "gus", "gwen", "gina"):
        cluster.rest(0, "PUT", f"/users/{uid}", {"name": uid})
    cluster.rest(0, "PUT", "/conversations/team", {"participants": ["alice", "bob", "carol"]})
    cluster.rest(0, "PUT", "/conversations/town", {"participants": ["alice", "bob", "carol"]})
    with (
        cluster.client(1, "bob") as bob,
        cluster.client(1, "carol") as carol,
        cluster.client(1, "gus") as gus,
        cluster.client(1, "gwen") as gwen,
        cluster.client(1, "gina") as gina,
    ):
        for c in (bob, carol):
            c.ok("SUBSCRIBE", "me/conversations/team")
        carol.ok("SUBSCRIBE", "me/conversations/town")
        gus.ok("SUBSCRIBE", "me/conversations/team", {"asGuest": True})
        gwen.ok("SUBSCRIBE", "me/conversations/town", {"asGuest": True})
        gina.ok("SUBSCRIBE", "me/conversations/team", {"asGuest": True})
        cluster.rest(
            0, "POST", "/conversations/team/messages", [{"type": "SystemMessage", "text": "before"}]
        )
        for c in (bob, carol, gus, gina):
            c.wait_event(said("before"))

        redis.kill()
        # During the outage, on node 0: Bob loses access, Gus is banned, Town closes to guests;
        # a message is sent that nobody on node 1 hears live.
        cluster.rest(0, "PATCH", "/conversations/team/participants/bob", {"access": "None"})
        cluster.rest(0, "PUT", "/conversations/team/guests/gus/ban", {})
        cluster.rest(0, "PUT", "/conversations/town", {"guestAccess": "None"})
        cluster.rest(
            0, "POST", "/conversations/team/messages", [{"type": "SystemMessage", "text": "during"}]
        )
        redis.start()

        # Node 1 catches up once its bus is back: Carol (still a participant) and Gina (still
        # a guest) get what they missed, and then the new messages.
        carol.wait_event(said("during"), timeout=30)
        gina.wait_event(said("during"), timeout=30)
        deadline = time.monotonic() + 30
        n = 0
        while True:  # node 0's publisher reconnects on its own schedule: send until it is back
            n += 1
            cluster.rest(
                0,
                "POST",
                "/conversations/team/messages",
                [{"type": "SystemMessage", "text": f"after {n}"}],
            )
            try:
                carol.wait_event(said(f"after {n}"), timeout=1)
                break
            except AssertionError:
                assert time.monotonic() < deadline, "node 1 never heard node 0 again"
        gina.wait_event(said(f"after {n}"))

        # Bob was told he lost access, and hears nothing sent after it.
        told = bob.wait_event("participant.access_changed", timeout=10)
        assert told["participant"]["access"] == "None"
        assert not [t for t in texts(bob) if t.startswith("after") or t == "during"]
        # Gus was unlinked as banned, Gwen because Town closed; neither hears more.
        assert gus.wait_event("subscription.ended", timeout=10)["errorCode"] == "GUEST_BANNED"
        ended = gwen.wait_event("subscription.ended", timeout=10)
        assert ended["errorCode"] == "GUEST_ACCESS_NOT_ALLOWED"
        assert not [t for t in texts(gus) if t.startswith("after") or t == "during"]
        cluster.rest(
            0,
            "POST",
            "/conversations/town/messages",
            [{"type": "SystemMessage", "text": "town after"}],
        )
        carol.wait_event(said("town after"))
        assert "town after" not in texts(gwen)
    # Each node tells the operator its bus came back, and node 1 timed what it fanned out.
    for node in (0, 1):
        assert value(cluster.metrics(node), "chinwag_bus_reconnects_total") >= 1
    assert value(cluster.metrics(1), "chinwag_publish_to_socket_seconds_count") >= 3


FLAPS = 4


def test_redis_flapping_under_steady_sends_loses_and_doubles_nothing(
    outage: tuple[Cluster, Redis],
) -> None:
    """Redis killed and restarted four times while node 0 stores messages steadily: node 1's
    participant and guest hear every stored message once and in order, catching up after each
    flap, and both nodes count each reconnect."""
    cluster, redis = outage
    for uid in ("alice", "bob", "gina"):
        cluster.rest(0, "PUT", f"/users/{uid}", {"name": uid})
    flap = {"participants": ["alice", "bob"], "guestAccess": "Read"}
    cluster.rest(0, "PUT", "/conversations/flap", flap)
    sent: list[str] = []
    stop = threading.Event()

    def send() -> None:  # REST on node 0 needs no bus: every send is acknowledged
        while not stop.is_set():
            text = f"m{len(sent) + 1}"
            message = {"type": "UserMessage", "sender": "alice", "text": text}
            cluster.rest(0, "POST", "/conversations/flap/messages", [message])
            sent.append(text)
            time.sleep(0.01)

    with cluster.client(1, "bob") as bob, cluster.client(1, "gina") as gina:
        bob.ok("SUBSCRIBE", "me/conversations/flap")
        gina.ok("SUBSCRIBE", "me/conversations/flap", {"asGuest": True})
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        try:
            for _ in range(FLAPS):
                time.sleep(0.7)
                redis.kill()
                time.sleep(0.7)
                redis.start()
            # After the last flap, a message sent once both nodes are back reaches node 1 live.
            time.sleep(0.7)
        finally:
            stop.set()
            sender.join(timeout=20)
        assert not sender.is_alive() and len(sent) > 20
        deadline = time.monotonic() + 30
        n = 0
        while True:  # node 0's publisher reconnects on its own schedule: send until it is back
            n += 1
            last = f"last {n}"
            cluster.rest(
                0, "POST", "/conversations/flap/messages", [{"type": "SystemMessage", "text": last}]
            )
            try:
                bob.wait_event(said(last), timeout=1)
                break
            except AssertionError:
                assert time.monotonic() < deadline, "node 1 never heard node 0 again"
        gina.wait_event(said(last), timeout=10)
        expected = [*sent, *(f"last {i}" for i in range(1, n + 1))]
        for client in (bob, gina):
            heard = [
                e["message"]["text"] for e in client.events if e.get("type") == "message.created"
            ]
            assert heard == expected, (len(heard), len(expected))
    for node in (0, 1):
        assert value(cluster.metrics(node), "chinwag_bus_reconnects_total") >= FLAPS - 1
    print(f"{FLAPS} flaps; {len(expected)} stored, each heard once in order by 2 watchers")
