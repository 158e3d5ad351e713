"""The worker's slots: how many outbox rows one worker works on at once, per app and for webhooks.

Rules kept (docs/notifications.md, "Noisy tenants"):

- At most ``total`` rows at once (``CHINWAG_WORKER_THREADS``).
- At most ``per_app`` of them for any one app (``CHINWAG_WORKER_APP_THREADS``). An app whose
  receivers hang, or whose backlog is long, holds only its own slots: its other rows stay in the
  database unclaimed, leased by nobody, until one of its slots frees, and every other app's rows
  are claimed past them.
- Webhooks, which go to receivers nobody vouches for, take at most ``total - 1`` slots (when
  there are two or more), so one slot is always left for notifications, email and SMS, whose
  providers are the operator's.
- A claim takes only what a :class:`Plan` allows; the rows it took hold their slots
  (:meth:`Slots.hold`) until each is done (:meth:`Slots.release`), which wakes whoever waits.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from chinwag.storage.outbox import OutboxItem


@dataclass
class Plan:
    """What one claim may take, from a snapshot of the slots in use (only ever too cautious:
    rows finishing meanwhile only free more)."""

    free: int
    per_app: int
    webhook_room: int
    busy: dict[str, int] = field(default_factory=dict)

    @property
    def full_apps(self) -> list[str]:
        return sorted(app for app, n in self.busy.items() if n >= self.per_app)

    def take(self, item: OutboxItem) -> bool:
        """Whether the claim may take ``item``; if so, count it."""
        if self.free <= 0 or self.busy.get(item.app_id, 0) >= self.per_app:
            return False
        if item.kind == "webhook":
            if self.webhook_room <= 0:
                return False
            self.webhook_room -= 1
        self.busy[item.app_id] = self.busy.get(item.app_id, 0) + 1
        self.free -= 1
        return True


class Slots:
    def __init__(self, total: int, per_app: int | None = None) -> None:
        self.total = max(1, total)
        self.per_app = max(1, min(self.total, per_app or self.total // 2 or 1))
        self.webhooks = self.total - 1 if self.total > 1 else 1
        self._busy: dict[str, int] = {}
        self._in_use = 0
        self._webhooks_in_use = 0
        self._released = 0
        self._changed = threading.Condition()

    @property
    def in_use(self) -> int:
        with self._changed:
            return self._in_use

    @property
    def released(self) -> int:
        """How many rows gave their slot back so far (for :meth:`wait`)."""
        with self._changed:
            return self._released

    def plan(self) -> Plan:
        with self._changed:
            return Plan(
                free=self.total - self._in_use,
                per_app=self.per_app,
                webhook_room=self.webhooks - self._webhooks_in_use,
                busy=dict(self._busy),
            )

    def hold(self, items: Iterable[OutboxItem]) -> None:
        """The claim that took ``items`` committed: they hold their slots now."""
        with self._changed:
            for item in items:
                self._busy[item.app_id] = self._busy.get(item.app_id, 0) + 1
                self._in_use += 1
                if item.kind == "webhook":
                    self._webhooks_in_use += 1

    def release(self, item: OutboxItem) -> None:
        with self._changed:
            left = self._busy.get(item.app_id, 0) - 1
            if left > 0:
                self._busy[item.app_id] = left
            else:
                self._busy.pop(item.app_id, None)
            self._in_use -= 1
            if item.kind == "webhook":
                self._webhooks_in_use -= 1
            self._released += 1
            self._changed.notify_all()

    def wait(self, since: int, timeout: float | None) -> None:
        """Until a row was released after :attr:`released` was ``since``, or ``timeout``
        seconds (no wake-up is lost between reading ``since`` and waiting)."""
        with self._changed:
            self._changed.wait_for(lambda: self._released != since, timeout)

    def idle_since(self, since: int) -> bool:
        """Nothing holds a slot, and nothing was released after :attr:`released` was ``since``:
        a claim made in between saw every row that is due now."""
        with self._changed:
            return self._in_use == 0 and self._released == since

    def wait_idle(self) -> None:
        """Until no row holds a slot."""
        with self._changed:
            self._changed.wait_for(lambda: self._in_use == 0)
