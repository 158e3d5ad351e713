"""Export and import benchmark: an app with one conversation of a million messages moved from
one database to another with the real commands.

Timed: ``chinwag export`` on the source and ``chinwag import`` into a fresh target, each run as
the operator runs it (a ``python -m chinwag`` subprocess), once (a move is done once, not in a
loop). Reported: wall time, rows/s, and each process's peak resident memory (from ``wait4``), so
a run at two sizes shows that memory does not grow with the app. The target is then checked row
for row against the source: same counts, same counter, same last position.

    python -m bench.export --source sqlite --target postgresql --messages 1000000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import harness
from bench.history import CONVERSATION
from bench.history import seed as seed_history
from bench.scratch import RawConnection, scratch_database, server_version
from chinwag.services.context import Context
from chinwag.storage.db import Database


def _run(args: list[str], database_url: str) -> tuple[float, int, str]:
    """Run ``chinwag <args>``; return its wall seconds, peak RSS in KiB and stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHINWAG_")}
    env["CHINWAG_DATABASE_URL"] = database_url
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "chinwag", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    if proc.returncode != 0:
        raise SystemExit(f"chinwag {' '.join(args)} failed ({proc.returncode}):\n{stderr}")
    return elapsed, int(usage.ru_maxrss), stderr


def _facts(db: Database, app_id: str) -> dict[str, Any]:
    with db.read() as tx:
        msgs = tx.one(
            "SELECT COUNT(*) AS n, MAX(position) AS last FROM messages WHERE app_id = ?", (app_id,)
        )
        conv = tx.one(
            "SELECT seq FROM conversations WHERE app_id = ? AND id = ?", (app_id, CONVERSATION)
        )
    assert msgs is not None and conv is not None
    return {"messages": msgs["n"], "last_position": msgs["last"], "seq": conv["seq"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--target", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args(argv)

    with scratch_database(args.source) as source, scratch_database(args.target) as target:
        ctx = Context(db=source)
        raw = RawConnection.to(source)
        print(f"seeding {args.messages} messages on {args.source}...", file=sys.stderr)
        seeded = seed_history(ctx, raw, args.messages, 50, args.seed)
        raw.close()
        app_id = seeded.app_id
        expected = _facts(source, app_id)
        with tempfile.TemporaryDirectory(prefix="chinwag-export-") as directory:
            out = os.path.join(directory, "dump")
            export_s, export_kib, _ = _run(["export", "--out", out, "--app-id", app_id], source.url)
            size = sum(f.stat().st_size for f in Path(out).iterdir())
            import_s, import_kib, _ = _run(["import", "--from", out], target.url)
        got = _facts(target, app_id)
        assert got == expected, (got, expected)
        result = {
            "date": harness.now_utc(),
            "machine": harness.machine(f"{server_version(source)} -> {server_version(target)}"),
            "load": harness.uptime(),
            "command": "python -m bench.export " + " ".join(argv or sys.argv[1:]),
            "source": args.source,
            "target": args.target,
            "messages": args.messages,
            "dump_mib": round(size / 2**20, 1),
            "export_s": round(export_s, 2),
            "export_messages_per_s": round(args.messages / export_s),
            "export_peak_rss_mib": round(export_kib / 1024, 1),
            "import_s": round(import_s, 2),
            "import_messages_per_s": round(args.messages / import_s),
            "import_peak_rss_mib": round(import_kib / 1024, 1),
            "checked": got,
        }
    for key in ("export_s", "export_peak_rss_mib", "import_s", "import_peak_rss_mib", "dump_mib"):
        print(f"{key:>22}: {result[key]}")
    harness.record(
        "export",
        {"source": args.source, "target": args.target, "messages": args.messages},
        result,
        args.results,
    )
    return result


if __name__ == "__main__":
    main()
