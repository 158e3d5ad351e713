"""Token buckets: one per connection (:class:`TokenBucket`), or one per key such as an app or
a client (:class:`RateLimiter`). Pure: the caller passes the time, so tests move a fake clock
instead of sleeping."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from chinwag.errors import RateLimited


@dataclass
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up. Each request takes one."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, now: float) -> float:
        """Take a token at ``now`` (seconds); return 0.0 if allowed, else the seconds to wait."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def wait(self, now: float) -> float:
        """The seconds until a token is there at ``now`` (0.0: one is), taking nothing."""
        if self.tokens < 0:
            return 0.0
        tokens = min(self.burst, self.tokens + max(0.0, now - self.stamp) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def full_at(self, now: float) -> bool:
        return self.tokens + max(0.0, now - self.stamp) * self.rate >= self.burst


class RateLimiter:
    """A :class:`TokenBucket` per key, safe to share between threads.

    Keeps at most ``max_keys`` buckets: when full, the full buckets (idle keys) are dropped,
    which only ever forgives, never blocks, a caller.
    """

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now_ms: int, what: str = "requests") -> None:
        now = now_ms / 1000
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._forget_idle(now)
                bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
            wait = bucket.take(now)
        if wait > 0:
            raise RateLimited(
                wait, f"too many {what}: at most {self.rate:g}/s, bursts of {self.burst}"
            )

    def check(self, key: str, now_ms: int, what: str = "requests") -> None:
        """Raise :class:`RateLimited` if ``key`` has no token now, without taking one: for
        limits that only failures use up (:meth:`take` them when they happen)."""
        now = now_ms / 1000
        with self._lock:
            bucket = self._buckets.get(key)
            wait = bucket.wait(now) if bucket is not None else 0.0
        if wait > 0:
            raise RateLimited(
                wait, f"too many {what}: at most {self.rate:g}/s, bursts of {self.burst}"
            )

    def _forget_idle(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.full_at(now)]
        for k in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[k]
