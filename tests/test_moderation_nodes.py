"""Guest control across two `chinwag serve` nodes on one PostgreSQL and one Redis: the live
roster asked on one node covers guests on the other, and a ban or mute issued on one node holds
for a guest connected to the other."""

from __future__ import annotations

from typing import Any

from tests.test_realtime_nodes import Cluster, cluster  # noqa: F401 - the two-node fixture


def counted(n: int) -> Any:
    return lambda e: e.get("type") == "guests.changed" and e["count"] == n


def _room(cluster: Cluster) -> None:  # noqa: F811
    for uid in ("host", "viewer", "spammer", "heckler"):
        cluster.rest(0, "PUT", f"/users/{uid}", {"name": uid})
    cluster.rest(0, "PUT", "/conversations/hall", {"participants": ["host"]})


def test_roster_spans_nodes(cluster: Cluster) -> None:  # noqa: F811
    _room(cluster)
    with cluster.client(0, "host") as host:
        host.ok("SUBSCRIBE", "me/conversations/hall")
        with cluster.client(1, "viewer") as viewer:
            viewer.ok("SUBSCRIBE", "me/conversations/hall", {"asGuest": True})
            # The participant on node 0 hears of the guest on node 1, and can ask.
            host.wait_event(counted(1))
            assert host.ok("GET", "me/conversations/hall/guests") == {"count": 1}
            for node in (0, 1):
                roster = cluster.rest(node, "GET", "/conversations/hall/guests")
                assert roster["count"] == 1
                assert [g["userId"] for g in roster["data"]] == ["viewer"]
            with cluster.client(0, "viewer") as again:  # the same user on node 0 counts once
                again.ok("SUBSCRIBE", "me/conversations/hall", {"asGuest": True})
                assert cluster.rest(1, "GET", "/conversations/hall/guests")["count"] == 1
            viewer.ok("UNSUBSCRIBE", "me/conversations/hall")
            host.wait_event(counted(0))
            assert cluster.rest(0, "GET", "/conversations/hall/guests") == {"data": [], "count": 0}


def test_ban_and_mute_on_one_node_hold_on_the_other(cluster: Cluster) -> None:  # noqa: F811
    _room(cluster)
    with cluster.client(1, "spammer") as spammer, cluster.client(1, "heckler") as heckler:
        spammer.ok("SUBSCRIBE", "me/conversations/hall", {"asGuest": True})
        heckler.ok("SUBSCRIBE", "me/conversations/hall", {"asGuest": True})
        heckler.ok("POST", "me/conversations/hall/messages", {"text": "first"})

        # Banned through node 0: the guest on node 1 is cut at once, and cannot come back.
        cluster.rest(0, "PUT", "/conversations/hall/guests/spammer/ban", {"reason": "spam"})
        assert spammer.wait_event("subscription.ended")["errorCode"] == "GUEST_BANNED"
        status, body = spammer.request("SUBSCRIBE", "me/conversations/hall", {"asGuest": True})
        assert (status, body["errorCode"]) == (403, "GUEST_BANNED")
        # Nor on a new connection to node 1 (a reconnect).
        with cluster.client(1, "spammer") as reconnect:
            status, body = reconnect.request(
                "SUBSCRIBE", "me/conversations/hall", {"asGuest": True}
            )
            assert (status, body["errorCode"]) == (403, "GUEST_BANNED")

        # Muted through node 0: the guest on node 1 still reads but cannot write.
        cluster.rest(0, "PUT", "/conversations/hall/guests/heckler/mute", {"durationSeconds": 600})
        heckler.wait_event("guest.muted")
        status, body = heckler.request("POST", "me/conversations/hall/messages", {"text": "x"})
        assert (status, body["errorCode"]) == (403, "NOT_ALLOWED_TO_WRITE")
        cluster.rest(
            0,
            "POST",
            "/conversations/hall/messages",
            [{"type": "SystemMessage", "text": "still reading?"}],
        )
        heckler.wait_event(
            lambda e: (
                e.get("type") == "message.created" and e["message"]["text"] == "still reading?"
            )
        )
        assert cluster.rest(0, "GET", "/conversations/hall/guests")["count"] == 1
        # Lifted on node 0: the guest on node 1 writes again.
        cluster.rest(0, "DELETE", "/conversations/hall/guests/heckler/mute")
        heckler.wait_event("guest.unmuted")
        heckler.ok("POST", "me/conversations/hall/messages", {"text": "thanks"})
