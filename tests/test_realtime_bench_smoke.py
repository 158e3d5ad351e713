"""The fan-out benchmark still runs, at a tiny size: every delivery arrives, exactly once, on
Chinwag and on the bare websockets peer. Nothing about speed is asserted (BRIEF section 7)."""

from __future__ import annotations

from pathlib import Path

from bench import fanout


def test_fanout_benchmark_delivers_everything_once(tmp_path: Path) -> None:
    results = fanout.main(
        ["--clients", "20", "--rates", "10", "--duration", "0.5", "--results", str(tmp_path)],
        pin=False,
    )
    assert {r.server for r in results} == {"chinwag", "websockets-broadcast"}
    for r in results:
        assert r.sent == 5 and r.expected == 100
        assert (r.delivered, r.missed, r.duplicates) == (100, 0, 0), r
    assert (tmp_path / "fanout.json").exists()
