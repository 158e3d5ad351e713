"""REST users, auth, error shape and app isolation, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import jwt
import pytest
from starlette.testclient import TestClient

from chinwag.services import apps
from chinwag.web.app import create_app


def test_create_requires_name_and_nothing_is_written(api):
    r = api.put("/users/u1", {"email": "a@example.com"})
    assert r.status_code == 400
    assert r.json()["errorCode"] == "INVALID_REQUEST"
    assert "name is required" in r.json()["reasons"][0]
    assert api.get("/users/u1").status_code == 404


def test_put_merges_only_sent_fields(api):
    api.ok(
        api.put(
            "/users/u1",
            {"name": "Alice", "email": "alice@example.com", "custom": {"a": "1", "b": "2"}},
        )
    )
    api.ok(
        api.put(
            "/users/u1", {"photoUrl": "https://example.com/a.png", "custom": {"b": None, "c": "3"}}
        )
    )
    user = api.ok(api.get("/users/u1"))
    assert user["name"] == "Alice"
    assert user["email"] == ["alice@example.com"]  # a single string becomes a list
    assert user["photoUrl"] == "https://example.com/a.png"
    assert user["custom"] == {"a": "1", "c": "3"}
    assert user["role"] == "default"


def test_placeholder_email_is_stored_not_rejected(api):
    # The seeds sync users whose email is a placeholder; the sync must not fail.
    api.ok(api.put("/users/654321", {"name": "Sebastian", "email": "[email protected]"}))
    assert api.ok(api.get("/users/654321"))["email"] == ["[email protected]"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": 5},
        {"name": "x" * 256},
        {"name": "A", "unknown": 1},
        {"name": "A", "custom": {"k": 1}},
        {"name": "A", "custom": {"k": "v" * 2049}},
        {"name": "A", "custom": {f"k{i}": "v" for i in range(51)}},
        {"name": "A", "email": ["e"] * 11},
        {"name": "A", "photoUrl": ["not", "a", "string"]},
        {"name": True},
    ],
)
def test_bad_user_fields_are_400(api, body):
    r = api.put("/users/bad", body)
    assert r.status_code == 400, r.text
    assert set(r.json()) == {"errorCode", "reasons"} and r.json()["reasons"]
    assert api.get("/users/bad").status_code == 404


def test_bad_ids_are_400(api):
    for bad in ["has space", "x" * 129, "semi;colon", "ü"]:
        r = api.put(f"/users/{bad}", {"name": "A"})
        assert r.status_code == 400, (bad, r.text)


def test_batch_put_is_all_or_nothing(api):
    r = api.put("/users", {"b1": {"name": "One"}, "b2": {"email": "no-name@example.com"}})
    assert r.status_code == 400
    assert any(reason.startswith("b2:") for reason in r.json()["reasons"])
    assert api.get("/users/b1").status_code == 404
    api.ok(api.put("/users", {"b1": {"name": "One"}, "b2": {"name": "Two"}}))
    assert api.ok(api.get("/users/b2"))["name"] == "Two"
    too_many = {f"u{i}": {"name": "x"} for i in range(101)}
    assert api.put("/users", too_many).status_code == 400


def test_list_users_pages_by_id(api):
    api.ok(api.put("/users", {f"u{i:02}": {"name": f"U{i}"} for i in range(25)}))
    first = api.ok(api.get("/users", params={"limit": 10}))["data"]
    second = api.ok(api.get("/users", params={"limit": 10, "startingAfter": first[-1]["id"]}))[
        "data"
    ]
    assert [u["id"] for u in first] == [f"u{i:02}" for i in range(10)]
    assert [u["id"] for u in second] == [f"u{i:02}" for i in range(10, 20)]
    assert api.get("/users", params={"limit": 0}).status_code == 400
    assert api.get("/users", params={"limit": 101}).status_code == 400


def test_auth_is_required_and_checked(api):
    url = api.url("/users/u1")
    assert api.client.get(url).status_code == 401
    r = api.client.get(url, headers={"Authorization": "Bearer sk_live_wrong"})
    assert r.status_code == 401 and r.json()["errorCode"] == "UNAUTHORIZED"
    r = api.client.get("/v1/nosuchapp/users/u1", headers=api.headers)
    assert r.status_code == 401


def _token(api, **claims):
    payload = {"tokenType": "app", "iss": api.app_id, "exp": int(time.time()) + 30} | claims
    return jwt.encode(payload, api.secret, algorithm="HS256")


def test_app_jwt(api):
    api.ok(api.put("/users/u1", {"name": "A"}))
    url = api.url("/users/u1")
    ok = api.client.get(url, headers={"Authorization": f"Bearer {_token(api)}"})
    assert ok.status_code == 200
    for bad in [
        _token(api, tokenType="user"),
        _token(api, iss="other"),
        _token(api, exp=int(time.time()) - 60),
        jwt.encode(
            {"tokenType": "app", "iss": api.app_id},
            "not-the-key-but-long-enough-for-hs256!",
            algorithm="HS256",
        ),
    ]:
        assert api.client.get(url, headers={"Authorization": f"Bearer {bad}"}).status_code == 401


def test_apps_never_see_each_others_data(ctx, api):
    other = apps.create_app(ctx, "other")
    api.ok(api.put("/users/shared-id", {"name": "Mine"}))
    with TestClient(create_app(ctx)) as client:
        headers = {"Authorization": f"Bearer {other.secret_keys[0]}"}
        base = f"/v1/{other.app.id}"
        assert client.get(f"{base}/users/shared-id", headers=headers).status_code == 404
        assert client.get(f"{base}/users", headers=headers).json() == {"data": []}
        # The other app's key does not open this app.
        assert client.get(api.url("/users/shared-id"), headers=headers).status_code == 401


def test_error_shape_for_unknown_route_and_method(api):
    r = api.get("/no/such/thing")
    assert r.status_code == 404 and r.json()["errorCode"] == "NOT_FOUND"
    r = api.client.post(api.url("/users/u1"), headers=api.headers, json={})
    assert r.status_code == 404 and set(r.json()) == {"errorCode", "reasons"}


def test_body_too_large_is_413(api):
    r = api.client.put(
        api.url("/users/big"),
        headers=api.headers | {"content-type": "application/json"},
        content=b'{"name": "' + b"x" * 1_100_000 + b'"}',
    )
    assert r.status_code == 413 and r.json()["errorCode"] == "PAYLOAD_TOO_LARGE"


def test_malformed_json_is_400(api):
    r = api.client.put(
        api.url("/users/u1"),
        headers=api.headers | {"content-type": "application/json"},
        content=b"{nope",
    )
    assert r.status_code == 400 and r.json()["errorCode"] == "INVALID_REQUEST"


def test_nul_characters_are_refused_on_every_database(api):
    assert api.put("/users/u1", {"name": "A\x00B"}).status_code == 400
    assert api.put("/users/u1", {"name": "A", "custom": {"k\x00": "v"}}).status_code == 400
    assert api.get("/users", params={"startingAfter": "\x00"}).status_code == 400
    assert api.get("/users/u1").status_code == 404
