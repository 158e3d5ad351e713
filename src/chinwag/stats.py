"""Counts kept by the parts that do the work, for ``/metrics`` to read (web/metrics.py).

Plain Python, no Prometheus here: a component counts into a :class:`Tally` or a
:class:`Histogram` it owns, in the thread that already does the work, and the metrics collector
reads them when scraped. Both are safe to update from several threads; an update is a lock and
an addition, so counting never slows what it counts measurably.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter

#: Seconds: from a commit's publish to its last socket write on a node; a commit's latency.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: Writes per group commit.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Tally:
    """Counts by a tuple of label values, such as ``("webhook", "sent")``."""

    __slots__ = ("_counts", "_lock")

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, ...]] = Counter()
        self._lock = threading.Lock()

    def add(self, *labels: str, n: int = 1) -> None:
        with self._lock:
            self._counts[labels] += n

    def get(self, *labels: str) -> int:
        with self._lock:
            return self._counts[labels]

    def items(self) -> list[tuple[tuple[str, ...], int]]:
        with self._lock:
            return sorted(self._counts.items())


class Histogram:
    """Observations counted into fixed buckets (each bucket: values up to its bound)."""

    __slots__ = ("bounds", "_counts", "_sum", "_lock")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        if list(bounds) != sorted(set(bounds)):
            raise ValueError("bucket bounds must increase")
        self.bounds = bounds
        self._counts = [0] * (len(bounds) + 1)  # the last: above every bound
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        i = bisect_left(self.bounds, value)
        with self._lock:
            self._counts[i] += 1
            self._sum += value

    @property
    def count(self) -> int:
        with self._lock:
            return sum(self._counts)

    def cumulative(self) -> tuple[list[tuple[float, int]], float]:
        """``([(bound, observations <= bound), ..., (inf, all)], sum)``, as Prometheus wants."""
        with self._lock:
            counts, total = list(self._counts), self._sum
        out: list[tuple[float, int]] = []
        running = 0
        for bound, n in zip((*self.bounds, float("inf")), counts, strict=True):
            running += n
            out.append((bound, running))
        return out, total
