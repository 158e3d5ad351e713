"""What each REST call sends and how its answer is read, with no I/O: the sync and the async
client both execute these :class:`Call` objects, so the two cannot disagree.

Rules kept:

- A body is validated by the server's own model (:mod:`chinwag.schemas`) before it is sent.
- Every message sent gets an ``idempotencyKey`` (a fresh random one unless the caller gave one),
  so a retried send never stores a message twice.
- A call is retried (:func:`retry_delay`) on 429 after its ``Retry-After``, and on 502, 503,
  504 or a connection error only when repeating it is safe: a GET, PUT or DELETE, or a POST of
  messages (their idempotency keys make it safe). Never more than ``max_retries`` times.
"""

from __future__ import annotations

import json as json_module
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from chinwag.schemas import MessageIn, MessagesIn, parse

#: Seconds to wait before retrying a 502/503/504 or a connection error, by attempt.
BACKOFF = (0.2, 1.0, 3.0)
_SAFE = {"GET", "PUT", "DELETE", "HEAD", "OPTIONS"}


class ApiError(Exception):
    """An error answer: ``status``, ``error_code`` and ``reasons`` (docs/api.md lists codes)."""

    def __init__(
        self, status: int, error_code: str, reasons: list[str], retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status} {error_code}: {'; '.join(reasons)}")
        self.status = status
        self.error_code = error_code
        self.reasons = reasons
        self.retry_after = retry_after


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # below /v1/{appId}
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    #: Safe to repeat after a 5xx or a lost connection (see the module docstring).
    repeatable: bool = False
    #: The answer is JSON lines (an export), read into a list.
    lines: bool = False


def segment(value: str) -> str:
    return quote(value, safe="")


def conversation_path(conversation_id: str) -> str:
    return f"/conversations/{segment(conversation_id)}"


def reaction_path(conversation_id: str, message_id: str, emoji: str, user_id: str) -> str:
    return (
        f"{conversation_path(conversation_id)}/messages/{segment(message_id)}"
        f"/reactions/{segment(emoji)}/{segment(user_id)}"
    )


def guest_path(conversation_id: str, user_id: str, what: str) -> str:
    return f"{conversation_path(conversation_id)}/guests/{segment(user_id)}/{segment(what)}"


def body(model: BaseModel | dict[str, Any] | None) -> Any:
    if model is None:
        return None
    if isinstance(model, BaseModel):
        return model.model_dump(include=model.model_fields_set, mode="json")
    return model


def call(
    method: str,
    path: str,
    json: Any = None,
    params: dict[str, Any] | None = None,
    repeatable: bool | None = None,
    lines: bool = False,
) -> Call:
    query = {
        k: ("true" if v is True else "false" if v is False else str(v))
        for k, v in (params or {}).items()
        if v is not None
    }
    safe = method in _SAFE if repeatable is None else repeatable
    return Call(method, path, query, json, safe, lines)


def messages_call(conversation_id: str, messages: list[MessageIn | dict[str, Any]]) -> Call:
    items = []
    for m in messages:
        item = dict(body(m))
        item.setdefault("idempotencyKey", "py_" + secrets.token_hex(12))
        items.append(item)
    parse(MessagesIn, items)  # the server's own rules, checked before sending
    return call(
        "POST", f"/conversations/{segment(conversation_id)}/messages", items, repeatable=True
    )


def error_of(status: int, headers: dict[str, str], payload: Any) -> ApiError:
    retry = headers.get("retry-after")
    retry_after = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
    if isinstance(payload, dict) and "errorCode" in payload:
        return ApiError(
            status, str(payload["errorCode"]), list(payload.get("reasons", [])), retry_after
        )
    return ApiError(status, "HTTP_ERROR", [f"unexpected answer {status}"], retry_after)


def retry_delay(c: Call, attempt: int, status: int | None, error: ApiError | None) -> float | None:
    """Seconds to wait before trying ``c`` again after ``attempt`` (0-based) failed, or None."""
    if status == 429 and error is not None:
        return error.retry_after if error.retry_after is not None else 1.0
    if (status is None or status in (502, 503, 504)) and c.repeatable:
        return BACKOFF[min(attempt, len(BACKOFF) - 1)]
    return None


def decode(c: Call, content: bytes) -> Any:
    """A 200 answer's body: JSON, JSON lines for an export, or None when empty."""
    if not content:
        return None
    if c.lines:
        return [json_module.loads(line) for line in content.splitlines() if line.strip()]
    return json_module.loads(content)
