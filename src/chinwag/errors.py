"""The one error tree of Chinwag.

Every failure a client can cause is a :class:`ChinwagError` with a stable ``code`` and an HTTP
``status``; the web layer turns it into ``{"errorCode": code, "reasons": [...]}`` in one place
(:mod:`chinwag.web.errors`) and the realtime layer into a ``[seq, status, body]`` reply.

    ChinwagError
    ├── InvalidRequest          400 INVALID_REQUEST (and friends, see codes below)
    ├── Unauthorized            401 UNAUTHORIZED
    ├── Forbidden               403 NOT_A_PARTICIPANT, NOT_ALLOWED_TO_WRITE, SYNC_NOT_ALLOWED, ...
    ├── NotFound                404 USER_NOT_FOUND, CONVERSATION_NOT_FOUND, ...
    ├── Conflict                409 PARTICIPANT_LIMIT_REACHED, ...
    ├── PayloadTooLarge         413 PAYLOAD_TOO_LARGE
    └── RetryLater              (answers with Retry-After)
        ├── RateLimited         429 RATE_LIMITED, TOO_MANY_CONNECTIONS, ...
        └── Unavailable         503 DATABASE_UNAVAILABLE

Only these statuses are ever answered; anything else is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Every error code with its status and a one-line meaning; ``docs/api.md`` lists them all
#: and a test keeps the two in step.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "INVALID_REQUEST": (400, "A field is missing, of the wrong type, too long, or unknown."),
    "INVALID_ID": (400, "An id in the path or body uses characters outside the id charset."),
    "SYSTEM_MESSAGE_WITH_SENDER": (400, "A SystemMessage was given a sender."),
    "USER_MESSAGE_WITHOUT_SENDER": (400, "A UserMessage has no sender."),
    "IMPORT_NOT_A_PARTICIPANT": (
        400,
        "An imported message's sender or readBy user has never been a participant here.",
    ),
    "ATTACHMENTS_NOT_SUPPORTED": (400, "Attachments (attachmentToken) are not supported yet."),
    "INVALID_FRAME": (400, "A realtime frame has an unknown method or a malformed element."),
    "UNAUTHORIZED": (401, "Missing or wrong secret key, app token, signature or user token."),
    "NOT_A_PARTICIPANT": (403, "The user is not a participant who may do this."),
    "NOT_ALLOWED_TO_WRITE": (403, "The user's access (Read or None) does not allow writing."),
    "SYNC_NOT_ALLOWED": (403, "The app disallows this synchronization via the browser."),
    "GUEST_ACCESS_NOT_ALLOWED": (403, "Guest access is off for this app or conversation."),
    "NOT_A_MODERATOR": (403, "The session's user may not moderate this conversation's guests."),
    "CANNOT_RAISE_OWN_RIGHTS": (
        403,
        "A browser session tried to raise its own access, or rejoin after a removal or None.",
    ),
    "DECIDED_BY_BACKEND": (
        403,
        "The backend, the dashboard or a moderator set this; a browser session cannot undo it.",
    ),
    "NOT_ADMITTED": (
        403,
        "A browser session tried to join a conversation nobody added it to (or a one-on-one of "
        "two other users).",
    ),
    "UNAUTHORIZED_TO_EDIT_PARTICIPANT": (
        403,
        "Only ReadWrite participants change others' memberships, and only moderators remove.",
    ),
    "UNAUTHORIZED_TO_EDIT": (
        403,
        "Only ReadWrite participants change a conversation's attributes from the browser.",
    ),
    "USER_RESTRICTED": (
        403,
        "The user is banned or muted as a guest here, so the browser cannot add them.",
    ),
    "GUEST_BANNED": (403, "The user is banned from watching this conversation as a guest."),
    "GUEST_KICKED": (403, "A moderator removed this guest; it may come back unless banned."),
    "INVITE_INVALID": (403, "The invite link is forged, revoked, or for another conversation."),
    "INVITE_EXPIRED": (403, "The invite link has expired."),
    "NOT_FOUND": (404, "No such endpoint or method."),
    "APP_NOT_FOUND": (404, "No app with this id."),
    "USER_NOT_FOUND": (404, "No user with this id in this app."),
    "CONVERSATION_NOT_FOUND": (404, "No conversation with this id in this app."),
    "MESSAGE_NOT_FOUND": (404, "No message with this id in this conversation."),
    "PARTICIPANT_NOT_FOUND": (404, "The user has no membership in this conversation."),
    "RESTRICTION_NOT_FOUND": (404, "The user has no such ban or mute in this conversation."),
    "INVITE_NOT_FOUND": (404, "No invite with this id in this conversation."),
    "PARTICIPANT_LIMIT_REACHED": (409, "The conversation's lifetime participant limit is used up."),
    "IDEMPOTENCY_KEY_REUSED": (409, "The idempotency key was used for a different message."),
    "IMPORT_OUT_OF_ORDER": (
        409,
        "Imported messages are older than the conversation's newest message: import history "
        "oldest first, before live traffic starts (or into a fresh conversation).",
    ),
    "PAYLOAD_TOO_LARGE": (413, "The request body is larger than the limit."),
    "RATE_LIMITED": (429, "Too many requests; retry after the Retry-After seconds."),
    "TOO_MANY_CONNECTIONS": (429, "This user has too many realtime connections open."),
    "TOO_MANY_SUBSCRIPTIONS": (429, "This realtime connection watches too many conversations."),
    "DATABASE_UNAVAILABLE": (
        503,
        "The database did not answer (it is restarting or unreachable); nothing was changed "
        "unless the request's outcome says otherwise: retry after the Retry-After seconds (a "
        "message with the same idempotency key is stored once).",
    ),
}


class ChinwagError(Exception):
    """A failure with a stable error code, an HTTP status and human-readable reasons."""

    status = 400
    default_code = "INVALID_REQUEST"

    def __init__(self, *reasons: str, code: str | None = None) -> None:
        self.code = code or self.default_code
        if self.code not in ERROR_CODES:  # pragma: no cover - a programming error
            raise ValueError(f"unregistered error code {self.code}")
        self.status = ERROR_CODES[self.code][0]
        self.reasons: list[str] = list(reasons) or [ERROR_CODES[self.code][1]]
        super().__init__(f"{self.code}: {'; '.join(self.reasons)}")

    def to_body(self) -> dict[str, object]:
        return {"errorCode": self.code, "reasons": self.reasons}


class InvalidRequest(ChinwagError):
    default_code = "INVALID_REQUEST"

    @classmethod
    def from_reasons(cls, reasons: Sequence[str]) -> InvalidRequest:
        return cls(*reasons)


class Unauthorized(ChinwagError):
    default_code = "UNAUTHORIZED"


class Forbidden(ChinwagError):
    default_code = "NOT_A_PARTICIPANT"


class NotFound(ChinwagError):
    default_code = "NOT_FOUND"


class Conflict(ChinwagError):
    default_code = "PARTICIPANT_LIMIT_REACHED"


class PayloadTooLarge(ChinwagError):
    default_code = "PAYLOAD_TOO_LARGE"


class RetryLater(ChinwagError):
    """A refusal that passes: the answer says after how many seconds to try again."""

    def __init__(self, retry_after: float, *reasons: str, code: str | None = None) -> None:
        super().__init__(*reasons, code=code)
        self.retry_after = retry_after


class RateLimited(RetryLater):
    default_code = "RATE_LIMITED"


class Unavailable(RetryLater):
    """The database did not answer. Raised by the storage layer, whatever the driver said."""

    default_code = "DATABASE_UNAVAILABLE"
