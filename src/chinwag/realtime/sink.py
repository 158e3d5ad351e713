"""From services to the bus: an :class:`EventSink` that runs in whatever thread committed.

Services publish after commit from worker threads. :class:`BusSink` serializes each event there
(once per node, off the event loop), then hands the frames to the loop with
``call_soon_threadsafe``; one task on the loop publishes them on the bus in the order received.
"""

from __future__ import annotations

import asyncio
import logging

from chinwag.realtime import wire
from chinwag.realtime.bus import Bus
from chinwag.services.events import Event, EventSink

log = logging.getLogger(__name__)


class BusSink:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[list[tuple[str, str]]] | None = None

    def publish(self, events: list[Event]) -> None:
        loop, queue = self._loop, self._queue
        if loop is None or queue is None:
            return
        items = [pair for event in events for pair in wire.envelopes(event)]
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
        """Publish handed-over events in order until cancelled."""
        queue = self._queue
        assert queue is not None, "attach() first"
        try:
            while True:
                items = await queue.get()
                for channel, payload in items:
                    try:
                        await bus.publish(channel, payload)
                    except Exception:
                        # The database has it: watchers catch up at the next position.
                        log.exception("realtime: publishing on %s failed", channel)
        finally:
            self._loop = None
            self._queue = None


class TeeSink:
    """Several sinks in a row (the one already on the context, then the bus)."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = sinks

    def publish(self, events: list[Event]) -> None:
        for sink in self.sinks:
            sink.publish(events)
