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
  conversations) in one order and cannot deadlock each other;
- the units of a batch share one memo (:meth:`~chinwag.services.context.Unit.memo`), so what
  they all look up (an app's webhooks and notification settings) is read once per commit.

A caller either waits (:meth:`GroupCommit.run`, from a worker thread) or is called back
(:meth:`GroupCommit.submit`, from an event loop that must not block: no thread hop per write;
a committing thread of this module leads the batch).

SQLite has one writer, so it gets one lane; PostgreSQL gets several (see :func:`lanes_for`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from chinwag.errors import ChinwagError
from chinwag.services.events import Event, EventSink
from chinwag.stats import BATCH_BUCKETS, LATENCY_BUCKETS, Histogram

if TYPE_CHECKING:
    from chinwag.services.context import Context, Unit
    from chinwag.storage.db import Database, Tx

log = logging.getLogger(__name__)

T = TypeVar("T")
#: What :meth:`GroupCommit.submit` calls once a write is done: ``(result, None)`` or
#: ``(None, error)``.
Done = Callable[[Any, BaseException | None], None]

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
        "then",
    )

    def __init__(
        self, ctx: Context, fn: Callable[[Unit], T], key: str, then: Done | None = None
    ) -> None:
        self.ctx = ctx
        self.fn = fn
        self.key = key
        #: Called with (result, error) once done, for a caller that does not wait (:meth:`submit`).
        self.then = then
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
        #: Writes per batch, and seconds from a batch's start to its commit (for /metrics).
        self.batch_sizes = Histogram(BATCH_BUCKETS)
        self.commit_seconds = Histogram(LATENCY_BUCKETS)
        self._lock = threading.Lock()
        self._queue: deque[_Job[Any]] = deque()
        self._leaders = 0
        #: Leads batches for callers that do not wait; started on the first :meth:`submit`.
        self._committers: ThreadPoolExecutor | None = None

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

    def submit(self, ctx: Context, fn: Callable[[Unit], Any], key: str, then: Done) -> None:
        """Queue ``fn`` like :meth:`run`, without waiting: ``then(result, error)`` is called from
        a committing thread once the write is committed (or has failed). For callers that must
        not block, such as an event loop; ``then`` must be quick and must not raise."""
        job: _Job[Any] = _Job(ctx, fn, key, then)
        with self._lock:
            self._queue.append(job)
            lead = self._leaders < (self.lanes or lanes_for(ctx.db))
            if lead:
                self._leaders += 1
                committers = self._committers_for(ctx)
        if lead:
            committers.submit(self._lead)

    def _committers_for(self, ctx: Context) -> ThreadPoolExecutor:
        if self._committers is None:
            lanes = self.lanes or lanes_for(ctx.db)
            self._committers = ThreadPoolExecutor(lanes, thread_name_prefix="chinwag-commit")
        return self._committers

    def _lead(self) -> None:
        """Commit one batch from the queue, then hand the lane to the next caller in line."""
        with self._lock:
            batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
            if not batch:  # another lane took them all
                self._leaders -= 1
                return
        started = time.perf_counter()
        try:
            self._commit(sorted(batch, key=lambda j: j.key))
            self.commit_seconds.observe(time.perf_counter() - started)
            self.batch_sizes.observe(len(batch))
        except BaseException as exc:  # nobody may hang, whatever happened
            for job in batch:
                if not job.done:
                    job.error, job.done = exc, True
            raise
        finally:
            handed = None
            with self._lock:
                self.batches += 1
                self.writes += len(batch)
                if self._queue:
                    heir = self._queue[0]  # its caller leads next (may find it taken)
                    if heir.then is None:
                        heir.leads += 1
                        heir.wake.put(None)
                    else:  # nobody waits on it: a committing thread leads
                        handed = self._committers_for(heir.ctx)
                else:
                    self._leaders -= 1
            if handed is not None:
                handed.submit(self._lead)
            for job in batch:
                _tell(job)

    def _commit(self, batch: list[_Job[Any]]) -> None:
        if len(batch) == 1:
            _run_alone(batch[0])
            return
        try:
            with batch[0].ctx.db.transaction() as tx:
                shared: dict[Hashable, Any] = {}
                for job in batch:
                    _run_in_savepoint(tx, job, shared)
        except Exception:
            for job in batch:  # the commit failed: nothing of the batch is stored
                job.error, job.events = None, []
                _run_alone(job)
            return
        committed = [job for job in batch if not job.retry_alone]
        for job in committed:
            job.done = True
        _publish(committed)
        for job in batch:
            if job.retry_alone:
                _run_alone(job)


def _run_in_savepoint(tx: Tx, job: _Job[Any], shared: dict[Hashable, Any]) -> None:
    unit = job.ctx.unit(tx, shared)
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
    _publish([job])


def _tell(job: _Job[Any]) -> None:
    """Wake the job's caller, or call it back."""
    if job.then is None:
        job.wake.put(None)
        return
    try:
        job.then(None, job.error) if job.error is not None else job.then(job.result, None)
    except Exception:
        log.exception("a group commit callback failed")


def _publish(jobs: list[_Job[Any]]) -> None:
    """Hand the events of committed jobs to their sinks, in order: the events of one commit go
    in one call per sink (one hand-over to the event loop for a whole batch). The jobs are
    stored whatever happens here: watchers who miss an event catch up from the database."""
    runs: list[tuple[EventSink, list[Event]]] = []
    for job in jobs:
        if job.error is not None or not job.events:
            continue
        if runs and runs[-1][0] is job.ctx.sink:
            runs[-1][1].extend(job.events)
        else:
            runs.append((job.ctx.sink, list(job.events)))
    for sink, events in runs:
        try:
            sink.publish(events)
        except Exception:
            log.exception("publishing %d events after a grouped commit failed", len(events))
