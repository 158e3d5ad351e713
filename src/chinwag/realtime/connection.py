"""One client connection: how frames reach its socket, its send queue, and what it watches.

Sending: a frame is handed to the socket at once, in the caller's turn of the event loop (the
hub's fan-out pass, or the request handler), through the connection's :class:`Writer`: the native
transport writes it to the socket's buffer; the ASGI writer runs the ASGI send, which completes
without suspending while the transport accepts data. Either way a fan-out is one pass of plain
writes with no task per connection to wake. When the socket pushes back (its buffer is over the
high-water mark: the client reads slower than we write), later frames wait in the connection's
queue, in order, and leave batched (several events in one PUBLISH frame) once it drains.

Overflow policy, "resync": each connection holds at most ``queue_limit`` undelivered events. A
client that falls that far behind is never waited for: its queued events are dropped, it stops
watching every conversation, and it gets one ``resync`` event naming the last position it was
sent in each; it re-subscribes with those positions and catches up from the database. Replies are
never dropped (a client has at most one request in flight per seq and the rate limit bounds them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from chinwag.domain.access import GuestAccess
from chinwag.domain.ratelimit import TokenBucket
from chinwag.realtime import protocol
from chinwag.services.sessions import GuestPass, Session

log = logging.getLogger(__name__)

#: Events per PUBLISH frame when several are waiting.
MAX_BATCH = 64


class Writer(Protocol):
    """How a connection's frames reach its socket: the native transport
    (:mod:`realtime.transport`) or an ASGI WebSocket (:class:`AsgiWriter`).

    ``paused`` is true while the socket pushes back; the writer calls the connection's
    :meth:`Connection.drain` once it accepts data again."""

    paused: bool

    def send(self, frame: str) -> None: ...

    def publish(self, n: int, events: list[str]) -> None: ...

    def abort(self) -> None: ...


@dataclass(eq=False)
class Watch:
    """A connection watching one conversation."""

    conn: Connection
    app_id: str
    conversation_id: str
    kind: str = "pending"  # participant | former | guest (views from domain.access)
    live: bool = False
    position: int = 0  # the last position sent to this connection
    guest_access: GuestAccess | None = None
    guest: GuestPass | None = None  # what it asked with, for later guest checks
    # Events that arrived while the watch was being set up; replayed once it has its position.
    pending: list[tuple[object, str]] | None = field(default_factory=list)


class Connection:
    __slots__ = (
        "session",
        "user_id",
        "writer",
        "queue_limit",
        "bucket",
        "_on_overflow",
        "_queue",
        "_events_queued",
        "watches",
        "pub_seq",
        "acked",
        "closed",
        "overflows",
        "refused",
        "requests",
        "runner",
        "__weakref__",
    )

    def __init__(
        self,
        session: Session,
        writer: Writer,
        queue_limit: int,
        bucket: TokenBucket,
        on_overflow: Callable[[Connection], None],
    ) -> None:
        self.session = session
        self.user_id = session.user_id  # never changes; read on every delivery
        self.writer = writer
        self.queue_limit = queue_limit
        self.bucket = bucket
        self._on_overflow = on_overflow
        # Frames waiting while the socket pushes back: (is_event, text). Made when first needed.
        self._queue: deque[tuple[bool, str]] | None = None
        self._events_queued = 0
        self.watches: dict[str, Watch] = {}
        self.pub_seq = 0
        self.acked = -1
        self.closed = False
        self.overflows = 0
        self.refused = 0  # requests refused by the rate limit in a row
        #: Requests waiting for their turn (node.py runs them one at a time, in order).
        self.requests: deque[Any] | None = None
        self.runner: asyncio.Task[None] | None = None

    def guest_pass(self, conversation_id: str) -> GuestPass | None:
        """How this connection watches as a guest (None: not a guest of it)."""
        w = self.watches.get(conversation_id)
        return w.guest if w is not None and w.kind == "guest" else None

    def reply(self, text: str) -> None:
        if self.closed:
            return
        if self._queue is None and not self.writer.paused:
            self.writer.send(text)
        else:
            self._enqueue(False, text)

    #: While a hub pass delivers several events, each connection's events gather here and
    #: leave as one PUBLISH frame at the end of the pass (:meth:`corked`).
    _cork: ClassVar[dict[Connection, list[str]] | None] = None

    @classmethod
    @contextlib.contextmanager
    def corked(cls) -> Iterator[None]:
        """Gather the pushes made inside the block; send them per connection at its end."""
        if cls._cork is not None:  # already gathering
            yield
            return
        cork = cls._cork = {}
        try:
            yield
        finally:
            cls._cork = None
            for conn, texts in cork.items():
                conn._push_many(texts)

    def push(self, event_text: str, force: bool = False) -> None:
        """Send an event; if the socket is pushing back, queue it, and on overflow apply the
        resync policy instead of waiting."""
        if self.closed:
            return
        cork = Connection._cork
        if cork is not None:
            gathered = cork.pop(self, None) if force else cork.get(self)
            if gathered is None and not force:
                cork[self] = [event_text]
                return
            if not force:
                assert gathered is not None
                gathered.append(event_text)
                return
            if gathered:  # a forced event (resync, ended) goes after what came before it
                self._push_many(gathered)
        if self._queue is None and not self.writer.paused:
            n = self.pub_seq
            self.pub_seq = n + 1
            self.writer.publish(n, [event_text])
            return
        if self._events_queued >= self.queue_limit and not force:
            self.overflows += 1
            if self._queue is not None:
                self._queue = deque(item for item in self._queue if not item[0]) or None
            self._events_queued = 0
            self._on_overflow(self)
            return
        self._enqueue(True, event_text)
        self._events_queued += 1

    def _push_many(self, texts: list[str]) -> None:
        if self.closed:
            return
        if self._queue is None and not self.writer.paused:
            for i in range(0, len(texts), MAX_BATCH):
                n = self.pub_seq
                self.pub_seq = n + 1
                self.writer.publish(n, texts[i : i + MAX_BATCH])
                if self.writer.paused and i + MAX_BATCH < len(texts):
                    for text in texts[i + MAX_BATCH :]:
                        self.push(text)
                    return
            return
        for text in texts:
            self.push(text)

    def _enqueue(self, is_event: bool, text: str) -> None:
        if self._queue is None:
            self._queue = deque()
        self._queue.append((is_event, text))

    def drain(self) -> None:
        """The socket accepts data again: send what queued up, in order, several events to a
        PUBLISH frame, until it pushes back again."""
        queue = self._queue
        while queue and not self.closed and not self.writer.paused:
            is_event, text = queue.popleft()
            if not is_event:
                self.writer.send(text)
                continue
            events = [text]
            while queue and queue[0][0] and len(events) < MAX_BATCH:
                events.append(queue.popleft()[1])
            self._events_queued -= len(events)
            n = self.pub_seq
            self.pub_seq = n + 1
            self.writer.publish(n, events)
        if not queue:
            self._queue = None

    def broken(self, exc: BaseException) -> None:
        """The socket is gone (its reader sees the disconnect and unregisters us)."""
        log.debug("realtime: send failed (%s); dropping the connection's frames", exc)
        self.closed = True
        self._queue = None

    def ack(self, n: int) -> None:
        if n > self.acked:
            self.acked = n

    def stop(self) -> None:
        self.closed = True
        self._queue = None
        self.requests = None
        if self.runner is not None:
            self.runner.cancel()
            self.runner = None
        self.writer.abort()


class AsgiWriter:
    """A :class:`Writer` over an ASGI WebSocket's ``send_text`` (any ASGI server).

    The ASGI send runs in the caller's turn of the event loop: it completes without suspending
    while the transport accepts data, so a fan-out is one pass of plain writes with no task per
    connection to wake. When it would wait (the transport is over its high-water mark), a task
    finishes that one send and the connection queues later frames until it is done."""

    __slots__ = ("paused", "_send_text", "_task", "conn")

    def __init__(self, send_text: Callable[[str], Coroutine[Any, Any, None]]) -> None:
        self.paused = False
        self._send_text = send_text
        self._task: asyncio.Task[None] | None = None
        self.conn: Connection | None = None

    def publish(self, n: int, events: list[str]) -> None:
        self.send(protocol.publish(n, events))

    def send(self, frame: str) -> None:
        coro = self._send_text(frame)
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception as exc:
            if self.conn is not None:
                self.conn.broken(exc)
            return
        self.paused = True
        self._task = asyncio.ensure_future(self._finish(coro, waiting))

    async def _finish(self, coro: Coroutine[Any, Any, None], waiting: Any) -> None:
        """Drive a send that had to wait, as its own task would have."""
        try:
            while True:
                try:
                    if waiting is None:  # a bare yield (sleep(0))
                        await asyncio.sleep(0)
                    else:  # the future it waits on; take it over as its task would
                        waiting._asyncio_future_blocking = False
                        await waiting
                except BaseException:
                    coro.close()
                    raise
                try:
                    waiting = coro.send(None)
                except StopIteration:
                    break
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self.conn is not None:
                self.conn.broken(exc)
            return
        finally:
            self.paused = False
            self._task = None
        if self.conn is not None:
            self.conn.drain()

    def abort(self) -> None:
        if self._task is not None:
            self._task.cancel()
