"""Rate limits: the token bucket as a table, then 429 with Retry-After over REST."""

from __future__ import annotations

import pytest

from chinwag.domain.ratelimit import RateLimiter
from chinwag.errors import RateLimited


@pytest.mark.parametrize(
    ("rate", "burst", "steps", "allowed"),
    [
        # (ms since start, requests at that moment)
        (1, 3, [(0, 3)], 3),
        (1, 3, [(0, 4)], 3),
        (1, 3, [(0, 3), (1000, 1)], 4),  # one token back after a second
        (1, 3, [(0, 3), (500, 1)], 3),  # half a token is not enough
        (10, 1, [(0, 1), (100, 1), (200, 1)], 3),
        (1, 3, [(0, 3), (60_000, 5)], 6),  # the bucket never holds more than the burst
    ],
)
def test_bucket(rate, burst, steps, allowed):
    limiter = RateLimiter(rate, burst)
    granted = 0
    for at, count in steps:
        for _ in range(count):
            try:
                limiter.take("k", at)
                granted += 1
            except RateLimited as exc:
                assert exc.retry_after > 0 and exc.status == 429
    assert granted == allowed


def test_keys_are_independent_and_idle_keys_are_forgotten():
    limiter = RateLimiter(1, 1, max_keys=2)
    limiter.take("a", 0)
    limiter.take("b", 0)
    with pytest.raises(RateLimited):
        limiter.take("a", 0)
    limiter.take("c", 5_000)  # over max_keys: idle full buckets are dropped, nobody is blocked
    limiter.take("a", 5_000)


def test_rest_answers_429_with_retry_after(api, clock):
    api.client.app.app.state.rest_limiter = RateLimiter(rate=1, burst=2)
    assert api.get("/users").status_code == 200
    assert api.get("/users").status_code == 200
    r = api.get("/users")
    assert r.status_code == 429 and r.json()["errorCode"] == "RATE_LIMITED"
    assert int(r.headers["Retry-After"]) >= 1
    clock.advance(1000)
    assert api.get("/users").status_code == 200


def test_check_takes_nothing_and_refuses_only_an_empty_bucket():
    limiter = RateLimiter(1, 2)
    for _ in range(5):
        limiter.check("k", 0)  # an unknown key, or a full bucket: allowed, nothing taken
    limiter.take("k", 0)
    limiter.check("k", 0)
    limiter.take("k", 0)
    with pytest.raises(RateLimited) as caught:
        limiter.check("k", 0)
    assert caught.value.retry_after == pytest.approx(1.0)
    limiter.check("k", 1000)  # a token back after a second
