"""Token buckets, keyed by whatever is being limited (an app, a user, a connection). Pure: the
caller passes the time, so tests move a fake clock instead of sleeping."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from chinwag.errors import RateLimited


@dataclass
class _Bucket:
    tokens: float
    at_ms: int


class RateLimiter:
    """``rate`` tokens per second, at most ``burst`` saved up; one token per request.

    Keeps at most ``max_keys`` buckets: when full, the fullest buckets (idle keys) are dropped,
    which only ever forgives, never blocks, a caller.
    """

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now_ms: int, what: str = "requests") -> None:
        with self._lock:
            self._take(key, now_ms, what)

    def _take(self, key: str, now_ms: int, what: str) -> None:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_idle(now_ms)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now_ms)
        elapsed = max(0, now_ms - bucket.at_ms) / 1000
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
        bucket.at_ms = now_ms
        if bucket.tokens < 1:
            wait = (1 - bucket.tokens) / self.rate
            raise RateLimited(
                wait, f"too many {what}: at most {self.rate:g}/s, bursts of {self.burst}"
            )
        bucket.tokens -= 1

    def _forget_idle(self, now_ms: int) -> None:
        full = [
            k
            for k, b in self._buckets.items()
            if b.tokens + (now_ms - b.at_ms) / 1000 * self.rate >= self.burst
        ]
        for k in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[k]
