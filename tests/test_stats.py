"""The tallies and histograms the working parts count into (chinwag/stats.py)."""

from __future__ import annotations

import threading

import pytest

from chinwag.stats import Histogram, Tally


@pytest.mark.parametrize(
    ("observed", "expected"),
    [
        ([], [(1.0, 0), (2.0, 0), (float("inf"), 0)]),
        ([0.5, 1.0], [(1.0, 2), (2.0, 2), (float("inf"), 2)]),  # a bound holds its equal
        ([1.5, 2.0, 9.0], [(1.0, 0), (2.0, 2), (float("inf"), 3)]),
        ([-1.0, 3.0], [(1.0, 1), (2.0, 1), (float("inf"), 2)]),
    ],
)
def test_histogram_buckets_are_cumulative(
    observed: list[float], expected: list[tuple[float, int]]
) -> None:
    h = Histogram((1.0, 2.0))
    for v in observed:
        h.observe(v)
    buckets, total = h.cumulative()
    assert buckets == expected
    assert total == pytest.approx(sum(observed))
    assert h.count == len(observed)


@pytest.mark.parametrize("bounds", [(2.0, 1.0), (1.0, 1.0)])
def test_histogram_bounds_must_increase(bounds: tuple[float, ...]) -> None:
    with pytest.raises(ValueError):
        Histogram(bounds)


def test_tally_counts_by_labels_from_many_threads() -> None:
    t = Tally()

    def work() -> None:
        for _ in range(10_000):
            t.add("webhook", "sent")
        t.add("email", "failed", n=3)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert t.get("webhook", "sent") == 40_000
    assert t.get("email", "failed") == 12
    assert t.get("sms", "sent") == 0
    assert t.items() == [(("email", "failed"), 12), (("webhook", "sent"), 40_000)]
