"""The synchronous client (httpx.Client). :mod:`chinwag.client.asyncio` mirrors it line by line."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
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


class Client:
    """Chinwag's REST API for one app. ``secret`` is a secret key or an app JWT."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        secret: str,
        *,
        max_retries: int = 3,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http or httpx.Client(timeout=timeout)
        self.base = f"{base_url.rstrip('/')}/v1/{segment(app_id)}"
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.max_retries = max_retries
        self.sleep = sleep

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, c: Call) -> Any:
        """Send ``c``, retrying as :mod:`chinwag.client.calls` says; the decoded answer."""
        attempt = 0
        while True:
            status: int | None = None
            error: ApiError | None = None
            try:
                answer = self.http.request(
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
            self.sleep(delay)
            attempt += 1

    def _pages(self, path: str, page_size: int, **params: Any) -> Iterator[Json]:
        after: str | None = None
        while True:
            page = self.run(
                calls.call(
                    "GET", path, params={**params, "limit": page_size, "startingAfter": after}
                )
            )["data"]
            yield from page
            if len(page) < page_size:
                return
            after = page[-1]["id"]

    # -- users -----------------------------------------------------------------------------

    def put_user(self, user_id: str, user: UserPut | Json) -> None:
        self.run(calls.call("PUT", f"/users/{segment(user_id)}", calls.body(user)))

    def put_users(self, users: dict[str, UserPut | Json]) -> None:
        self.run(calls.call("PUT", "/users", {k: calls.body(v) for k, v in users.items()}))

    def get_user(self, user_id: str) -> Json:
        return self.run(calls.call("GET", f"/users/{segment(user_id)}"))  # type: ignore[no-any-return]

    def iter_users(self, page_size: int = 100) -> Iterator[Json]:
        return self._pages("/users", page_size)

    def iter_user_conversations(
        self, user_id: str, page_size: int = 100, unreads_only: bool = False
    ) -> Iterator[Json]:
        path = f"/users/{segment(user_id)}/conversations"
        return self._pages(path, page_size, unreadsOnly=unreads_only or None)

    # -- conversations and participants ----------------------------------------------------

    def put_conversation(self, conversation_id: str, conversation: ConversationPut | Json) -> None:
        path = f"/conversations/{segment(conversation_id)}"
        self.run(calls.call("PUT", path, calls.body(conversation)))

    def get_conversation(self, conversation_id: str) -> Json:
        path = f"/conversations/{segment(conversation_id)}"
        return self.run(calls.call("GET", path))  # type: ignore[no-any-return]

    def delete_conversation(self, conversation_id: str) -> None:
        self.run(calls.call("DELETE", f"/conversations/{segment(conversation_id)}"))

    def iter_conversations(self, page_size: int = 100) -> Iterator[Json]:
        return self._pages("/conversations", page_size)

    def random_conversation_id(self) -> str:
        return str(self.run(calls.call("GET", "/conversationIds/random"))["id"])

    def put_participant(
        self, conversation_id: str, user_id: str, participant: ParticipantPut | Body = None
    ) -> None:
        path = f"/conversations/{segment(conversation_id)}/participants/{segment(user_id)}"
        self.run(calls.call("PUT", path, calls.body(participant)))

    def patch_participant(
        self, conversation_id: str, user_id: str, change: ParticipantPatch | Json
    ) -> None:
        path = f"/conversations/{segment(conversation_id)}/participants/{segment(user_id)}"
        self.run(calls.call("PATCH", path, calls.body(change)))

    def delete_participant(self, conversation_id: str, user_id: str) -> None:
        path = f"/conversations/{segment(conversation_id)}/participants/{segment(user_id)}"
        self.run(calls.call("DELETE", path))

    def list_participants(self, conversation_id: str) -> list[Json]:
        path = f"/conversations/{segment(conversation_id)}/participants"
        return self.run(calls.call("GET", path))["data"]  # type: ignore[no-any-return]

    # -- messages --------------------------------------------------------------------------

    def send_messages(self, conversation_id: str, messages: list[MessageIn | Json]) -> list[str]:
        """Store up to 10 messages, all or none; their ids. Each gets an idempotency key, so a
        retried send stores nothing twice."""
        answer = self.run(calls.messages_call(conversation_id, messages))
        return [str(m["id"]) for m in answer]

    def iter_messages(self, conversation_id: str, page_size: int = 100) -> Iterator[Json]:
        """Newest first, every page."""
        return self._pages(f"/conversations/{segment(conversation_id)}/messages", page_size)

    def get_message(self, conversation_id: str, message_id: str) -> Json:
        path = f"/conversations/{segment(conversation_id)}/messages/{segment(message_id)}"
        return self.run(calls.call("GET", path))  # type: ignore[no-any-return]

    def edit_message(self, conversation_id: str, message_id: str, edit: MessageEdit | Json) -> Json:
        path = f"/conversations/{segment(conversation_id)}/messages/{segment(message_id)}"
        return self.run(calls.call("PATCH", path, calls.body(edit)))  # type: ignore[no-any-return]

    def delete_message(self, conversation_id: str, message_id: str) -> None:
        path = f"/conversations/{segment(conversation_id)}/messages/{segment(message_id)}"
        self.run(calls.call("DELETE", path))

    def mark_read(self, conversation_id: str, user_id: str) -> int:
        path = f"/conversations/{segment(conversation_id)}/readBy/{segment(user_id)}"
        return int(self.run(calls.call("POST", path))["readUntil"])

    # -- app -------------------------------------------------------------------------------

    def get_settings(self) -> Json:
        return self.run(calls.call("GET", "/settings"))  # type: ignore[no-any-return]

    def patch_settings(self, change: SettingsPatch | Json) -> Json:
        return self.run(calls.call("PATCH", "/settings", calls.body(change)))  # type: ignore[no-any-return]

    def batch(self, operations: list[list[Any]]) -> list[list[Any]]:
        """Up to 10 operations ``[seq, method, path, data?]``, answered ``[seq, status, body]``."""
        return self.run(calls.call("POST", "/batch", operations))  # type: ignore[no-any-return]

    # -- reactions -------------------------------------------------------------------------

    def add_reaction(self, conversation_id: str, message_id: str, emoji: str, user_id: str) -> None:
        self.run(
            calls.call("PUT", calls.reaction_path(conversation_id, message_id, emoji, user_id))
        )

    def remove_reaction(
        self, conversation_id: str, message_id: str, emoji: str, user_id: str
    ) -> None:
        self.run(
            calls.call("DELETE", calls.reaction_path(conversation_id, message_id, emoji, user_id))
        )

    # -- guests: moderation and invites ----------------------------------------------------

    def restrict_guest(
        self,
        conversation_id: str,
        user_id: str,
        kind: str,
        restriction: RestrictionPut | Body = None,
    ) -> None:
        """``kind``: ``ban`` or ``mute``; ``restriction``: ``{durationSeconds, reason}``."""
        self.run(
            calls.call(
                "PUT", calls.guest_path(conversation_id, user_id, kind), calls.body(restriction)
            )
        )

    def lift_restriction(self, conversation_id: str, user_id: str, kind: str) -> None:
        self.run(calls.call("DELETE", calls.guest_path(conversation_id, user_id, kind)))

    def kick_guest(self, conversation_id: str, user_id: str, reason: str | None = None) -> None:
        kick = {"reason": reason} if reason is not None else None
        self.run(calls.call("POST", calls.guest_path(conversation_id, user_id, "kick"), kick))

    def list_guests(self, conversation_id: str) -> Json:
        """``{"data": [...], "count": n}``: who watches now, on every node."""
        return self.run(calls.call("GET", calls.conversation_path(conversation_id) + "/guests"))  # type: ignore[no-any-return]

    def list_restrictions(self, conversation_id: str) -> list[Json]:
        path = calls.conversation_path(conversation_id) + "/guestRestrictions"
        return self.run(calls.call("GET", path))["data"]  # type: ignore[no-any-return]

    def create_invite(self, conversation_id: str, invite: InviteIn | Body = None) -> Json:
        """``invite``: ``{access, expiresInSeconds}``; the answer has the link's ``token``."""
        path = calls.conversation_path(conversation_id) + "/invites"
        return self.run(calls.call("POST", path, calls.body(invite)))  # type: ignore[no-any-return]

    def list_invites(self, conversation_id: str) -> list[Json]:
        path = calls.conversation_path(conversation_id) + "/invites"
        return self.run(calls.call("GET", path))["data"]  # type: ignore[no-any-return]

    def revoke_invite(self, conversation_id: str, invite_id: str) -> None:
        path = f"{calls.conversation_path(conversation_id)}/invites/{segment(invite_id)}"
        self.run(calls.call("DELETE", path))

    # -- webhooks and notifications --------------------------------------------------------

    def list_webhooks(self) -> list[Json]:
        return self.run(calls.call("GET", "/webhooks"))["data"]  # type: ignore[no-any-return]

    def create_webhook(self, webhook: Json) -> Json:
        """``{url, events?, enabled?}``; the answer has the endpoint's ``id``."""
        return self.run(calls.call("POST", "/webhooks", webhook))  # type: ignore[no-any-return]

    def get_webhook(self, webhook_id: str) -> Json:
        return self.run(calls.call("GET", f"/webhooks/{segment(webhook_id)}"))  # type: ignore[no-any-return]

    def patch_webhook(self, webhook_id: str, change: Json) -> Json:
        path = f"/webhooks/{segment(webhook_id)}"
        return self.run(calls.call("PATCH", path, change))  # type: ignore[no-any-return]

    def delete_webhook(self, webhook_id: str) -> None:
        self.run(calls.call("DELETE", f"/webhooks/{segment(webhook_id)}"))

    def list_deliveries(self, webhook_id: str, limit: int = 50) -> list[Json]:
        path = f"/webhooks/{segment(webhook_id)}/deliveries"
        return self.run(calls.call("GET", path, params={"limit": limit}))["data"]  # type: ignore[no-any-return]

    def list_notifications(self, limit: int = 50) -> list[Json]:
        answer = self.run(calls.call("GET", "/notifications", params={"limit": limit}))
        return answer["data"]  # type: ignore[no-any-return]

    def get_notification_settings(self) -> Json:
        return self.run(calls.call("GET", "/notifications/settings"))  # type: ignore[no-any-return]

    def put_notification_settings(self, settings: Json) -> Json:
        path = "/notifications/settings"
        return self.run(calls.call("PUT", path, settings))  # type: ignore[no-any-return]

    # -- audit and import ------------------------------------------------------------------

    def iter_audit(
        self, conversation_id: str | None = None, page_size: int = 100
    ) -> Iterator[Json]:
        """The audit log, oldest first, every page (of one conversation, if given)."""
        return self._pages("/audit", page_size, conversationId=conversation_id)

    def audit_export(self) -> list[Json]:
        """The whole audit log at once (the server streams it as JSON lines)."""
        return self.run(calls.call("GET", "/audit/export", lines=True))  # type: ignore[no-any-return]

    def import_messages(self, conversation_id: str, messages: list[Json]) -> list[str]:
        """History with its own timestamps, silently, all or none (docs/migrating.md); each
        message needs its ``idempotencyKey``, so a retried import stores nothing twice."""
        path = f"/import{calls.conversation_path(conversation_id)}/messages"
        keyed = all("idempotencyKey" in m for m in messages)
        answer = self.run(calls.call("POST", path, messages, repeatable=keyed))
        return [str(m["id"]) for m in answer]
