"""The realtime socket without ASGI: a WebSocket server protocol on the asyncio transport.

uvicorn parses HTTP and, on an upgrade request, hands the socket to its WebSocket protocol class;
``chinwag serve`` gives it :class:`RealtimeProtocol` (web/server.py). For the realtime URL,
``/v1/{appId}/realtime/{userId}``, this speaks RFC 6455 itself (:mod:`realtime.frames`) and calls
the node directly: a frame from the client is one ``data_received`` call and one
:meth:`RealtimeNode.on_text`; a push is one ``transport.write``. An idle socket is this object,
its :class:`Connection` and the transport: no task, no coroutine, no ASGI scope. Any other
WebSocket URL is handed to uvicorn's own implementation and so to the ASGI app.

Keepalive: the node pings every native socket once per ``Limits.ping_interval`` from one timer
(:meth:`RealtimeNode.keepalive`); a socket that sent nothing at all for a whole interval after a
ping is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from chinwag.errors import ChinwagError
from chinwag.realtime import frames, protocol
from chinwag.realtime.connection import Connection
from chinwag.realtime.node import RealtimeNode
from chinwag.realtime.session_log import SessionLog

log = logging.getLogger(__name__)

HANDSHAKE, OPEN, CLOSING, CLOSED, HANDED_OVER = 0, 1, 2, 3, 4
#: Frames a client may send before its session is authenticated; they are answered after.
MAX_EARLY_FRAMES = 64
#: How long to wait for the client's close frame after ours before dropping the socket.
CLOSE_TIMEOUT = 2.0
#: Sessions being authenticated (a task is only weakly held by the loop).
_OPENING: set[asyncio.Future[None]] = set()


def find_node(app: Any) -> RealtimeNode | None:
    """The realtime node of an ASGI app made by ``create_app``, through its wrappers."""
    for _ in range(16):
        if app is None:
            return None
        node = getattr(getattr(app, "state", None), "realtime", None)
        if isinstance(node, RealtimeNode):
            return node
        app = getattr(app, "app", None)
    return None


def _uvicorn_websockets() -> Any:
    from uvicorn.config import WS_PROTOCOLS
    from uvicorn.importer import import_from_string

    return import_from_string(WS_PROTOCOLS["auto"])


class RealtimeProtocol(asyncio.Protocol):
    """One socket, from the upgrade request to the close. Also the connection's
    :class:`~realtime.connection.Writer`."""

    __slots__ = (
        "config",
        "server_state",
        "app_state",
        "transport",
        "node",
        "conn",
        "state",
        "paused",
        "alive",
        "_head",
        "_reader",
        "_early",
        "_timer",
        "_other",
        "_log",
        "__weakref__",
    )

    def __init__(self, config: Any, server_state: Any, app_state: Any = None) -> None:
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # until made
        self.node: RealtimeNode | None = None
        self.conn: Connection | None = None
        self.state = HANDSHAKE
        self.paused = False
        self.alive = True
        self._head = b""
        self._reader: frames.FrameReader | None = None
        self._early: list[str | bytes] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._other: asyncio.Protocol | None = None  # uvicorn's, for other URLs
        self._log: SessionLog | None = None  # from the accepted upgrade on

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.server_state.connections.add(self)

    def data_received(self, data: bytes) -> None:
        if self.state == OPEN:
            self.alive = True
            assert self._reader is not None
            try:
                messages = self._reader.feed(data)
            except frames.FrameError as exc:
                self._reader = None  # its state is undefined: read nothing more
                self.close(exc.code, exc.reason)
                return
            for opcode, payload in messages:
                self._message(opcode, payload)
                if self.state != OPEN:
                    return
        elif self.state == HANDSHAKE:
            self._handshake(self._head + data)
        elif self.state == CLOSING:
            self._closing(data)
        elif self._other is not None:
            self._other.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._other is not None:
            self._other.connection_lost(exc)
            return
        self.state = CLOSED
        self.server_state.connections.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._detach()
        if self._log is not None:
            self._log.closed()

    def pause_writing(self) -> None:
        self.paused = True
        if self._other is not None:
            self._other.pause_writing()

    def resume_writing(self) -> None:
        self.paused = False
        if self._other is not None:
            self._other.resume_writing()
        elif self.conn is not None:
            self.conn.drain()

    def shutdown(self) -> None:
        """uvicorn is stopping: tell the client to come back later."""
        if self.state == OPEN:
            self.close(protocol.CLOSE_GOING_AWAY, "the server is shutting down")
        elif self.state == HANDSHAKE:
            self.transport.close()

    # -- the opening handshake -------------------------------------------------------------

    def _handshake(self, head: bytes) -> None:
        try:
            request = frames.read_request(head)
            if request is None:
                self._head = head
                return
            method, target, headers = request
            parts = target.split("?", 1)[0].split("/")
            node = find_node(self.config.loaded_app)
            if node is None or len(parts) != 5 or parts[1] != "v1" or parts[3] != "realtime":
                self._hand_over(head)
                return
            upgrade = frames.check_upgrade(method, target, headers)
        except frames.HandshakeError as exc:
            self.transport.write(frames.http_error(exc))
            self.transport.close()
            self.state = CLOSED
            return
        self._head = b""
        _, app_id, _, user_id = upgrade.segments
        self.node = node
        peer = self.transport.get_extra_info("peername")
        client = node.proxies.client(peer[0] if peer else None, headers.get("x-forwarded-for"))
        self._log = SessionLog(app_id, user_id, client, "native")
        self.transport.write(frames.switching_protocols(upgrade.key))
        self.state = OPEN
        self._reader = frames.FrameReader(node.limits.max_frame_bytes)
        self._early = []
        node.sockets.add(self)
        task = asyncio.ensure_future(
            self._open(app_id, user_id, upgrade.query.get("signature"), upgrade.query.get("token"))
        )
        _OPENING.add(task)
        task.add_done_callback(_OPENING.discard)
        rest = head[head.index(b"\r\n\r\n") + 4 :]
        if rest:  # frames sent right behind the request
            self.data_received(rest)

    def _hand_over(self, head: bytes) -> None:
        """Not the realtime URL: let uvicorn's WebSocket implementation and the app serve it.
        (uvicorn makes this object the transport's protocol after this call, so it stays in
        place and passes everything on.)"""
        other = _uvicorn_websockets()(
            config=self.config, server_state=self.server_state, app_state=self.app_state
        )
        self.server_state.connections.discard(self)
        self.state = HANDED_OVER
        self._other = other
        other.connection_made(self.transport)
        other.data_received(head)

    async def _open(
        self, app_id: str, user_id: str, signature: str | None, token: str | None
    ) -> None:
        node = self.node
        assert node is not None
        assert self._log is not None
        try:
            session = await node.admit(app_id, user_id, signature, token)
        except ChinwagError as exc:
            code, reason = protocol.close_reason(exc)
            self._log.refused(code, exc.code, exc.reasons)
            self.close(code, reason)
            return
        except Exception:
            log.exception("realtime: authenticating %s/%s failed", app_id, user_id[:100])
            self.close(protocol.CLOSE_INTERNAL, "INTERNAL_ERROR")
            return
        if self.state != OPEN:
            return
        self._log.authenticated(session, signature, token)
        conn = await node.connect(session, self)
        if self.state != OPEN:
            node.disconnect(conn)
            return
        self.conn = conn
        early, self._early = self._early or [], None
        for text in early:
            self._text(text)
            if self.state != OPEN:
                return

    # -- frames from the client ------------------------------------------------------------

    def _message(self, opcode: int, payload: bytes) -> None:
        if opcode == frames.OP_TEXT:
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                self.close(frames.CLOSE_INVALID_DATA, "a text frame must be UTF-8")
                return
            self._text(text)
        elif opcode == frames.OP_BINARY:
            self._text(payload)
        elif opcode == frames.OP_PING:
            self._write(frames.frame(frames.OP_PONG, payload))
        elif opcode == frames.OP_CLOSE:
            try:
                code, _ = frames.read_close(payload)
            except frames.FrameError as exc:
                self.close(exc.code, exc.reason)
                return
            self._detach()
            self.state = CLOSING
            if self._log is not None:
                self._log.closing(code, "", "client")
            self.transport.write(frames.close(1000 if code == frames.CLOSE_NO_STATUS else code))
            self.transport.close()

    def _text(self, text: str | bytes) -> None:
        conn = self.conn
        if conn is None:  # still authenticating: keep it for then
            if self._early is None:
                return
            if len(self._early) >= MAX_EARLY_FRAMES:
                self.close(4429, "RATE_LIMITED: too many frames before the session opened")
                return
            self._early.append(text)
            return
        assert self.node is not None
        close = self.node.on_text(conn, text)
        if close is not None:
            self.close(*close)

    def _closing(self, data: bytes) -> None:
        """After our close frame, wait for the client's, then drop the socket."""
        if self._reader is None:  # it broke the framing: wait out the timeout
            return
        try:
            messages = self._reader.feed(data)
        except frames.FrameError:
            self._reader = None
            return
        if any(opcode == frames.OP_CLOSE for opcode, _ in messages):
            self.transport.close()

    # -- frames to the client (the Writer) -------------------------------------------------

    def _write(self, data: bytes) -> None:
        if self.state == OPEN:
            self.transport.write(data)

    def send(self, frame: str) -> None:
        if self.state == OPEN:
            data = frame.encode()
            self.transport.write(frames.header(frames.OP_TEXT, len(data)) + data)

    def publish(self, n: int, events: list[str]) -> None:
        if self.state == OPEN:
            data = protocol.publish(n, events).encode()
            self.transport.write(frames.header(frames.OP_TEXT, len(data)) + data)

    def abort(self) -> None:
        """The hub let go of the connection; the socket closes on its own path."""

    def close(self, code: int, reason: str = "") -> None:
        """Start the closing handshake: our close frame, then the client's, or a timeout."""
        if self.state != OPEN:
            return
        if self._log is not None:
            self._log.closing(code, reason, "server")
        self._detach()
        self.transport.write(frames.close(code, reason))
        self.state = CLOSING
        self._timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self.transport.abort)

    def keepalive(self) -> None:
        """Called once per ping interval by the node: drop a socket silent since the last
        ping, ping the others."""
        if self.state != OPEN:
            return
        if not self.alive:
            log.info("realtime: dropping a socket that did not answer a ping")
            if self._log is not None:
                self._log.closing(1006, "no answer to a ping", "server")
            self.transport.abort()
            return
        self.alive = False
        self._write(frames.frame(frames.OP_PING, b""))

    def _detach(self) -> None:
        """Stop being a realtime session: the hub forgets the connection."""
        self._early = None
        if self.node is not None:
            self.node.sockets.discard(self)
            conn, self.conn = self.conn, None
            if conn is not None:
                self.node.disconnect(conn)
