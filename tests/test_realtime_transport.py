"""The native WebSocket transport (realtime/transport.py) over a raw socket, under uvicorn as
``chinwag serve`` runs it: handshake, pings, fragments, early frames, closing, keepalive, and
handing other WebSocket URLs to the ASGI app."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
from collections.abc import Iterator

import pytest

from chinwag.realtime import frames
from chinwag.realtime.node import Limits, RealtimeNode
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.realtime_support import live_server
from tests.test_realtime_frames import client_frame


class Raw:
    """A client speaking RFC 6455 by hand, to send what a library would not."""

    def __init__(self, base: str, path: str, extra: bytes = b"", version: str = "13") -> None:
        host, port = base.removeprefix("ws://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: {version}\r\n\r\n"
            ).encode()
            + extra
        )
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1]) if head else 0
        self.head = head

    def send(self, opcode: int, payload: bytes, **kw: bool) -> None:
        self.sock.sendall(client_frame(opcode, payload, **kw))

    def text(self, value: object) -> None:
        self.send(frames.OP_TEXT, json.dumps(value).encode())

    def _need(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the server closed the socket")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self) -> tuple[int, bytes]:
        b0, b1 = self._need(2)
        assert not b1 & 0x80, "server frames are never masked"
        size = b1 & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._need(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._need(8))
        return b0 & 0x0F, self._need(size)

    def reply(self) -> list[object]:
        while True:
            opcode, payload = self.frame()
            if opcode == frames.OP_TEXT:
                value = json.loads(payload)
                assert isinstance(value, list)
                if value[1] != "PUBLISH":
                    return value

    def close_code(self) -> int:
        while True:
            opcode, payload = self.frame()
            if opcode == frames.OP_CLOSE:
                return frames.read_close(payload)[0]

    def eof(self, timeout: float = 5) -> bool:
        """Whether the server closes the socket within ``timeout`` (what it sends is skipped)."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def served(ctx: Context, app_keys: apps.AppWithKeys) -> Iterator[tuple[str, str, RealtimeNode]]:
    app = create_app(ctx)
    node: RealtimeNode = app.app.state.realtime
    node.limits = Limits(ping_interval=0.3)
    with live_server(app) as base:
        yield base, app_keys.app.id, node


def test_frames_sent_before_the_session_is_authenticated_are_answered_in_order(
    served: tuple[str, str, RealtimeNode],
) -> None:
    base, app_id, node = served
    raw = Raw(base, f"/v1/{app_id}/realtime/alice")
    assert raw.status == 101
    # Sent at once after the 101, while the session is still being looked up in the database.
    raw.sock.sendall(
        b"".join(
            client_frame(frames.OP_TEXT, json.dumps([i, "GET", "ping"]).encode())
            for i in range(3)
        )
    )
    assert [raw.reply() for _ in range(3)] == [[0, 200, {}], [1, 200, {}], [2, 200, {}]]
    raw.close()


def test_ping_fragments_and_a_clean_close(served: tuple[str, str, RealtimeNode]) -> None:
    base, app_id, node = served
    raw = Raw(base, f"/v1/{app_id}/realtime/alice")
    raw.send(frames.OP_PING, b"are you there")
    assert raw.frame() == (frames.OP_PONG, b"are you there")
    raw.send(frames.OP_TEXT, b'[7,"GE', fin=False)
    raw.send(frames.OP_PING, b"")
    raw.send(frames.OP_CONTINUATION, b'T","ping"]')
    assert raw.frame() == (frames.OP_PONG, b"")
    assert raw.reply() == [7, 200, {}]
    assert node.hub.connections_of(app_id, "alice")
    raw.send(frames.OP_CLOSE, struct.pack("!H", 1000) + b"bye")
    assert raw.close_code() == 1000
    assert raw.eof()
    deadline = time.monotonic() + 5
    while node.hub.connections_of(app_id, "alice"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    raw.close()


@pytest.mark.parametrize(
    ("send", "code"),
    [
        (client_frame(frames.OP_TEXT, b'[0,"GET","ping"]', mask=False), 1002),
        (client_frame(frames.OP_TEXT, b"\xff\xfe"), 1007),
        (client_frame(frames.OP_TEXT, b"not json"), 1007),
        (client_frame(frames.OP_TEXT, b"[" * 200_000), 1009),
    ],
)
def test_broken_frames_close_with_their_code(
    served: tuple[str, str, RealtimeNode], send: bytes, code: int
) -> None:
    base, app_id, _ = served
    raw = Raw(base, f"/v1/{app_id}/realtime/alice")
    assert raw.status == 101
    raw.sock.sendall(send)
    assert raw.close_code() == code
    raw.close()


def test_a_bad_upgrade_gets_an_http_error(served: tuple[str, str, RealtimeNode]) -> None:
    base, app_id, _ = served
    raw = Raw(base, f"/v1/{app_id}/realtime/alice", version="8")
    assert raw.status == 426
    assert b"Sec-WebSocket-Version: 13" in raw.head
    raw.close()


def test_other_websocket_urls_go_to_the_asgi_app(served: tuple[str, str, RealtimeNode]) -> None:
    base, _, _ = served
    raw = Raw(base, "/v1/nothing/here")
    assert raw.status == 403  # no such WebSocket route in the app
    raw.close()


def test_keepalive_drops_a_silent_socket_and_keeps_a_live_one(
    served: tuple[str, str, RealtimeNode],
) -> None:
    base, app_id, node = served
    silent = Raw(base, f"/v1/{app_id}/realtime/silent")
    live = Raw(base, f"/v1/{app_id}/realtime/live")
    # The live one answers every ping; the silent one reads them and says nothing.
    deadline = time.monotonic() + 1.5
    pings = 0
    while time.monotonic() < deadline:
        live.sock.settimeout(0.1)
        try:
            opcode, payload = live.frame()
        except TimeoutError:
            continue
        if opcode == frames.OP_PING:
            pings += 1
            live.send(frames.OP_PONG, payload)
    assert pings >= 2
    assert silent.eof(timeout=5)
    assert not node.hub.connections_of(app_id, "silent")
    live.text([1, "GET", "ping"])
    live.sock.settimeout(5)
    assert live.reply() == [1, 200, {}]
    silent.close()
    live.close()
