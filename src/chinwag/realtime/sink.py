"""From services to the bus: an :class:`EventSink` that runs in whatever thread committed.

Services publish after commit from worker threads. :class:`BusSink` serializes each event there
(once per node, off the event loop), then hands the frames to the loop with
``call_soon_threadsafe``; one task on the loop publishes them on the bus in the order received.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

from chinwag.realtime import wire
from chinwag.realtime.bus import Bus
from chinwag.services.events import Event, EventSink

log = logging.getLogger(__name__)

#: Seconds between retries of a publish that failed (doubling up to the maximum).
RETRY_MIN = 0.2
RETRY_MAX = 5.0
#: Events that may wait for the broker to come back.
MAX_PENDING = 10_000


class BusSink:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[list[tuple[str, str]]] | None = None

    def publish(self, events: list[Event]) -> None:
        loop, queue = self._loop, self._queue
        if loop is None or queue is None:
            return
        now = time.time()
        items = [pair for event in events for pair in wire.envelopes(event, now)]
        if not items:
            return
        try:
            loop.call_soon_threadsafe(queue.put_nowait, items)
        except RuntimeError:  # the loop is closed: the node is shutting down
            log.warning("realtime: dropped %d events published during shutdown", len(items))

    def attach(self) -> None:
        """Start accepting events (call on the loop, before the first service call)."""
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()

    async def run(self, bus: Bus) -> None:
        """Publish handed-over events in order until cancelled.

        A publish that fails (the broker is unreachable) is retried, with the events behind it
        waiting in order, every ``RETRY_MIN``-``RETRY_MAX`` seconds, so a quiet conversation's
        last event still goes out once the broker is back (its watchers would otherwise wait
        for the next event or a reconnect to catch up). At most ``MAX_PENDING`` events wait;
        beyond that the oldest are dropped, and their watchers catch up from the database at
        the next event of their conversation.
        """
        queue = self._queue
        assert queue is not None, "attach() first"
        pending: deque[tuple[str, str]] = deque()
        delay = RETRY_MIN
        try:
            while True:
                if pending:
                    with contextlib.suppress(TimeoutError):
                        self._extend(pending, await asyncio.wait_for(queue.get(), delay))
                else:
                    self._extend(pending, await queue.get())
                while pending:
                    channel, payload = pending[0]
                    try:
                        await bus.publish(channel, payload)
                    except Exception as exc:
                        if delay == RETRY_MIN:
                            log.warning(
                                "realtime: publishing on %s failed (%s); retrying, %d waiting",
                                channel,
                                exc,
                                len(pending),
                            )
                        delay = min(delay * 2, RETRY_MAX)
                        break
                    pending.popleft()
                    if delay != RETRY_MIN:
                        log.info("realtime: publishing works again")
                        delay = RETRY_MIN
        finally:
            self._loop = None
            self._queue = None

    @staticmethod
    def _extend(pending: deque[tuple[str, str]], items: list[tuple[str, str]]) -> None:
        pending.extend(items)
        if len(pending) > MAX_PENDING:
            dropped = len(pending) - MAX_PENDING
            for _ in range(dropped):
                pending.popleft()
            log.warning("realtime: dropped %d unpublished events (the database has them)", dropped)


class TeeSink:
    """Several sinks in a row (the one already on the context, then the bus)."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = sinks

    def publish(self, events: list[Event]) -> None:
        for sink in self.sinks:
            sink.publish(events)
