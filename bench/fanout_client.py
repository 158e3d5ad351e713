"""The fan-out load generator: many lean WebSocket clients on one asyncio loop.

Each client is a bare ``asyncio.Protocol`` that does the opening handshake and reads frames by
hand (no extensions, server frames unmasked), so receiving a frame costs a few microseconds and
the generator stays far from the bottleneck; the benchmark reports its CPU use to prove it.

A delivered message carries ``t:<send time>|<index>|`` in its text: a client finds that marker
with ``bytes.find`` (no JSON parsing), records publish-to-receive latency and counts the index.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time
from collections.abc import Callable

MARKER = b"t:"


def _frame(text: str | bytes, opcode: int = 0x1) -> bytes:
    """A client frame: masked as the RFC requires (an all-zero key leaves the payload as is)."""
    payload = text.encode() if isinstance(text, str) else text
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return header + b"\x00\x00\x00\x00" + payload


class Stats:
    """What every client of one run shares."""

    def __init__(self, messages: int) -> None:
        self.counts = bytearray(messages) if messages < 256 else None
        self.per_message = [0] * messages
        self.latencies: list[float] = []
        self.frames = 0
        self.duplicates = 0
        self.last_receive = 0.0
        self.measuring = False

    def seen(self, payload: bytes) -> None:
        """Count each message's marker once per frame (Chinwag's events carry the text twice:
        as ``text`` and inside its ``content`` blocks)."""
        self.frames += 1
        at = 0
        counted: set[int] = set()
        while True:
            i = payload.find(MARKER, at)
            if i < 0:
                return
            j = payload.find(b"|", i)
            k = payload.find(b"|", j + 1)
            sent = float(payload[i + 2 : j])
            index = int(payload[j + 1 : k])
            at = k + 1
            if index in counted:
                continue
            counted.add(index)
            now = time.time()
            self.last_receive = now
            if 0 <= index < len(self.per_message):
                self.per_message[index] += 1
            self.latencies.append((now - sent) * 1000)


class Client(asyncio.Protocol):
    def __init__(
        self,
        host: str,
        path: str,
        on_text: Callable[[Client, bytes], None],
        opened: asyncio.Future[Client],
    ) -> None:
        self.host, self.path = host, path
        self.on_text = on_text
        self.opened = opened
        self.transport: asyncio.Transport | None = None  # uvloop's is not a subclass
        self.buf = b""
        self.upgraded = False
        self.closed: asyncio.Future[int] = opened.get_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert hasattr(transport, "write")  # uvloop's transport is not an asyncio.Transport
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def send(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(_frame(text))

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(RuntimeError(buf[:200].decode(errors="replace")))
                return
            self.upgraded = True
            buf = buf[end + 4 :]
            self.opened.set_result(self)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n = b1 & 0x7F
            head = 2
            if n == 126:
                if size - pos < 4:
                    break
                n = struct.unpack_from("!H", buf, pos + 2)[0]
                head = 4
            elif n == 127:
                if size - pos < 10:
                    break
                n = struct.unpack_from("!Q", buf, pos + 2)[0]
                head = 10
            if size - pos < head + n:
                break
            payload = buf[pos + head : pos + head + n]
            pos += head + n
            opcode = b0 & 0x0F
            if opcode == 0x1:
                self.on_text(self, payload)
            elif opcode == 0x9 and self.transport is not None:  # ping: pong back
                self.transport.write(_frame(payload, opcode=0xA))
            elif opcode == 0x8:
                code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
                if not self.closed.done():
                    self.closed.set_result(code)
        self.buf = buf[pos:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before the handshake"))
        if not self.closed.done():
            self.closed.set_result(1006)


async def open_client(
    host: str, port: int, path: str, on_text: Callable[[Client, bytes], None]
) -> Client:
    loop = asyncio.get_running_loop()
    opened: asyncio.Future[Client] = loop.create_future()
    await loop.create_connection(
        lambda: Client(f"{host}:{port}", path, on_text, opened), host, port
    )
    return await opened
