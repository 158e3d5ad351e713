"""What every use case needs: the database, the clock, and where events go after commit."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from chinwag.clock import Clock, SystemClock
from chinwag.services.events import Event, EventSink, NullSink
from chinwag.services.group_commit import GroupCommit
from chinwag.stats import Tally
from chinwag.storage.db import Database, Tx

T = TypeVar("T")


class Unit:
    """One transaction plus the events it will publish once it commits."""

    def __init__(
        self,
        tx: Tx,
        now: int,
        actor: str = "backend",
        shared: dict[Hashable, Any] | None = None,
    ) -> None:
        self.tx = tx
        self.now = now
        self.actor = actor
        self.events: list[Event] = []
        self._shared = {} if shared is None else shared

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def memo(self, key: Hashable, load: Callable[[], T]) -> T:
        """``load()``, read once per transaction: the units of a group commit's batch share the
        answer. Only for what no grouped write changes (an app's webhooks and notification
        settings; sends are grouped, settings changes are not)."""
        if key not in self._shared:
            self._shared[key] = load()
        value: T = self._shared[key]
        return value


@dataclass
class Context:
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    sink: EventSink = field(default_factory=NullSink)
    #: Called inside the transaction, just before commit, with the unit and its events
    #: (the outbox writes webhook and notification work here, so it commits with the change).
    in_transaction: list[Callable[[Unit], None]] = field(default_factory=list)
    #: Who acts, for the audit log: "backend" (REST with a secret key or app token),
    #: "admin:<name>" (the dashboard), "user:<id>" (a browser session).
    actor: str = "backend"
    #: The queue of grouped writes (:meth:`write_grouped`); copies made by :meth:`acting` share it.
    commits: GroupCommit = field(default_factory=GroupCommit)
    #: What this process's outbox worker finished, by kind and outcome (for /metrics).
    outcomes: Tally = field(default_factory=Tally)

    def acting(self, actor: str) -> Context:
        """The same context (database, clock, sink, hooks) acting as someone else."""
        return replace(self, actor=actor)

    @contextlib.contextmanager
    def write(self) -> Iterator[Unit]:
        """A write transaction; its events are published only if it commits."""
        with self.db.transaction() as tx:
            unit = self.unit(tx)
            yield unit
            for hook in self.in_transaction:
                hook(unit)
        if unit.events:
            self.sink.publish(unit.events)

    def write_grouped(self, fn: Callable[[Unit], T], key: str = "") -> T:
        """What ``with ctx.write() as unit: return fn(unit)`` does, except that ``fn`` may share
        its transaction and commit with concurrent writes, each in its own savepoint (see
        services/group_commit.py). ``fn`` may run twice; ``key`` names the row it locks first."""
        return self.commits.run(self, fn, key)

    def unit(self, tx: Tx, shared: dict[Hashable, Any] | None = None) -> Unit:
        """A unit of work on ``tx``, timed now, acting as this context's actor; ``shared``:
        the memo of the transaction (:meth:`Unit.memo`), when several units share one."""
        return Unit(tx, self.clock.now_ms(), self.actor, shared)

    @contextlib.contextmanager
    def read(self) -> Iterator[Tx]:
        with self.db.read() as tx:
            yield tx
