"""The asynchronous client (httpx.AsyncClient): :mod:`chinwag.client.sync` with ``await``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from chinwag.client import calls
from chinwag.client.calls import ApiError, Call, segment
from chinwag.schemas import (
    ConversationPut,
    InviteIn,
    MessageEdit,
    MessageIn,
    ParticipantPatch,
    ParticipantPut,
    RestrictionPut,
    SettingsPatch,
    UserPut,
)

Json = dict[str, Any]
Body = Json | None


class AsyncClient:
    """Chinwag's REST API for one app. ``secret`` is a secret key or an app JWT."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        secret: str,
        *,
        max_retries: int = 3,
        timeout: float = 30.0,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http or httpx.AsyncClient(timeout=timeout)
        self.base = f"{base_url.rstrip('/')}/v1/{segment(app_id)}"
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.max_retries = max_retries
        self.sleep = sleep

    async def close(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def run(self, c: Call) -> Any:
        """Send ``c``, retrying as :mod:`chinwag.client.calls` says; the decoded answer."""
        attempt = 0
        while True:
            status: int | None = None
            error: ApiError | None = None
            try:
                answer = await self.http.request(
                    c.method, self.base + c.path, params=c.params, json=c.json, headers=self.headers
                )
                status = answer.status_code
                if status == 200:
                    return calls.decode(c, answer.content)
                payload = (
                    answer.json() if "json" in answer.headers.get("content-type", "") else None
                )
                error = calls.error_of(status, dict(answer.headers), payload)
            except httpx.TransportError:
                if not c.repeatable or attempt >= self.max_retries:
                    raise
            delay = calls.retry_delay(c, attempt, status, error)
            if delay is None or attempt >= self.max_retries:
                assert error is not None
                raise error
            await self.sleep(delay)
            attempt += 1

    async def _pages(self, path: str, page_size: int, **params: Any) -> AsyncIterator[Json]:
        after: str | None = None
        while True:
            answer = await self.run(
                calls.call(
                    "GET", path, params={**params, "limit": page_size, "startingAfter": after}
                )
            )
            page = answer["data"]
            for item in page:
                yield item
            if len(page) < page_size:
                return
            after = page[-1]["id"]

    # -- users -----------------------------------------------------------------------------

    async def put_user(self, user_id: str, user: UserPut | Json) -> None:
        await self.run(calls.call("PUT", f"/users/{segment(user_id)}", calls.body(user)))

    async def put_users(self, users: dict[str, UserPut | Json]) -> None:
        await self.run(calls.call("PUT", "/users", {k: calls.body(v) for k, v in users.items()}))

    async def get_user(self, user_id: str) -> Json:
        return await self.run(calls.call("GET", f"/users/{segment(user_id)}"))  # type: ignore[no-any-return]

    def iter_users(self, page_size: int = 100) -> AsyncIterator[Json]:
        return self._pages("/users", page_size)

    def iter_user_conversations(
        self, user_id: str, page_size: int = 100, unreads_only: bool = False
    ) -> AsyncIterator[Json]:
        path = f"/users/{segment(user_id)}/conversations"
        return self._pages(path, page_size, unreadsOnly=unreads_only or None)

    # -- conversations and participants ----------------------------------------------------

    async def put_conversation(
        self, conversation_id: str, conversation: ConversationPut | Json
    ) -> None:
        path = f"/conversations/{segment(conversation_id)}"
        await self.run(calls.call("PUT", path, calls.body(conversation)))

    async def get_conversation(self, conversation_id: str) -> Json:
        path = f"/conversations/{segment(conversation_id)}"
        return await self.run(calls.call("GET", path))  # type: ignore[no-any-return]

    async def delete_conversation(self, conversation_id: str) -> None:
        await self.run(calls.call("DELETE", f"/conversations/{segment(conversation_id)}"))

    def iter_conversations(self, page_size: int = 100) -> AsyncIterator[Json]:
        return self._pages("/conversations", page_size)

    async def random_conversation_id(self) -> str:
        return str((await self.run(calls.call("GET", "/conversationIds/random")))["id"])

    async def put_participant(
        self, conversation_id: str, user_id: str, participant: ParticipantPut | Body = None
    ) -> None:
        path = f"/conversations/{segment(conversation_id)}/participants/{segment(user_id)}"
        await self.run(calls.call("PUT", path, calls.body(participant)))

    async def patch_participant(
        self, conversation_id: str, user_id: str, change: ParticipantPatch | Json
    ) -> None:
        path = f"/conversations/{segment(conversation_id)}/participants/{segment(user_id)}"
        await self.run(calls.call("PATCH", path, calls.body(change)))

    async def delete_participant(self, conversation_id: str, user_id: str) -> None:
        path = f"/conversations/{segment(conversation_id)}/participants/{segment(user_id)}"
        await self.run(calls.call("DELETE", path))

    async def list_participants(self, conversation_id: str) -> list[Json]:
        path = f"/conversations/{segment(conversation_id)}/participants"
        return (await self.run(calls.call("GET", path)))["data"]  # type: ignore[no-any-return]

    # -- messages --------------------------------------------------------------------------

    async def send_messages(
        self, conversation_id: str, messages: list[MessageIn | Json]
    ) -> list[str]:
        """Store up to 10 messages, all or none; their ids. Each gets an idempotency key, so a
        retried send stores nothing twice."""
        answer = await self.run(calls.messages_call(conversation_id, messages))
        return [str(m["id"]) for m in answer]

    def iter_messages(self, conversation_id: str, page_size: int = 100) -> AsyncIterator[Json]:
        """Newest first, every page."""
        return self._pages(f"/conversations/{segment(conversation_id)}/messages", page_size)

    async def get_message(self, conversation_id: str, message_id: str) -> Json:
        path = f"/conversations/{segment(conversation_id)}/messages/{segment(message_id)}"
        return await self.run(calls.call("GET", path))  # type: ignore[no-any-return]

    async def edit_message(
        self, conversation_id: str, message_id: str, edit: MessageEdit | Json
    ) -> Json:
        path = f"/conversations/{segment(conversation_id)}/messages/{segment(message_id)}"
        return await self.run(calls.call("PATCH", path, calls.body(edit)))  # type: ignore[no-any-return]

    async def delete_message(self, conversation_id: str, message_id: str) -> None:
        path = f"/conversations/{segment(conversation_id)}/messages/{segment(message_id)}"
        await self.run(calls.call("DELETE", path))

    async def mark_read(self, conversation_id: str, user_id: str) -> int:
        path = f"/conversations/{segment(conversation_id)}/readBy/{segment(user_id)}"
        return int((await self.run(calls.call("POST", path)))["readUntil"])

    # -- app -------------------------------------------------------------------------------

    async def get_settings(self) -> Json:
        return await self.run(calls.call("GET", "/settings"))  # type: ignore[no-any-return]

    async def patch_settings(self, change: SettingsPatch | Json) -> Json:
        return await self.run(calls.call("PATCH", "/settings", calls.body(change)))  # type: ignore[no-any-return]

    async def batch(self, operations: list[list[Any]]) -> list[list[Any]]:
        """Up to 10 operations ``[seq, method, path, data?]``, answered ``[seq, status, body]``."""
        return await self.run(calls.call("POST", "/batch", operations))  # type: ignore[no-any-return]

    # -- reactions -------------------------------------------------------------------------

    async def add_reaction(
        self, conversation_id: str, message_id: str, emoji: str, user_id: str
    ) -> None:
        await self.run(
            calls.call("PUT", calls.reaction_path(conversation_id, message_id, emoji, user_id))
        )

    async def remove_reaction(
        self, conversation_id: str, message_id: str, emoji: str, user_id: str
    ) -> None:
        await self.run(
            calls.call("DELETE", calls.reaction_path(conversation_id, message_id, emoji, user_id))
        )

    # -- guests: moderation and invites ----------------------------------------------------

    async def restrict_guest(
        self,
        conversation_id: str,
        user_id: str,
        kind: str,
        restriction: RestrictionPut | Body = None,
    ) -> None:
        """``kind``: ``ban`` or ``mute``; ``restriction``: ``{durationSeconds, reason}``."""
        await self.run(
            calls.call(
                "PUT", calls.guest_path(conversation_id, user_id, kind), calls.body(restriction)
            )
        )

    async def lift_restriction(self, conversation_id: str, user_id: str, kind: str) -> None:
        await self.run(calls.call("DELETE", calls.guest_path(conversation_id, user_id, kind)))

    async def kick_guest(
        self, conversation_id: str, user_id: str, reason: str | None = None
    ) -> None:
        kick = {"reason": reason} if reason is not None else None
        await self.run(calls.call("POST", calls.guest_path(conversation_id, user_id, "kick"), kick))

    async def list_guests(self, conversation_id: str) -> Json:
        """``{"data": [...], "count": n}``: who watches now, on every node."""
        path = calls.conversation_path(conversation_id) + "/guests"
        return await self.run(calls.call("GET", path))  # type: ignore[no-any-return]

    async def list_restrictions(self, conversation_id: str) -> list[Json]:
        path = calls.conversation_path(conversation_id) + "/guestRestrictions"
        return (await self.run(calls.call("GET", path)))["data"]  # type: ignore[no-any-return]

    async def create_invite(self, conversation_id: str, invite: InviteIn | Body = None) -> Json:
        """``invite``: ``{access, expiresInSeconds}``; the answer has the link's ``token``."""
        path = calls.conversation_path(conversation_id) + "/invites"
        return await self.run(calls.call("POST", path, calls.body(invite)))  # type: ignore[no-any-return]

    async def list_invites(self, conversation_id: str) -> list[Json]:
        path = calls.conversation_path(conversation_id) + "/invites"
        return (await self.run(calls.call("GET", path)))["data"]  # type: ignore[no-any-return]

    async def revoke_invite(self, conversation_id: str, invite_id: str) -> None:
        path = f"{calls.conversation_path(conversation_id)}/invites/{segment(invite_id)}"
        await self.run(calls.call("DELETE", path))

    # -- webhooks and notifications --------------------------------------------------------

    async def list_webhooks(self) -> list[Json]:
        return (await self.run(calls.call("GET", "/webhooks")))["data"]  # type: ignore[no-any-return]

    async def create_webhook(self, webhook: Json) -> Json:
        """``{url, events?, enabled?}``; the answer has the endpoint's ``id``."""
        return await self.run(calls.call("POST", "/webhooks", webhook))  # type: ignore[no-any-return]

    async def get_webhook(self, webhook_id: str) -> Json:
        return await self.run(calls.call("GET", f"/webhooks/{segment(webhook_id)}"))  # type: ignore[no-any-return]

    async def patch_webhook(self, webhook_id: str, change: Json) -> Json:
        path = f"/webhooks/{segment(webhook_id)}"
        return await self.run(calls.call("PATCH", path, change))  # type: ignore[no-any-return]

    async def delete_webhook(self, webhook_id: str) -> None:
        await self.run(calls.call("DELETE", f"/webhooks/{segment(webhook_id)}"))

    async def list_deliveries(self, webhook_id: str, limit: int = 50) -> list[Json]:
        path = f"/webhooks/{segment(webhook_id)}/deliveries"
        return (await self.run(calls.call("GET", path, params={"limit": limit})))["data"]  # type: ignore[no-any-return]

    async def list_notifications(self, limit: int = 50) -> list[Json]:
        answer = await self.run(calls.call("GET", "/notifications", params={"limit": limit}))
        return answer["data"]  # type: ignore[no-any-return]

    async def get_notification_settings(self) -> Json:
        return await self.run(calls.call("GET", "/notifications/settings"))  # type: ignore[no-any-return]

    async def put_notification_settings(self, settings: Json) -> Json:
        path = "/notifications/settings"
        return await self.run(calls.call("PUT", path, settings))  # type: ignore[no-any-return]

    # -- audit and import ------------------------------------------------------------------

    def iter_audit(
        self, conversation_id: str | None = None, page_size: int = 100
    ) -> AsyncIterator[Json]:
        """The audit log, oldest first, every page (of one conversation, if given)."""
        return self._pages("/audit", page_size, conversationId=conversation_id)

    async def audit_export(self) -> list[Json]:
        """The whole audit log at once (the server streams it as JSON lines)."""
        return await self.run(calls.call("GET", "/audit/export", lines=True))  # type: ignore[no-any-return]

    async def import_messages(self, conversation_id: str, messages: list[Json]) -> list[str]:
        """History with its own timestamps, silently, all or none (docs/migrating.md); each
        message needs its ``idempotencyKey``, so a retried import stores nothing twice."""
        path = f"/import{calls.conversation_path(conversation_id)}/messages"
        keyed = all("idempotencyKey" in m for m in messages)
        answer = await self.run(calls.call("POST", path, messages, repeatable=keyed))
        return [str(m["id"]) for m in answer]
