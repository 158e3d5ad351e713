"""The storage benchmarks still run: each at a tiny size, on SQLite and PostgreSQL.

Only that they complete and report numbers; never how fast (BRIEF section 7: benchmarks, never
timed tests). The figures themselves live in docs/benchmarks.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import export, history, inbox, sends

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
QUICK = ["--runs", "1", "--duration", "0.05"]


def _check(results: list[dict[str, Any]], database: str, results_dir: Path, name: str) -> None:
    assert len(results) == 1
    result = results[0]
    assert result["database"] == database
    assert result["cases"]
    for case in result["cases"]:
        assert case["rate_per_s"] > 0, case
        assert case["p50_ms"] > 0 and case["p99_ms"] >= case["p50_ms"], case
    recorded = json.loads((results_dir / f"{name}.json").read_text())["results"]
    assert [r["database"] for r in recorded] == [database]


@pytest.mark.parametrize("database", DATABASES)
def test_history_benchmark_runs(database: str, tmp_path: Path) -> None:
    results = history.main(
        ["--database", database, "--messages", "2000", *QUICK, "--results", str(tmp_path)]
    )
    _check(results, database, tmp_path, "history")
    assert set(results[0]["verdict"]) >= {"pages_per_s", "p99_ms", "oldest_over_newest_p50"}


@pytest.mark.parametrize("database", DATABASES)
def test_inbox_benchmark_runs(database: str, tmp_path: Path) -> None:
    results = inbox.main(
        [
            "--database", database, "--conversations", "20", "--messages-per-conversation", "10",
            *QUICK, "--results", str(tmp_path),
        ]
    )  # fmt: skip
    _check(results, database, tmp_path, "inbox")
    assert all("pass" in v for k, v in results[0]["verdict"].items() if k in inbox.TARGET_CASES)


@pytest.mark.parametrize("database", DATABASES)
def test_sends_benchmark_runs(database: str, tmp_path: Path) -> None:
    results = sends.main(
        [
            "--database", database, "--conversations", "8", "--threads", "4",
            "--duration", "0.05", "--results", str(tmp_path),
        ]
    )  # fmt: skip
    _check(results, database, tmp_path, "sends")


def test_sends_benchmark_open_loop_runs(tmp_path: Path) -> None:
    from bench import fanout_sends

    args = ["--conversations", "3", "--duration", "0.5", "--rate", "30", "--database", "sqlite"]
    [result] = fanout_sends.main([*args, "--results", str(tmp_path)], pin=False)
    assert result.offered_per_s == 30 and result.messages > 0 and result.errors == 0


@pytest.mark.parametrize(
    ("source", "target"),
    [("sqlite", "sqlite"), pytest.param("sqlite", "postgresql", marks=pytest.mark.postgres)],
)
def test_export_benchmark_runs(source: str, target: str, tmp_path: Path) -> None:
    result = export.main(
        ["--source", source, "--target", target, "--messages", "500", "--results", str(tmp_path)]
    )
    assert result["checked"]["messages"] == 500
    assert result["export_s"] > 0 and result["import_s"] > 0
    recorded = json.loads((tmp_path / "export.json").read_text())["results"]
    assert [r["target"] for r in recorded] == [target]
