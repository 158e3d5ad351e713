"""The access rules of BRIEF section 2, end to end over REST, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest


def send(api, text, sender=None, cid="g1"):
    msg = (
        {"type": "SystemMessage", "text": text}
        if sender is None
        else {"type": "UserMessage", "sender": sender, "text": text}
    )
    return api.post(f"/conversations/{cid}/messages", [msg])


def inbox(api, user, **params):
    return api.ok(api.get(f"/users/{user}/conversations", params=params))["data"]


@pytest.fixture
def group(api):
    api.ok(
        api.put(
            "/users", {u: {"name": u.title()} for u in ["alice", "sebastian", "steve", "mallory"]}
        )
    )
    api.ok(
        api.put(
            "/conversations/g1",
            {"participants": ["alice", "sebastian", "steve"], "subject": "Steel preserve"},
        )
    )
    return api


def test_three_participants_chat_and_read_back(group):
    api = group
    for sender, text in [("alice", "hi"), ("sebastian", "hello"), ("steve", "hey")]:
        api.ok(send(api, text, sender))
    conv = api.ok(api.get("/conversations/g1"))
    assert set(conv["participants"]) == {"alice", "sebastian", "steve"}
    assert conv["lastMessage"]["text"] == "hey"
    texts = [m["text"] for m in api.ok(api.get("/conversations/g1/messages"))["data"]]
    assert texts == ["hey", "hello", "hi"]  # newest first


def test_read_participant_cannot_write_but_reads(group):
    api = group
    api.ok(api.put("/conversations/g1/participants/steve", {"access": "Read"}))
    r = send(api, "let me in", "steve")
    assert r.status_code == 403 and r.json()["errorCode"] == "NOT_ALLOWED_TO_WRITE"
    api.ok(send(api, "for everyone", "alice"))
    [row] = inbox(api, "steve")
    assert row["access"] == "Read" and row["unreadMessageCount"] == 1
    assert api.ok(api.get("/conversations/g1"))["participants"]["steve"]["access"] == "Read"


def test_none_access_freezes_history_and_return_restores_it(group):
    api = group
    api.ok(send(api, "before", "alice"))
    api.ok(api.patch("/conversations/g1/participants/steve", {"access": "None"}))
    api.ok(send(api, "while away", "alice"))

    conv = api.ok(api.get("/conversations/g1"))
    assert "steve" not in conv["participants"]  # not listed
    assert send(api, "can I?", "steve").json()["errorCode"] == "NOT_ALLOWED_TO_WRITE"
    [row] = inbox(api, "steve")
    assert row["access"] == "None"
    assert row["lastMessage"]["text"] == "before"  # frozen at the withdrawal
    assert row["unreadMessageCount"] == 1  # only "before" counts

    api.ok(api.patch("/conversations/g1/participants/steve", {"access": "ReadWrite"}))
    [row] = inbox(api, "steve")
    assert row["lastMessage"]["text"] == "while away"  # sees everything again
    assert row["unreadMessageCount"] == 2
    api.ok(send(api, "back", "steve"))


def test_mark_read_stops_at_the_horizon(group):
    api = group
    api.ok(send(api, "one", "alice"))
    api.ok(api.patch("/conversations/g1/participants/steve", {"access": "None"}))
    api.ok(send(api, "two", "alice"))
    api.ok(api.post("/conversations/g1/readBy/steve"))
    assert inbox(api, "steve")[0]["unreadMessageCount"] == 0
    api.ok(api.patch("/conversations/g1/participants/steve", {"access": "Read"}))
    assert inbox(api, "steve")[0]["unreadMessageCount"] == 1  # "two" was never read
    api.ok(api.post("/conversations/g1/readBy/steve"))
    messages = api.ok(api.get("/conversations/g1/messages"))["data"]
    assert all("steve" in m["readBy"] for m in messages)


def test_removed_participant_keeps_history_and_is_not_listed(group):
    api = group
    api.ok(send(api, "before removal", "alice"))
    api.ok(api.delete("/conversations/g1/participants/sebastian"))
    api.ok(send(api, "after removal", "alice"))
    assert "sebastian" not in api.ok(api.get("/conversations/g1"))["participants"]
    [row] = inbox(api, "sebastian")
    assert row["isMember"] is False and row["lastMessage"]["text"] == "before removal"
    r = send(api, "still here?", "sebastian")
    assert r.status_code == 403
    # PATCH needs a membership; DELETE twice is a clear 404.
    assert (
        api.patch("/conversations/g1/participants/sebastian", {"access": "Read"}).status_code == 404
    )
    r = api.delete("/conversations/g1/participants/sebastian")
    assert r.status_code == 404 and r.json()["errorCode"] == "PARTICIPANT_NOT_FOUND"
    # Joining again restores the full history.
    api.ok(api.put("/conversations/g1/participants/sebastian", {}))
    assert inbox(api, "sebastian")[0]["lastMessage"]["text"] == "after removal"


def test_participants_listing_shows_every_membership(group):
    api = group
    api.ok(api.patch("/conversations/g1/participants/steve", {"access": "None"}))
    api.ok(api.delete("/conversations/g1/participants/sebastian"))
    rows = {p["userId"]: p for p in api.ok(api.get("/conversations/g1/participants"))["data"]}
    assert rows["alice"]["access"] == "ReadWrite" and rows["alice"]["historyUntil"] is None
    assert rows["steve"]["access"] == "None" and rows["steve"]["isMember"] is True
    assert rows["sebastian"]["isMember"] is False and rows["sebastian"]["historyUntil"] is not None


def test_join_put_overwrites_and_patch_is_partial(group):
    api = group
    api.ok(api.put("/conversations/g1/participants/steve", {"access": "Read", "notify": False}))
    api.ok(api.patch("/conversations/g1/participants/steve", {"notify": "MentionsOnly"}))
    assert api.ok(api.get("/conversations/g1"))["participants"]["steve"] == {
        "access": "Read",
        "notify": "MentionsOnly",
    }
    api.ok(api.put("/conversations/g1/participants/steve", {}))
    assert api.ok(api.get("/conversations/g1"))["participants"]["steve"] == {
        "access": "ReadWrite",
        "notify": True,
    }
    assert api.put("/conversations/g1/participants/steve", {"access": "None"}).status_code == 400
    assert api.patch("/conversations/g1/participants/steve", {}).status_code == 400
    assert api.patch("/conversations/g1/participants/steve", {"notify": "yes"}).status_code == 400


def test_participant_limit_is_lifetime_and_nothing_half_written(group):
    api = group
    api.ok(api.patch("/settings", {"participantLimit": 3}))
    # alice, sebastian, steve hold the 3 slots; removing one frees nothing.
    api.ok(api.delete("/conversations/g1/participants/steve"))
    r = api.put("/conversations/g1/participants/mallory", {})
    assert r.status_code == 409 and r.json()["errorCode"] == "PARTICIPANT_LIMIT_REACHED"
    # A conversation PUT that would exceed the limit changes nothing, not even the subject.
    r = api.put("/conversations/g1", {"subject": "changed", "participants": ["mallory"]})
    assert r.status_code == 409
    assert api.ok(api.get("/conversations/g1"))["subject"] == "Steel preserve"
    # Re-adding a former participant takes no new slot.
    api.ok(api.put("/conversations/g1/participants/steve", {}))
    # A new conversation with too many participants is not created at all.
    api.ok(api.put("/users/zoe", {"name": "Zoe"}))
    r = api.put("/conversations/g2", {"participants": ["alice", "sebastian", "steve", "zoe"]})
    assert r.status_code == 409
    assert api.get("/conversations/g2").status_code == 404


def test_unknown_participant_user_is_404_and_nothing_written(api):
    api.ok(api.put("/users/alice", {"name": "Alice"}))
    r = api.put("/conversations/c", {"participants": ["alice", "ghost"]})
    assert r.status_code == 404 and r.json()["errorCode"] == "USER_NOT_FOUND"
    assert api.get("/conversations/c").status_code == 404


def test_message_sender_rules(group):
    api = group
    r = api.post(
        "/conversations/g1/messages", [{"type": "SystemMessage", "text": "x", "sender": "alice"}]
    )
    assert r.status_code == 400  # a system message has no sender
    r = api.post("/conversations/g1/messages", [{"type": "UserMessage", "text": "x"}])
    assert r.status_code == 400  # a user message needs one
    r = send(api, "not mine", "mallory")
    assert r.status_code == 403 and r.json()["errorCode"] == "NOT_A_PARTICIPANT"
    api.ok(send(api, "Welcome!"))
    [m] = api.ok(api.get("/conversations/g1/messages"))["data"]
    assert m["type"] == "SystemMessage" and m["senderId"] is None


def test_guest_access_field(api):
    api.ok(api.put("/conversations/c", {"guestAccess": "Read"}))
    assert api.ok(api.get("/conversations/c"))["guestAccess"] == "Read"
    assert api.put("/conversations/c", {"guestAccess": "Sometimes"}).status_code == 400


def test_user_conversations_order_unreads_and_paging(api, clock):
    api.ok(api.put("/users", {"me": {"name": "Me"}, "you": {"name": "You"}}))
    for i in range(5):
        clock.advance(1000)
        api.ok(api.put(f"/conversations/c{i}", {"participants": ["me", "you"]}))
    for cid in ["c3", "c1"]:
        clock.advance(1000)
        api.ok(
            api.post(
                f"/conversations/{cid}/messages",
                [{"type": "UserMessage", "sender": "you", "text": cid}],
            )
        )
    rows = inbox(api, "me", limit=3)
    assert [r["id"] for r in rows] == ["c1", "c3", "c4"]  # newest activity first
    everything = inbox(api, "me", limit=100)
    assert len(everything) == 5
    activity = [(r["lastActivityAt"], r["id"]) for r in everything]
    assert activity == sorted(activity, reverse=True)
    page2 = inbox(api, "me", limit=2, startingAfter=everything[1]["id"])
    assert [r["id"] for r in page2] == [r["id"] for r in everything[2:4]]
    unread = inbox(api, "me", unreadsOnly="true")
    assert {r["id"] for r in unread} == {"c1", "c3"}
    assert all(r["unreadMessageCount"] == 1 for r in unread)
    assert inbox(api, "you", unreadsOnly="true") == []  # own messages are never unread
    assert api.get("/users/ghost/conversations").status_code == 404
