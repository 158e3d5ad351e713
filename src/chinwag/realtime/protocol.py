"""The realtime wire protocol, without I/O: text frames in, frames and close decisions out.

Frames are JSON arrays (docs/protocol.md has the full reference):

    client request   [seq, METHOD, path, data?, headers?]    METHOD in METHODS
    server reply     [seq, status, body]                     non-200 body {"errorCode", "reasons"}
    server push      [n, "PUBLISH", event, event, ...]       events are pre-serialized JSON
    client ack       [n, "ACK"]

A frame that cannot be read at all (not JSON, nested deeper than the parser goes, not an array,
no usable seq: a seq is ASCII digits only, as JSON numbers are) cannot be answered,
since there is no seq to answer: :func:`parse` raises :class:`ProtocolViolation` and the transport
closes the socket with its code. A frame with a usable seq but a wrong method, path or data is
answered with an error reply and the connection goes on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from chinwag.errors import ChinwagError, InvalidRequest, PayloadTooLarge

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "SUBSCRIBE", "UNSUBSCRIBE"})

#: The largest text frame a client may send (a message is at most 10,000 characters).
MAX_FRAME_BYTES = 128 * 1024
MAX_PATH = 1024
MAX_SEQ = 2**53 - 1

# Close codes (RFC 6455 for protocol-level ones, 4000 + HTTP status for refusals).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_RESTART = 1012
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_MALFORMED = 1007
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011

#: Every close code the server uses, with its meaning; docs/protocol.md lists them.
CLOSE_CODES: dict[int, str] = {
    CLOSE_NORMAL: "The server closed the session (shutdown or the client asked).",
    CLOSE_GOING_AWAY: "The server is shutting down (SIGTERM, Ctrl+C); reconnect and resume.",
    CLOSE_PROTOCOL_ERROR: "The client broke the WebSocket framing (realtime/frames.py).",
    CLOSE_RESTART: "Shutting down, from uvicorn's own WebSocket implementation (the ASGI route).",
    CLOSE_MALFORMED: "A frame was not a JSON array with a usable sequence number.",
    CLOSE_TOO_BIG: "A frame was larger than MAX_FRAME_BYTES.",
    CLOSE_INTERNAL: "An unexpected server error; reconnect and resume.",
    4400: "The URL is invalid (for example a bad user id).",
    4401: "Missing or wrong signature or token while identity verification is on.",
    4404: "No app with this id.",
    4429: "Too many open connections for this user, or too many refused frames.",
}


class ProtocolViolation(Exception):
    """A frame the server cannot answer; the transport closes with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Request:
    seq: int
    method: str
    path: str
    data: Any


@dataclass(frozen=True)
class Ack:
    n: int


@dataclass(frozen=True)
class BadRequest:
    """A frame with a usable seq but nothing else we can act on: answer it with ``error``."""

    seq: int
    error: ChinwagError


Frame = Request | Ack | BadRequest


_SURROGATE = re.compile("[\ud800-\udfff]")


def _is_seq(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEQ


def parse(text: str | bytes, max_bytes: int = MAX_FRAME_BYTES) -> Frame:
    """Read one client frame."""
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ProtocolViolation(CLOSE_TOO_BIG, f"frame of {size} bytes is over {max_bytes}")
    try:
        frame = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolViolation(CLOSE_MALFORMED, "frame is not valid JSON") from None
    except RecursionError:  # the parser's stack, not ours: nested deeper than it goes
        raise ProtocolViolation(CLOSE_MALFORMED, "frame is nested too deeply") from None
    if not isinstance(frame, list) or len(frame) < 2:
        raise ProtocolViolation(CLOSE_MALFORMED, "frame must be a JSON array [seq, METHOD, ...]")
    seq = frame[0]
    if not _is_seq(seq):
        raise ProtocolViolation(CLOSE_MALFORMED, "the first element must be a sequence number")
    method = frame[1]
    if method == "ACK":
        if len(frame) != 2:
            return BadRequest(
                seq, InvalidRequest('an ACK frame is [n, "ACK"]', code="INVALID_FRAME")
            )
        return Ack(seq)
    if not isinstance(method, str) or method not in METHODS:
        shown = method if isinstance(method, str) else type(method).__name__
        return BadRequest(
            seq,
            InvalidRequest(
                f"unknown method {str(shown)[:40]!r}; use one of {', '.join(sorted(METHODS))}",
                code="INVALID_FRAME",
            ),
        )
    if len(frame) < 3 or not isinstance(frame[2], str) or not frame[2]:
        return BadRequest(
            seq, InvalidRequest("the third element must be a path", code="INVALID_FRAME")
        )
    if len(frame) > 5:
        return BadRequest(
            seq, InvalidRequest("a request has at most 5 elements", code="INVALID_FRAME")
        )
    path = frame[2]
    if len(path) > MAX_PATH:
        return BadRequest(seq, PayloadTooLarge(f"the path is over {MAX_PATH} characters"))
    data = frame[3] if len(frame) > 3 else None
    if data is not None and not isinstance(data, (dict, list)):
        return BadRequest(
            seq, InvalidRequest("data must be a JSON object or array", code="INVALID_FRAME")
        )
    return Request(seq, method, path.strip("/"), data)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def reply(seq: int, status: int, body: Any) -> str:
    return _dumps([seq, status, body])


def error_reply(seq: int, exc: ChinwagError) -> str:
    """An error's reply frame. Its reasons may quote what the client sent (a path), which may
    hold a lone surrogate that has no UTF-8 form: then every non-ASCII character is escaped."""
    body = exc.to_body()
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        body["retryAfter"] = retry_after
    text = _dumps([seq, exc.status, body])
    if _SURROGATE.search(text):
        text = json.dumps([seq, exc.status, body], separators=(",", ":"))
    return text


def publish(n: int, events: list[str]) -> str:
    """A push frame from events that are already JSON: each event is serialized once per node,
    every connection only adds its own counter around them."""
    return f'[{n},"PUBLISH",{",".join(events)}]'


def encode_event(event: dict[str, Any]) -> str:
    return _dumps(event)


def close_reason(exc: ChinwagError) -> tuple[int, str]:
    """The close code and reason (at most 123 bytes) for a refused connection."""
    reason = f"{exc.code}: {'; '.join(exc.reasons)}"
    return 4000 + exc.status, reason.encode("utf-8", "backslashreplace")[:123].decode(
        "utf-8", "ignore"
    )
