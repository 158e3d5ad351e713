"""REST messages, batch and settings, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest


@pytest.fixture
def chat(api):
    api.ok(api.put("/users", {"a": {"name": "A"}, "b": {"name": "B"}}))
    api.ok(api.put("/conversations/c", {"participants": ["a", "b"]}))
    return api


def um(text, sender="a", **extra):
    return {"type": "UserMessage", "sender": sender, "text": text, **extra}


def test_history_pages_newest_first_by_keyset(chat):
    api = chat
    for i in range(0, 25, 5):
        api.ok(api.post("/conversations/c/messages", [um(f"m{j}") for j in range(i, i + 5)]))
    seen, after = [], None
    while True:
        params = {"limit": 10} | ({"startingAfter": after} if after else {})
        page = api.ok(api.get("/conversations/c/messages", params=params))["data"]
        if not page:
            break
        seen += [m["text"] for m in page]
        after = page[-1]["id"]
    assert seen == [f"m{i}" for i in reversed(range(25))]
    positions = [
        m["position"]
        for m in api.ok(api.get("/conversations/c/messages", params={"limit": 25}))["data"]
    ]
    assert positions == sorted(positions, reverse=True) and len(set(positions)) == 25


def test_send_is_all_or_nothing(chat):
    api = chat
    r = api.post("/conversations/c/messages", [um("ok"), um("bad", sender="nobody")])
    assert r.status_code == 403
    assert api.ok(api.get("/conversations/c/messages"))["data"] == []
    assert api.post("/conversations/c/messages", [um(str(i)) for i in range(11)]).status_code == 400
    assert api.post("/conversations/c/messages", []).status_code == 400
    assert api.post("/conversations/c/messages", [um("")]).status_code == 400
    assert api.post("/conversations/c/messages", [um("x" * 10_001)]).status_code == 400
    assert api.post("/conversations/c/messages", [um("x", custom={"k": 1})]).status_code == 400
    assert (
        api.post("/conversations/c/messages", [{"type": "Carrier pigeon", "text": "x"}]).status_code
        == 400
    )
    assert api.post("/conversations/nope/messages", [um("x")]).status_code == 404


def test_idempotency_key(chat):
    api = chat
    first = api.ok(api.post("/conversations/c/messages", [um("once", idempotencyKey="k1")]))
    again = api.ok(api.post("/conversations/c/messages", [um("once", idempotencyKey="k1")]))
    assert first == again
    assert len(api.ok(api.get("/conversations/c/messages"))["data"]) == 1
    r = api.post("/conversations/c/messages", [um("different", idempotencyKey="k1")])
    assert r.status_code == 409 and r.json()["errorCode"] == "IDEMPOTENCY_KEY_REUSED"


def test_get_edit_delete_keep_order(chat):
    api = chat
    ids = [
        m["id"]
        for m in api.ok(api.post("/conversations/c/messages", [um("one"), um("two"), um("three")]))
    ]
    edited = api.ok(
        api.put(f"/conversations/c/messages/{ids[1]}", {"text": "TWO", "custom": {"e": "1"}})
    )
    assert (
        edited["text"] == "TWO"
        and edited["editedAt"] is not None
        and edited["custom"] == {"e": "1"}
    )
    assert api.ok(api.get(f"/conversations/c/messages/{ids[1]}"))["text"] == "TWO"
    api.ok(api.delete(f"/conversations/c/messages/{ids[0]}"))
    assert [m["text"] for m in api.ok(api.get("/conversations/c/messages"))["data"]] == [
        "three",
        "TWO",
    ]
    assert api.get(f"/conversations/c/messages/{ids[0]}").status_code == 404
    assert api.delete(f"/conversations/c/messages/{ids[0]}").status_code == 404
    assert api.put(f"/conversations/c/messages/{ids[2]}", {"text": 3}).status_code == 400
    assert api.get("/conversations/c/messages/msg_nope").status_code == 404
    # A reply must reference a message of the same conversation.
    r = api.post("/conversations/c/messages", [um("re", referencedMessageId="msg_nope")])
    assert r.status_code == 404
    api.ok(api.post("/conversations/c/messages", [um("re", referencedMessageId=ids[2])]))


def test_conversation_merge_list_delete(chat):
    api = chat
    api.ok(
        api.put(
            "/conversations/c", {"subject": "S", "custom": {"x": "1"}, "welcomeMessages": ["hi"]}
        )
    )
    api.ok(
        api.put("/conversations/c", {"photoUrl": "https://example.com/p.png", "custom": {"y": "2"}})
    )
    conv = api.ok(api.get("/conversations/c"))
    assert conv["subject"] == "S" and conv["custom"] == {"x": "1", "y": "2"}
    assert conv["welcomeMessages"] == ["hi"] and conv["photoUrl"] == "https://example.com/p.png"
    api.ok(api.put("/conversations/d", {}))
    assert [c["id"] for c in api.ok(api.get("/conversations"))["data"]] == ["c", "d"]
    api.ok(api.post("/conversations/c/messages", [um("bye")]))
    api.ok(api.delete("/conversations/c"))
    assert api.get("/conversations/c").status_code == 404
    assert api.ok(api.get("/users/a/conversations"))["data"] == []
    assert api.delete("/conversations/c").status_code == 404


def test_random_conversation_id(api):
    a = api.ok(api.get("/conversationIds/random"))["id"]
    b = api.ok(api.get("/conversationIds/random"))["id"]
    assert a != b and len(a) == 32 and int(a, 16) >= 0


def test_settings_get_and_patch(api):
    settings = api.ok(api.get("/settings"))
    assert settings == {
        "allowUserSyncViaBrowser": True,
        "allowConversationSyncViaBrowser": True,
        "identityVerification": False,
        "participantLimit": 50,
        "notificationDelaySeconds": 60,
        "moderatorRoles": [],
    }
    changed = api.ok(api.patch("/settings", {"identityVerification": True, "participantLimit": 3}))
    assert changed["identityVerification"] is True and changed["participantLimit"] == 3
    for bad in [
        {"identityVerification": "yes"},
        {"participantLimit": 0},
        {"participantLimit": "3"},
        {"nope": 1},
        {"notificationDelaySeconds": -1},
    ]:
        assert api.patch("/settings", bad).status_code == 400, bad
    assert api.ok(api.get("/settings"))["participantLimit"] == 3


def test_batch(chat):
    api = chat
    result = api.ok(
        api.post(
            "/batch",
            [
                [1, "PUT", "/users/z", {"name": "Zed"}],
                [2, "GET", "/users/z"],
                [3, "POST", "/conversations/c/messages", [um("from batch")]],
                [4, "GET", "/conversations/c/messages", {"limit": "1"}],
                [5, "GET", "/users/nobody"],
            ],
        )
    )
    assert [r[0] for r in result] == [1, 2, 3, 4, 5]
    assert [r[1] for r in result] == [200, 200, 200, 200, 404]
    assert result[1][2]["name"] == "Zed"
    assert result[3][2]["data"][0]["text"] == "from batch"
    assert result[4][2]["errorCode"] == "USER_NOT_FOUND"
    assert api.post("/batch", [[i, "GET", "/users/z"] for i in range(11)]).status_code == 400
    assert api.post("/batch", [[1, "TRACE", "/users/z"]]).status_code == 400
    assert api.post("/batch", [[1, "POST", "/batch", []]]).status_code == 400
    # Without the app's key, nothing in a batch runs.
    r = api.client.post(api.url("/batch"), json=[[1, "PUT", "/users/q", {"name": "Q"}]])
    assert r.status_code == 401
    assert api.get("/users/q").status_code == 404
