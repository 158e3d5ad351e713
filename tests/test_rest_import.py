"""``POST /v1/{appId}/import/conversations/{id}/messages`` on SQLite and PostgreSQL: history
stored with its own times and read state, silently, all of a call or nothing."""

from __future__ import annotations

from typing import Any

import pytest

T0 = 1_600_000_000_000  # well before the fake clock's now


def item(sender: str, text: str, ts: int, read_by: list[str] | None = None, **kw: Any) -> Any:
    return {
        "type": "UserMessage",
        "sender": sender,
        "text": text,
        "timestamp": ts,
        "readBy": read_by or [],
        **kw,
    }


@pytest.fixture
def room(api):
    api.ok(
        api.put(
            "/users",
            {
                u: {"name": u.title(), "email": [f"{u}@example.com"]}
                for u in ["alice", "bob", "carol", "dave", "zed"]
            },
        )
    )
    api.ok(api.put("/conversations/c1", {"participants": ["alice", "bob", "carol", "dave"]}))
    api.ok(api.post("/webhooks", {"url": "https://hooks.example.com/chinwag"}))
    return api


def imp(api, body, cid="c1"):
    return api.post(f"/import/conversations/{cid}/messages", body)


def history(api, cid="c1"):
    return api.ok(api.get(f"/conversations/{cid}/messages", params={"limit": 100}))["data"][::-1]


def unread(api, user):
    rows = api.ok(api.get(f"/users/{user}/conversations"))["data"]
    return {r["id"]: r["unreadMessageCount"] for r in rows}


def outbox_rows(ctx, app_id):
    with ctx.read() as tx:
        return tx.all("SELECT kind FROM outbox WHERE app_id = ?", (app_id,))


def test_imported_history_keeps_times_order_and_read_state_silently(room, ctx, sink):
    api = room
    before = len(sink.events)
    body = [
        item("bob", "second", T0 + 2000, ["alice"]),
        item("alice", "first", T0 + 1000, ["bob", "carol"], custom={"src": "old"}),
        item("alice", "third", T0 + 3000),
    ]
    ids = api.ok(imp(api, body))
    assert len(ids) == 3 and all(i["id"].startswith("msg_") for i in ids)
    msgs = history(api)
    assert [m["text"] for m in msgs] == ["first", "second", "third"]  # timestamp order
    assert [m["createdAt"] for m in msgs] == [T0 + 1000, T0 + 2000, T0 + 3000]
    assert {m["origin"] for m in msgs} == {"import"}
    assert [m["id"] for m in msgs] == [ids[1]["id"], ids[0]["id"], ids[2]["id"]]
    assert msgs[0]["custom"] == {"src": "old"}
    positions = [m["position"] for m in msgs]
    assert positions == sorted(positions) and len(set(positions)) == 3
    # readBy: alice read up to "second", bob and carol up to "first"; dave nothing.
    assert msgs[0]["readBy"] == ["bob", "carol"] or set(msgs[0]["readBy"]) == {"bob", "carol"}
    assert set(msgs[1]["readBy"]) == {"alice"}
    assert unread(api, "alice") == {"c1": 0}  # "third" is her own
    assert unread(api, "bob") == {"c1": 1}
    assert unread(api, "carol") == {"c1": 2}
    assert unread(api, "dave") == {"c1": 3}
    # No live push, no notification, no webhook.
    assert sink.events[before:] == []
    assert outbox_rows(ctx, api.app_id) == []
    conv = api.ok(api.get("/conversations/c1"))
    assert conv["lastMessage"]["text"] == "third"


