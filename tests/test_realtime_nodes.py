"""Two `chinwag serve` processes on one PostgreSQL database and one Redis: what one node does
reaches sessions on the other, and revoking access on one cuts delivery on the other."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster_support import Cluster, running_cluster

REDIS_URL = os.environ.get("CHINWAG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def cluster(tmp_path: Any) -> Iterator[Cluster]:
    with running_cluster(tmp_path, REDIS_URL) as c:
        yield c


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
        assert sup.wait_event("subscription.ended")["errorCode"] == "GUEST_KICKED"
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
