"""RFC 6455 for the server side, without I/O: the opening handshake and the frame format.

:mod:`realtime.transport` feeds bytes in and writes the bytes these functions return; nothing
here touches a socket, so every rule of the RFC that we enforce has a plain unit test
(tests/test_realtime_frames.py). No extension (such as permessage-deflate) is negotiated: a push
is the same bytes for every watcher, and compressing it per socket would cost more than it saves.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
_DATA_OPS = frozenset({OP_TEXT, OP_BINARY})
_CONTROL_OPS = frozenset({OP_CLOSE, OP_PING, OP_PONG})

# Close codes the transport itself uses (RFC 6455 section 7.4.1).
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_NO_STATUS = 1005
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009
#: The request line and headers of an opening handshake may not exceed this.
MAX_HANDSHAKE_BYTES = 16 * 1024


class HandshakeError(Exception):
    """The upgrade request cannot be accepted: answer with an HTTP error and close."""

    def __init__(self, status: int, reason: str, headers: tuple[tuple[str, str], ...] = ()):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers


class FrameError(Exception):
    """The peer broke the framing rules: close the socket with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# -- the opening handshake -------------------------------------------------------------------


@dataclass(frozen=True)
class Upgrade:
    """An upgrade request: its decoded path segments, its query and its key."""

    path: str
    segments: tuple[str, ...]
    query: dict[str, str]
    key: str


