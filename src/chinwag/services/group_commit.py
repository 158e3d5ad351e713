"""Group commit: concurrent writes share one transaction and one commit, each failing alone.

Writes that arrive from many threads at once (sends from the thread pool of the web server) are
queued. The first caller to find a free lane leads: it takes everything queued (up to
``max_batch``), opens one transaction, runs each write in its own savepoint (its in-transaction
hooks too, so its outbox rows and audit entries stand or fall with it), commits once, publishes
each committed write's events in order, and wakes every caller with its own result or its own
error. While a batch commits the next one gathers, so nothing ever waits on a timer, and a lone
write is a batch of one.

Rules kept:

- a caller gets its result only after the commit that stores it (durability of acknowledged
  writes is the database's, unchanged);
- a write that raises rolls back to its savepoint: none of its rows, outbox rows or events
  remain, and the others in the batch are not affected;
- a write that fails with anything but a :class:`~chinwag.errors.ChinwagError` (a database
  error, perhaps caused by sharing: a deadlock between lanes) is run again alone, in its own
  transaction, and that outcome is final; if the shared commit itself fails, every write of the
  batch is run again alone;
- writes are run in the order of their ``key`` (stable), so that lanes lock rows (say,
  conversations) in one order and cannot deadlock each other.

SQLite has one writer, so it gets one lane; PostgreSQL gets several (see :func:`lanes_for`).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from chinwag.errors import ChinwagError
from chinwag.services.events import Event

if TYPE_CHECKING:
    from chinwag.services.context import Context, Unit
    from chinwag.storage.db import Database, Tx

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Writes per transaction at most: bounds how long a batch holds its locks and its callers.
MAX_BATCH = 64
#: Concurrent batches on PostgreSQL (each holds one pooled connection while it runs).
PG_LANES = 4


def lanes_for(db: Database) -> int:
    """How many batches may run at once: SQLite serialises writers anyway."""
    return 1 if db.dialect == "sqlite" else PG_LANES


class _Job(Generic[T]):
    """One caller's write, its outcome, and how its caller is woken."""

    __slots__ = (
        "ctx",
        "fn",
        "key",
        "wake",
        "leads",
        "done",
        "result",
        "error",
        "events",
        "retry_alone",
    )

    def __init__(self, ctx: Context, fn: Callable[[Unit], T], key: str) -> None:
        self.ctx = ctx
        self.fn = fn
        self.key = key
        #: One item per signal (done, or a lane to lead); a C queue, the cheapest to wake on.
        self.wake: queue.SimpleQueue[None] = queue.SimpleQueue()
        #: Lanes handed to this job's caller to lead (set and taken under the queue's lock).
        self.leads = 0
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.events: list[Event] = []
        #: Failed in a shared transaction with something other than a ChinwagError.
        self.retry_alone = False

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        result: T = self.result
        return result


class GroupCommit:
    """The queue and lanes of one database's grouped writes."""

    def __init__(self, max_batch: int = MAX_BATCH, lanes: int | None = None) -> None:
        self.max_batch = max_batch
        #: Concurrent batches at most; None: :func:`lanes_for` the database.
        self.lanes = lanes
        #: Batches and writes committed so far (writes / batches: the mean batch size).
        self.batches = 0
        self.writes = 0
        self._lock = threading.Lock()
        self._queue: deque[_Job[Any]] = deque()
        self._leaders = 0

    def queued(self) -> int:
        """Writes waiting for a lane."""
        return len(self._queue)

    def run(self, ctx: Context, fn: Callable[[Unit], T], key: str = "") -> T:
        """Run ``fn(unit)`` in a shared write transaction; return its result once committed.

        ``fn`` must do nothing but database work and ``unit.emit`` (it may run twice: see the
        module docstring). ``key`` orders the writes of a batch (the row the write locks first).
        """
        job: _Job[T] = _Job(ctx, fn, key)
        with self._lock:
            self._queue.append(job)
            if self._leaders < (self.lanes or lanes_for(ctx.db)):
                self._leaders += 1
                job.leads = 1
        while True:
            # ``leads`` and ``done`` are set before a signal is put, so none is missed.
            with self._lock:
                lead = job.leads > 0
                job.leads -= lead
            if lead:
                self._lead()
            elif job.done:
                return job.outcome()
            else:
                job.wake.get()

    def _lead(self) -> None:
        """Commit one batch from the queue, then hand the lane to the next caller in line."""
        with self._lock:
            batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
            if not batch:  # another lane took them all
                self._leaders -= 1
                return
        try:
            self._commit(sorted(batch, key=lambda j: j.key))
        except BaseException as exc:  # nobody may hang, whatever happened
            for job in batch:
                if not job.done:
                    job.error, job.done = exc, True
            raise
        finally:
            for job in batch:
                job.wake.put(None)
            with self._lock:
                self.batches += 1
                self.writes += len(batch)
                if self._queue:
                    heir = self._queue[0]  # its caller leads next (may find it taken)
                    heir.leads += 1
                    heir.wake.put(None)
                else:
                    self._leaders -= 1

    def _commit(self, batch: list[_Job[Any]]) -> None:
        if len(batch) == 1:
            _run_alone(batch[0])
            return
        try:
            with batch[0].ctx.db.transaction() as tx:
                for job in batch:
                    _run_in_savepoint(tx, job)
        except Exception:
            for job in batch:  # the commit failed: nothing of the batch is stored
                job.error, job.events = None, []
                _run_alone(job)
            return
        for job in batch:
            if not job.retry_alone:
                job.done = True
                _publish(job)
        for job in batch:
            if job.retry_alone:
                _run_alone(job)


def _run_in_savepoint(tx: Tx, job: _Job[Any]) -> None:
    unit = job.ctx.unit(tx)
    try:
        with tx.savepoint():
            job.result = job.fn(unit)
            for hook in job.ctx.in_transaction:
                hook(unit)
    except ChinwagError as exc:
        job.error = exc
    except Exception:
        job.retry_alone = True
    else:
        job.events = unit.events


def _run_alone(job: _Job[Any]) -> None:
    """The job in a transaction of its own, as :meth:`Context.write` would run it."""
    job.retry_alone = False
    try:
        with job.ctx.db.transaction() as tx:
            unit = job.ctx.unit(tx)
            job.result = job.fn(unit)
            for hook in job.ctx.in_transaction:
                hook(unit)
    except Exception as exc:
        job.error = exc
    else:
        job.events = unit.events
    job.done = True
    _publish(job)


def _publish(job: _Job[Any]) -> None:
    """Hand a committed job's events to its sink. The job is stored whatever happens here:
    watchers who miss an event catch up from the database, which is the record."""
    if job.error is None and job.events:
        try:
            job.ctx.sink.publish(job.events)
        except Exception:
            log.exception("publishing %d events after a grouped commit failed", len(job.events))
