"""Every REST operation has a typed method on both clients (``chinwag.client``), and the ones
beyond the core (reactions, guest moderation, invites, webhooks, notifications, audit, import)
work against a live server on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator

import pytest

from chinwag.client import AsyncClient, Client
from chinwag.schemas import InviteIn, RestrictionPut
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.web.app import create_app
from chinwag.web.openapi_shapes import SHAPES
from tests.realtime_support import live_server

_C = "/v1/{appId}/conversations/{conversationId}"
#: Each operation of the REST API (web/openapi_shapes.py) and the client method that calls it.
METHODS = {
    ("PUT", "/v1/{appId}/users/{userId}"): "put_user",
    ("PUT", "/v1/{appId}/users"): "put_users",
    ("GET", "/v1/{appId}/users/{userId}"): "get_user",
    ("GET", "/v1/{appId}/users"): "iter_users",
    ("GET", "/v1/{appId}/users/{userId}/conversations"): "iter_user_conversations",
    ("PUT", _C): "put_conversation",
    ("GET", _C): "get_conversation",
    ("DELETE", _C): "delete_conversation",
    ("GET", "/v1/{appId}/conversations"): "iter_conversations",
    ("GET", "/v1/{appId}/conversationIds/random"): "random_conversation_id",
    ("PUT", _C + "/participants/{userId}"): "put_participant",
    ("PATCH", _C + "/participants/{userId}"): "patch_participant",
    ("DELETE", _C + "/participants/{userId}"): "delete_participant",
    ("GET", _C + "/participants"): "list_participants",
    ("POST", _C + "/messages"): "send_messages",
    ("GET", _C + "/messages"): "iter_messages",
    ("GET", _C + "/messages/{messageId}"): "get_message",
    ("PUT", _C + "/messages/{messageId}"): "edit_message",  # PUT and PATCH do the same
    ("PATCH", _C + "/messages/{messageId}"): "edit_message",
    ("DELETE", _C + "/messages/{messageId}"): "delete_message",
    ("PUT", _C + "/messages/{messageId}/reactions/{emoji}/{userId}"): "add_reaction",
    ("DELETE", _C + "/messages/{messageId}/reactions/{emoji}/{userId}"): "remove_reaction",
    ("POST", "/v1/{appId}/import/conversations/{conversationId}/messages"): "import_messages",
    ("POST", _C + "/readBy/{userId}"): "mark_read",
    ("GET", "/v1/{appId}/settings"): "get_settings",
    ("PATCH", "/v1/{appId}/settings"): "patch_settings",
    ("POST", "/v1/{appId}/batch"): "batch",
    ("GET", "/v1/{appId}/webhooks"): "list_webhooks",
    ("POST", "/v1/{appId}/webhooks"): "create_webhook",
    ("GET", "/v1/{appId}/webhooks/{webhookId}"): "get_webhook",
    ("PATCH", "/v1/{appId}/webhooks/{webhookId}"): "patch_webhook",
    ("DELETE", "/v1/{appId}/webhooks/{webhookId}"): "delete_webhook",
    ("GET", "/v1/{appId}/webhooks/{webhookId}/deliveries"): "list_deliveries",
    ("GET", "/v1/{appId}/notifications"): "list_notifications",
    ("GET", "/v1/{appId}/notifications/settings"): "get_notification_settings",
    ("PUT", "/v1/{appId}/notifications/settings"): "put_notification_settings",
    ("PUT", _C + "/guests/{userId}/{kind}"): "restrict_guest",
    ("DELETE", _C + "/guests/{userId}/{kind}"): "lift_restriction",
    ("POST", _C + "/guests/{userId}/kick"): "kick_guest",
    ("GET", _C + "/guests"): "list_guests",
    ("GET", _C + "/guestRestrictions"): "list_restrictions",
    ("POST", _C + "/invites"): "create_invite",
    ("GET", _C + "/invites"): "list_invites",
    ("DELETE", _C + "/invites/{inviteId}"): "revoke_invite",
    ("GET", "/v1/{appId}/audit"): "iter_audit",
    ("GET", "/v1/{appId}/audit/export"): "audit_export",
}


def test_every_operation_has_a_method_on_both_clients() -> None:
    assert set(METHODS) == set(SHAPES), "a REST operation without a client method, or gone"
    for name in set(METHODS.values()):
        sync, async_ = getattr(Client, name), getattr(AsyncClient, name)
        assert inspect.signature(sync).parameters.keys() == (
            inspect.signature(async_).parameters.keys()
        ), name


@pytest.fixture
def chat(ctx: Context, app_keys: apps.AppWithKeys) -> Iterator[Client]:
    with live_server(create_app(ctx)) as base:
        url = base.replace("ws://", "http://")
        with Client(url, app_keys.app.id, app_keys.secret_keys[0]) as client:
            yield client


def test_reactions_moderation_invites_and_import(chat: Client) -> None:
    chat.put_users({"ann": {"name": "Ann"}, "gus": {"name": "Gus"}})
    chat.put_conversation("c", {"participants": ["ann"], "guestAccess": "ReadWrite"})
    (message_id,) = chat.send_messages(
        "c", [{"type": "UserMessage", "sender": "ann", "text": "hi"}]
    )
    chat.add_reaction("c", message_id, "👍", "ann")
    (reaction,) = chat.get_message("c", message_id)["reactions"]
    assert (reaction["emoji"], reaction["users"]) == ("👍", ["ann"])
    chat.remove_reaction("c", message_id, "👍", "ann")
    assert chat.get_message("c", message_id)["reactions"] == []

    chat.restrict_guest("c", "gus", "mute", RestrictionPut(reason="shouting"))
    (restriction,) = chat.list_restrictions("c")
    assert (restriction["userId"], restriction["kind"]) == ("gus", "mute")
    chat.lift_restriction("c", "gus", "mute")
    assert chat.list_restrictions("c") == []
    chat.kick_guest("c", "gus", reason="not watching now: nothing to do, no error")
    assert chat.list_guests("c") == {"data": [], "count": 0}

    invite = chat.create_invite("c", InviteIn(access="Read", expiresInSeconds=60))
    assert invite["token"] and invite["access"] == "Read"
    assert [i["id"] for i in chat.list_invites("c")] == [invite["id"]]
    chat.revoke_invite("c", invite["id"])
    assert all(i["id"] != invite["id"] or i.get("revokedAt") for i in chat.list_invites("c"))

    chat.put_conversation("old", {"participants": ["ann"]})
    old = {
        "type": "UserMessage",
        "sender": "ann",
        "text": "from 2020",
        "timestamp": 1_600_000_000_000,
    }
    ids = chat.import_messages("old", [{**old, "idempotencyKey": "imp-1"}])
    assert chat.import_messages("old", [{**old, "idempotencyKey": "imp-1"}]) == ids  # once
    assert [m["createdAt"] for m in chat.iter_messages("old")] == [1_600_000_000_000]

    actions = [e["action"] for e in chat.iter_audit(page_size=2)]
    assert len(actions) >= 3  # the mute, its lifting, the invite and its revocation at least
    assert [e["action"] for e in chat.audit_export()] == actions
    of_c = list(chat.iter_audit("c"))
    assert of_c and all(e["conversationId"] == "c" for e in of_c)
    assert len(of_c) < len(actions)  # the import's conversation is left out


def test_webhooks_and_notifications(chat: Client) -> None:
    hook = chat.create_webhook(
        {"url": "https://hooks.example.com/chat", "events": ["user.created"]}
    )
    assert chat.get_webhook(hook["id"])["url"] == "https://hooks.example.com/chat"
    assert chat.patch_webhook(hook["id"], {"enabled": False})["enabled"] is False
    assert [h["id"] for h in chat.list_webhooks()] == [hook["id"]]
    assert chat.list_deliveries(hook["id"]) == []
    chat.delete_webhook(hook["id"])
    assert chat.list_webhooks() == []
    assert chat.list_notifications() == []
    settings = chat.put_notification_settings({"email": False, "sms": True})
    assert settings == chat.get_notification_settings()
    assert settings["email"] is False


def test_the_async_client_calls_them_too(ctx: Context, app_keys: apps.AppWithKeys) -> None:
    with live_server(create_app(ctx)) as base:
        url, app_id, key = (
            base.replace("ws://", "http://"),
            app_keys.app.id,
            app_keys.secret_keys[0],
        )

        async def scenario() -> list[str]:
            async with AsyncClient(url, app_id, key) as chat:
                await chat.put_users({"ann": {"name": "Ann"}})
                await chat.put_conversation("c", {"participants": ["ann"]})
                invite = await chat.create_invite("c")
                await chat.revoke_invite("c", invite["id"])
                return [e["action"] async for e in chat.iter_audit("c")]

        assert asyncio.run(scenario())
