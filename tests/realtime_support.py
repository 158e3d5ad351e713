"""Test helpers for the realtime tests: uvicorn on a free port in a thread, and a synchronous
client speaking the frame protocol over a real socket (the ``websockets`` client)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import uvicorn
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from chinwag.web.server import uvicorn_config

Event = dict[str, Any]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


#: Both ways a realtime socket can be served; tests parametrized over it run on each.
TRANSPORTS = ("native", "asgi")


@contextmanager
def live_server(app: Any, transport: str = "native", **serve: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 as ``chinwag serve`` does; yield its ws:// base
    URL. ``transport="asgi"`` serves the realtime URL through uvicorn's own WebSocket
    implementation and the ASGI route instead of the native transport. ``serve``: more
    arguments for ``uvicorn_config`` (the native transport's)."""
    port = free_port()
    options: dict[str, Any] = {"log_level": "warning", "lifespan": "on", **serve}
    if transport == "native":
        config = uvicorn_config(app, "127.0.0.1", port, **options)
    else:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class Client:
    """One realtime session. Replies are matched by seq; pushes are ACKed and kept in order."""

    def __init__(self, ws: ClientConnection, auto_ack: bool = True) -> None:
        self.ws = ws
        self.seq = 0
        self.events: list[Event] = []
        self.seen = 0  # events before this index were already returned by wait_event
        self.frames: list[Any] = []
        self.auto_ack = auto_ack

    @classmethod
    def open(cls, base: str, app_id: str, user_id: str, **query: str) -> Client:
        url = f"{base}/v1/{app_id}/realtime/{quote(user_id, safe='')}"
        if query:
            url += "?" + "&".join(f"{k}={quote(v)}" for k, v in query.items())
        return cls(
            connect(
                url,
                open_timeout=10,
                close_timeout=2,
                max_size=2**24,
                legacy=True,
            )
        )

    def send_raw(self, data: str | bytes) -> None:
        self.ws.send(data)

    def _recv(self, timeout: float) -> Any:
        try:
            raw = self.ws.recv(timeout=timeout)
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            raise Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from None
        frame = json.loads(raw)
        self.frames.append(frame)
        if len(frame) >= 2 and frame[1] == "PUBLISH":
            self.events.extend(frame[2:])
            if self.auto_ack:
                self.ws.send(json.dumps([frame[0], "ACK"]))
            return None
        return frame

    def request(
        self, method: str, path: str, data: Any = None, timeout: float = 10
    ) -> tuple[int, Any]:
        seq = self.seq
        self.seq += 1
        frame: list[Any] = [seq, method, path] if data is None else [seq, method, path, data]
        self.ws.send(json.dumps(frame))
        return self.reply_to(seq, timeout)

    def reply_to(self, seq: int, timeout: float = 10) -> tuple[int, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = self._recv(max(0.01, deadline - time.monotonic()))
            if frame is not None and frame[0] == seq:
                return frame[1], frame[2]

    def ok(self, method: str, path: str, data: Any = None) -> Any:
        status, body = self.request(method, path, data)
        assert status == 200, (method, path, status, body)
        return body

    def wait_event(self, match: Callable[[Event], bool] | str, timeout: float = 10) -> Event:
        """The next not yet returned event that matches (a type name or a predicate)."""
        pred = (lambda e: e.get("type") == match) if isinstance(match, str) else match
        deadline = time.monotonic() + timeout
        while True:
            for i in range(self.seen, len(self.events)):
                if pred(self.events[i]):
                    self.seen = i + 1
                    return self.events[i]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching event; got {self.events[self.seen :]}")
            try:
                self._recv(remaining)
            except TimeoutError:
                continue

    def drain(self) -> list[Event]:
        """Every event that arrives before a ping's reply (pushes are queued before it)."""
        self.ok("GET", "ping")
        return self.events[self.seen :]

    def wait_closed(self, timeout: float = 10) -> Closed:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._recv(max(0.01, deadline - time.monotonic()))
            except Closed as closed:
                return closed

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stalled_session(base: str, app_id: str, user_id: str, first: str) -> socket.socket:
    """A session that sends one request frame and then never reads: a slow client.

    A plain socket with a small receive buffer, speaking just enough WebSocket to open and send
    one masked text frame (an all-zero mask leaves the payload as is)."""
    host, port = base.removeprefix("ws://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(
        (
            f"GET /v1/{app_id}/realtime/{quote(user_id, safe='')} HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    payload = first.encode()
    assert len(payload) < 126
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
    return sock


@dataclass
class Node:
    """A live server seen from one app: REST with its secret key, and realtime sessions."""

    ws: str
    http: httpx.Client
    app_id: str
    secret: str

    def rest(self, method: str, path: str, body: Any = None) -> Any:
        r = self.http.request(
            method,
            f"/v1/{self.app_id}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.secret}"},
        )
        assert r.status_code == 200, r.text
        return r.json()

    def client(self, user_id: str, **query: str) -> Client:
        return Client.open(self.ws, self.app_id, user_id, **query)
