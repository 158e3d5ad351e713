"""Strings no database can store are a 400, never a 500, on SQLite and PostgreSQL.

JSON lets a lone UTF-16 surrogate through (``"\\ud800"``), which has no UTF-8 form, and NUL,
which PostgreSQL text cannot hold. Wherever they come (a custom map's key or value, any other
string field, an untyped map, a batch operation, a path id) the answer is the one error shape
and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

BAD = ["\\ud800", "\\udfff", "a\\udc00b", "\\u0000", "x\\u0000"]


def send(api: Api, method: str, path: str, body: str) -> Any:
    """A raw JSON body (the escapes stay as written; a JSON encoder would refuse them)."""
    headers = {**api.headers, "Content-Type": "application/json"}
    return api.client.request(method, api.url(path), content=body.encode(), headers=headers)


def refused(response: Any) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"errorCode", "reasons"}
    assert body["errorCode"] == "INVALID_REQUEST" and body["reasons"]


@pytest.mark.parametrize("bad", BAD)
def test_user_fields_and_custom_keys(api: Api, bad: str) -> None:
    for body in (
        f'{{"name": "A", "custom": {{"{bad}": "v"}}}}',
        f'{{"name": "A", "custom": {{"k": "{bad}"}}}}',
        f'{{"name": "{bad}"}}',
        f'{{"name": "A", "email": ["{bad}@example.com"]}}',
        f'{{"name": "A", "pushTokens": {{"{bad}": true}}}}',
    ):
        refused(send(api, "PUT", "/users/u", body))
    assert api.get("/users/u").status_code == 404
    refused(send(api, "PUT", "/users", f'{{"v": {{"name": "V", "custom": {{"{bad}": "1"}}}}}}'))
    assert api.get("/users/v").status_code == 404
    api.ok(api.put("/users/w", {"name": "W", "custom": {"k": "v"}}))
    refused(send(api, "PUT", "/users/w", f'{{"custom": {{"{bad}": null}}}}'))
    assert api.ok(api.get("/users/w"))["custom"] == {"k": "v"}


@pytest.mark.parametrize("bad", BAD)
def test_conversation_and_message_fields(api: Api, bad: str) -> None:
    api.ok(api.put("/users/a", {"name": "A"}))
    for body in (
        f'{{"custom": {{"{bad}": "x"}}}}',
        f'{{"subject": "{bad}"}}',
        f'{{"welcomeMessages": ["hi", "{bad}"]}}',
    ):
        refused(send(api, "PUT", "/conversations/c", body))
    assert api.get("/conversations/c").status_code == 404
    api.ok(api.put("/conversations/c", {"participants": ["a"]}))
    for message in (
        f'{{"type": "UserMessage", "sender": "a", "text": "t", "custom": {{"{bad}": "y"}}}}',
        f'{{"type": "UserMessage", "sender": "a", "text": "t", "custom": {{"k": "{bad}"}}}}',
        f'{{"type": "SystemMessage", "text": "{bad}"}}',
        f'{{"type": "UserMessage", "sender": "a", "text": "t", "idempotencyKey": "{bad}"}}',
    ):
        refused(send(api, "POST", "/conversations/c/messages", f"[{message}]"))
    assert api.ok(api.get("/conversations/c/messages"))["data"] == []


@pytest.mark.parametrize("bad", BAD)
def test_settings_webhooks_and_batch(api: Api, bad: str) -> None:
    before = api.ok(api.get("/settings"))
    refused(send(api, "PATCH", "/settings", f'{{"moderatorRoles": ["{bad}"]}}'))
    assert api.ok(api.get("/settings")) == before
    refused(send(api, "PUT", "/notifications/settings", f'{{"roles": {{"{bad}": {{}}}}}}'))
    refused(send(api, "POST", "/webhooks", f'{{"url": "https://x.test/", "events": ["{bad}"]}}'))
    refused(send(api, "POST", "/webhooks", f'{{"url": "https://x.test/{bad}"}}'))
    assert api.ok(api.get("/webhooks"))["data"] == []
    refused(send(api, "POST", "/batch", f'[[1, "GET", "/users/{bad}"]]'))
    op = f'[1, "PUT", "/users/b", {{"custom": {{"{bad}": "1"}}}}]'
    refused(send(api, "POST", "/batch", f"[{op}]"))
    assert api.get("/users/b").status_code == 404


def test_nul_in_path_ids(api: Api) -> None:
    api.ok(api.put("/users/a", {"name": "A"}))
    api.ok(api.put("/conversations/c", {"participants": ["a"]}))
    for path in (
        "/v1/a%00b/users/a",
        "/v1/%00/settings",
        f"/v1/{api.app_id}%00/users/a",
        api.url("/users/a%00"),
        api.url("/conversations/c%00"),
        api.url("/conversations/c/messages/m%00"),
        api.url("/users/a%00/conversations"),
        api.url("/webhooks/wh%00"),
    ):
        refused(api.client.get(path, headers=api.headers))
    refused(api.client.put(api.url("/users/b%00"), json={"name": "B"}, headers=api.headers))
    refused(api.client.put(api.url("/conversations/c/participants/%00"), headers=api.headers))
    refused(api.client.delete(api.url("/conversations/c/participants/a%00"), headers=api.headers))
    assert [p["userId"] for p in api.ok(api.get("/conversations/c/participants"))["data"]] == [
        "a"
    ]
