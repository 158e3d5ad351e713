"""One client connection: its send queue, its writer, and what it watches.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from chinwag.domain.access import GuestAccess
from chinwag.realtime import protocol
from chinwag.realtime.ratelimit import TokenBucket
from chinwag.services.sessions import GuestPass, Session

log = logging.getLogger(__name__)

SendText = Callable[[str], Awaitable[None]]
#: Events per PUBLISH frame when the writer finds several waiting.
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
        self._wakeup = asyncio.Event()
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
        self._queue.append((False, text))
        self._wakeup.set()

    def push(self, event_text: str, force: bool = False) -> None:
        """Queue an event; on overflow apply the resync policy instead of waiting."""
        if self.closed:
            return
        if self._events_queued >= self.queue_limit and not force:
            self.overflows += 1
            self._queue = deque(item for item in self._queue if not item[0])
            self._events_queued = 0
            self._on_overflow(self)
            return
        self._queue.append((True, event_text))
        self._events_queued += 1
        self._wakeup.set()

    async def run_writer(self) -> None:
        """Move queued frames to the socket, batching waiting events into one PUBLISH."""
        while not self.closed:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                is_event, text = self._queue.popleft()
                if not is_event:
                    await self._send_text(text)
                    continue
                events = [text]
                while self._queue and self._queue[0][0] and len(events) < MAX_BATCH:
                    events.append(self._queue.popleft()[1])
                self._events_queued -= len(events)
                n = self.pub_seq
                self.pub_seq += 1
                await self._send_text(protocol.publish(n, events))

    def ack(self, n: int) -> None:
        if n > self.acked:
            self.acked = n

    def stop(self) -> None:
        self.closed = True
        self._queue.clear()
        self._wakeup.set()
