"""The realtime benchmarks still run, at a tiny size: every fan-out delivery arrives exactly once
(on Chinwag and on the bare websockets peer), sends are stored, a reconnect storm resumes everyone
with exactly what they missed. Nothing about speed is asserted (BRIEF section 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import fanout, fanout_reconnect, fanout_sends


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


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_sends_benchmark_runs(tmp_path: Path, database: str) -> None:
    results = fanout_sends.main(
        [
            "--conversations",
            "3",
            "--duration",
            "0.3",
            "--database",
            database,
            "--results",
            str(tmp_path),
        ],
        pin=False,
    )
    assert [r.database for r in results] == [database]
    assert results[0].messages > 0


def test_reconnect_storm_benchmark_resumes_everyone_exactly(tmp_path: Path) -> None:
    result = fanout_reconnect.main(
        ["--clients", "20", "--missed", "3", "--results", str(tmp_path)], pin=False
    )
    assert (result["exact"], result["failed"]) == (20, 0)
