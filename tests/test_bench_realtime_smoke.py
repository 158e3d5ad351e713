"""The python-socketio fan-out peer and the idle-connections benchmark still run, at a tiny size:
every delivery arrives once through python-socketio rooms, and every idle case connects all its
clients. Nothing about speed or memory is asserted (BRIEF section 7)."""

from __future__ import annotations

from pathlib import Path

from bench import fanout, idle


def test_socketio_fanout_peer_delivers_everything_once(tmp_path: Path) -> None:
    results = fanout.main(
        [
            "--clients",
            "20",
            "--rates",
            "10",
            "--duration",
            "0.5",
            "--servers",
            "python-socketio",
            "--results",
            str(tmp_path),
        ],
        pin=False,
    )
    assert [r.server for r in results] == ["python-socketio"]
    r = results[0]
    assert r.sent == 5 and r.expected == 100
    assert (r.delivered, r.missed, r.duplicates) == (100, 0, 0), r


def test_idle_benchmark_connects_every_case(tmp_path: Path) -> None:
    results = idle.main(
        ["--connections", "20", "--warm", "2", "--settle", "0", "--results", str(tmp_path)],
        pin=False,
    )
    assert [(r.server, r.mode) for r in results] == [
        ("chinwag", "idle"),
        ("chinwag", "watching"),
        ("websockets-broadcast", "idle"),
        ("python-socketio", "idle"),
        ("python-socketio", "watching"),
    ]
    assert all(r.connections == 20 and r.closed_by_server == 0 for r in results)
    assert (tmp_path / "idle.json").exists()