def read_request(data: bytes) -> tuple[str, str, dict[str, str]] | None:
    """The method, target and headers (names lower-cased) of a complete request head, or None
    while the head is still incomplete."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        if len(data) > MAX_HANDSHAKE_BYTES:
            raise HandshakeError(431, "request headers too large")
        return None
    try:
        lines = data[:end].decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise HandshakeError(400, "malformed request line") from None
    if not version.startswith("HTTP/1."):
        raise HandshakeError(400, "HTTP/1.1 required")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise HandshakeError(400, "malformed header line")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return method, target, headers


def check_upgrade(method: str, target: str, headers: dict[str, str]) -> Upgrade:
    """Validate a WebSocket upgrade request (RFC 6455 section 4.2.1)."""
    if method != "GET":
        raise HandshakeError(405, "a WebSocket upgrade must be a GET")
    if "websocket" not in _tokens(headers.get("upgrade", "")):
        raise HandshakeError(400, "missing Upgrade: websocket")
    if "upgrade" not in _tokens(headers.get("connection", "")):
        raise HandshakeError(400, "missing Connection: Upgrade")
    if headers.get("sec-websocket-version") != "13":
        raise HandshakeError(
            426, "only WebSocket version 13 is supported", (("Sec-WebSocket-Version", "13"),)
        )
    key = headers.get("sec-websocket-key", "")
    try:
        raw = base64.b64decode(key, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 16:
        raise HandshakeError(400, "Sec-WebSocket-Key must be 16 bytes in base64")
    parts = urlsplit(target)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    segments = tuple(unquote(s) for s in parts.path.split("/")[1:])
    return Upgrade(unquote(parts.path), segments, query, key)


def _tokens(value: str) -> set[str]:
    return {t.strip().lower() for t in value.split(",")}


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def switching_protocols(key: str) -> bytes:
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
    ).encode()


def http_error(error: HandshakeError) -> bytes:
    body = error.reason.encode()
    head = [f"HTTP/1.1 {error.status} {_PHRASES.get(error.status, 'Error')}"]
    head += [f"{name}: {value}" for name, value in error.headers]
    head += [
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


_PHRASES = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    426: "Upgrade Required",
    431: "Request Header Fields Too Large",
}


# -- frames from the server ------------------------------------------------------------------


def header(opcode: int, size: int) -> bytes:
    """The head of an unmasked, final frame carrying ``size`` payload bytes."""
    if size < 126:
        return bytes((0x80 | opcode, size))
    if size < 65536:
        return struct.pack("!BBH", 0x80 | opcode, 126, size)
    return struct.pack("!BBQ", 0x80 | opcode, 127, size)


def frame(opcode: int, payload: bytes) -> bytes:
    return header(opcode, len(payload)) + payload


def text(payload: str) -> bytes:
    data = payload.encode()
    return header(OP_TEXT, len(data)) + data


def close(code: int, reason: str = "") -> bytes:
    """A close frame; the reason is cut to fit the 125-byte control-frame limit."""
    data = reason.encode()[:123].decode("utf-8", "ignore").encode()
    return frame(OP_CLOSE, struct.pack("!H", code) + data)


def read_close(payload: bytes) -> tuple[int, str]:
    """The code and reason of a close frame from the peer."""
    if not payload:
        return CLOSE_NO_STATUS, ""
    if len(payload) == 1:
        raise FrameError(CLOSE_PROTOCOL_ERROR, "a close frame's payload cannot be one byte")
    (code,) = struct.unpack("!H", payload[:2])
    if not (1000 <= code <= 1014 or 3000 <= code <= 4999) or code in (1004, 1005, 1006):
        raise FrameError(CLOSE_PROTOCOL_ERROR, f"close code {code} is not allowed")
    try:
        return code, payload[2:].decode()
    except UnicodeDecodeError:
        raise FrameError(CLOSE_INVALID_DATA, "a close reason must be UTF-8") from None


# -- frames from the client ------------------------------------------------------------------


def unmask(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    if n == 0:
        return b""
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "little")
    return (int.from_bytes(payload, "little") ^ key).to_bytes(n, "little")


class FrameReader:
    """Turns the client's bytes into whole messages: ``(opcode, payload)`` with fragments
    joined and masks removed; control frames come out as they arrive, between fragments too.

    ``max_size`` bounds a whole message: a bigger one raises :class:`FrameError` (1009) before
    its bytes are buffered."""

    __slots__ = ("max_size", "_buf", "_parts", "_part_op", "_part_size")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._buf = b""
        self._parts: list[bytes] | None = None  # fragments of an unfinished message
        self._part_op = 0
        self._part_size = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buf = self._buf + data if self._buf else data
        out: list[tuple[int, bytes]] = []
        pos = 0
        end = len(buf)
        while end - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            if b0 & 0x70:
                raise FrameError(CLOSE_PROTOCOL_ERROR, "reserved bits set (no extension agreed)")
            if not b1 & 0x80:
                raise FrameError(CLOSE_PROTOCOL_ERROR, "a client frame must be masked")
            size = b1 & 0x7F
            at = pos + 2
            if size == 126:
                if end - at < 2:
                    break
                (size,) = struct.unpack_from("!H", buf, at)
                at += 2
            elif size == 127:
                if end - at < 8:
                    break
                (size,) = struct.unpack_from("!Q", buf, at)
                at += 8
            opcode = b0 & 0x0F
            fin = b0 & 0x80
            if opcode in _CONTROL_OPS:
                if size > 125 or not fin:
                    raise FrameError(
                        CLOSE_PROTOCOL_ERROR, "control frames must be whole, small"
                    )
            elif size + self._part_size > self.max_size:
                raise FrameError(CLOSE_TOO_BIG, f"message of over {self.max_size} bytes is too big")
            if end - at < 4 + size:
                break
            payload = unmask(buf[at + 4 : at + 4 + size], buf[at : at + 4])
            pos = at + 4 + size
            if opcode in _CONTROL_OPS:
                out.append((opcode, payload))
            elif opcode in _DATA_OPS:
                if self._parts is not None:
                    raise FrameError(CLOSE_PROTOCOL_ERROR, "a new message inside a fragmented one")
                if fin:
                    out.append((opcode, payload))
                else:
                    self._parts, self._part_op, self._part_size = [payload], opcode, size
            elif opcode == OP_CONTINUATION:
                if self._parts is None:
                    raise FrameError(
                        CLOSE_PROTOCOL_ERROR, "a continuation of nothing"
                    )
                self._parts.append(payload)
                self._part_size += size
                if fin:
                    out.append((self._part_op, b"".join(self._parts)))
                    self._parts, self._part_size = None, 0
            else:
                raise FrameError(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode}")
        self._buf = buf[pos:] if pos < end else b""
        return out