def test_history_older_than_the_conversation_is_refused(room):
    api = room
    api.ok(imp(api, [item("alice", "old", T0)]))
    api.ok(imp(api, [item("bob", "same time is fine", T0)]))
    r = imp(api, [item("alice", "older", T0 - 1)])
    assert r.status_code == 409 and r.json()["errorCode"] == "IMPORT_OUT_OF_ORDER"
    assert "oldest first" in r.json()["reasons"][0]
    api.ok(
        api.post(
            "/conversations/c1/messages", [{"type": "UserMessage", "sender": "bob", "text": "live"}]
        )
    )
    r = imp(api, [item("alice", "after live traffic", T0 + 1)])
    assert r.status_code == 409 and r.json()["errorCode"] == "IMPORT_OUT_OF_ORDER"
    assert [m["text"] for m in history(api)] == ["old", "same time is fine", "live"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ([], "INVALID_REQUEST"),
        ([item("alice", f"m{i}", T0 + i) for i in range(11)], "INVALID_REQUEST"),
        ([{**item("alice", "x", T0), "timestamp": "1600000000000"}], "INVALID_REQUEST"),
        ([{**item("alice", "x", T0), "timestamp": True}], "INVALID_REQUEST"),
        ([{**item("alice", "x", T0), "unknown": 1}], "INVALID_REQUEST"),
        ([{**item("alice", "x", T0), "type": "SystemMessage"}], "INVALID_REQUEST"),
        (
            [{k: v for k, v in item("alice", "x", T0).items() if k != "timestamp"}],
            "INVALID_REQUEST",
        ),
        ([item("alice", "x", -1)], "INVALID_REQUEST"),
        (
            [item("alice", "ok", T0), item("zed", "not a participant", T0 + 1)],
            "IMPORT_NOT_A_PARTICIPANT",
        ),
        (
            [item("alice", "ok", T0), item("bob", "x", T0 + 1, ["nobody"])],
            "IMPORT_NOT_A_PARTICIPANT",
        ),
        (
            [item("alice", "ok", T0), item("alice", "x", T0 + 1, attachmentToken="tok")],
            "ATTACHMENTS_NOT_SUPPORTED",
        ),
        ([item("alice", "ok", T0), item("alice", "from the future", 10**13)], "INVALID_REQUEST"),
    ],
)
def test_bad_input_is_400_and_imports_nothing(room, body, code):
    api = room
    r = imp(api, body)
    assert r.status_code == 400, r.text
    assert r.json()["errorCode"] == code
    assert history(api) == []
    assert api.ok(api.get("/conversations/c1"))["lastMessage"] is None


def test_unknown_conversation_and_wrong_key(room):
    api = room
    r = imp(api, [item("alice", "x", T0)], cid="nope")
    assert r.status_code == 404 and r.json()["errorCode"] == "CONVERSATION_NOT_FOUND"
    r = api.client.post(
        f"/v1/{api.app_id}/import/conversations/c1/messages",
        json=[item("alice", "x", T0)],
        headers={"Authorization": "Bearer no"},
    )
    assert r.status_code == 401


def test_retry_with_idempotency_keys_stores_nothing_twice(room):
    api = room
    body = [
        item("alice", "a", T0, idempotencyKey="k1"),
        item("bob", "b", T0 + 1, idempotencyKey="k2"),
    ]
    first = api.ok(imp(api, body))
    again = api.ok(imp(api, body))
    assert first == again
    assert [m["text"] for m in history(api)] == ["a", "b"]


def test_former_participants_can_appear_and_read_stops_at_the_horizon(room, ctx):
    api = room
    api.ok(imp(api, [item("dave", "dave was here", T0, ["carol"])]))
    api.ok(api.patch("/conversations/c1/participants/carol", {"access": "None"}))
    api.ok(api.delete("/conversations/c1/participants/dave"))
    # Later history (still older than now) names carol as a reader, and dave as a sender.
    api.ok(imp(api, [item("dave", "from before he left", T0 + 1, ["carol"])]))
    [row] = api.ok(api.get("/users/carol/conversations"))["data"]
    assert row["access"] == "None" and row["unreadMessageCount"] == 0
    assert [m["text"] for m in history(api)] == ["dave was here", "from before he left"]
    with ctx.read() as tx:
        row = tx.one(
            "SELECT read_position, horizon FROM participants WHERE app_id = ? "
            "AND conversation_id = 'c1' AND user_id = 'carol'",
            (api.app_id,),
        )
    assert row is not None and row["read_position"] == row["horizon"]
