"""One client connection: how frames reach its socket, its send queue, and what it watches.

Sending: a frame is handed to the socket at once, in the caller's turn of the event loop (the
hub's fan-out loop, or the request handler): the ASGI send completes without suspending while the
socket's transport accepts data, so a fan-out is one pass of plain writes, with no task per
connection to wake. When the transport pushes back (its buffer is over the high-water mark: the
client reads slower than we write), that one send finishes in a task and later frames wait in the
connection's queue, in order, and leave batched (several events in one PUBLISH frame).

Overflow policy, "resync": each connection holds at most ``queue_limit`` undelivered events. A
client that falls that far behind is never waited for: its queued events are dropped, it stops
watching every conversation, and it gets one ``resync`` event naming the last position it was
sent in each; it re-subscribes with those positions and catches up from the database. Replies are
never dropped (a client has at most one request in flight per seq and the rate limit bounds them).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from chinwag.domain.access import GuestAccess
from chinwag.domain.ratelimit import TokenBucket
from chinwag.realtime import protocol
from chinwag.services.sessions import GuestPass, Session

log = logging.getLogger(__name__)

SendText = Callable[[str], Coroutine[Any, Any, None]]
#: Events per PUBLISH frame when several are waiting.
MAX_BATCH = 64


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
    def __init__(
        self,
        session: Session,
        send_text: SendText,
        queue_limit: int,
        bucket: TokenBucket,
        on_overflow: Callable[[Connection], None],
    ) -> None:
        self.session = session
        self._send_text = send_text
        self.queue_limit = queue_limit
        self.bucket = bucket
        self._on_overflow = on_overflow
        self._queue: deque[tuple[bool, str]] = deque()
        self._events_queued = 0
        self._flushing: asyncio.Task[None] | None = None  # set while the socket pushes back
        self.watches: dict[str, Watch] = {}
        self.pub_seq = 0
        self.acked = -1
        self.closed = False
        self.overflows = 0

    @property
    def user_id(self) -> str:
        return self.session.user_id

    def guest_pass(self, conversation_id: str) -> GuestPass | None:
        """How this connection watches as a guest (None: not a guest of it)."""
        w = self.watches.get(conversation_id)
        return w.guest if w is not None and w.kind == "guest" else None

    def reply(self, text: str) -> None:
        if self.closed:
            return
        if self._flushing is None:
            self._send_now(text)
        else:
            self._queue.append((False, text))

    def push(self, event_text: str, force: bool = False) -> None:
        """Send an event; if the socket is pushing back, queue it, and on overflow apply the
        resync policy instead of waiting."""
        if self.closed:
            return
        if self._flushing is None:
            self._send_now(self._publish([event_text]))
            return
        if self._events_queued >= self.queue_limit and not force:
            self.overflows += 1
            self._queue = deque(item for item in self._queue if not item[0])
            self._events_queued = 0
            self._on_overflow(self)
            return
        self._queue.append((True, event_text))
        self._events_queued += 1

    def _publish(self, events: list[str]) -> str:
        n = self.pub_seq
        self.pub_seq += 1
        return protocol.publish(n, events)

    def _send_now(self, frame: str) -> None:
        """Run the ASGI send in this turn; if it has to wait, let a task finish it."""
        coro = self._send_text(frame)
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
        except Exception as exc:
            self._broken(exc)
            return
        self._flushing = asyncio.ensure_future(self._flush(coro, waiting))

    async def _flush(self, coro: Coroutine[Any, Any, None], waiting: Any) -> None:
        """Finish a send that had to wait, then send what queued up meanwhile, in order."""
        try:
            while True:  # drive the suspended send as its task would have
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
            while self._queue and not self.closed:
                is_event, text = self._queue.popleft()
                if not is_event:
                    await self._send_text(text)
                    continue
                events = [text]
                while self._queue and self._queue[0][0] and len(events) < MAX_BATCH:
                    events.append(self._queue.popleft()[1])
                self._events_queued -= len(events)
                await self._send_text(self._publish(events))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._broken(exc)
        finally:
            self._flushing = None

    def _broken(self, exc: Exception) -> None:
        """The socket is gone (the reader sees the disconnect and unregisters us)."""
        log.debug("realtime: send failed (%s); dropping the connection's frames", exc)
        self.closed = True
        self._queue.clear()

    def ack(self, n: int) -> None:
        if n > self.acked:
            self.acked = n

    def stop(self) -> None:
        self.closed = True
        self._queue.clear()
        if self._flushing is not None:
            self._flushing.cancel()
