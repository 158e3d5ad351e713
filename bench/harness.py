"""What every storage benchmark shares: timing loops, percentiles, machine facts, result files.

A *case* is one thing being timed (a service call or its SQL peer). Each case is run ``runs``
times for ``duration`` seconds; a run yields its throughput and latency percentiles, and the
reported figure is the median over the runs, because the machine is shared and one run can be
disturbed by someone else's work. The load average is recorded before every run.
"""

from __future__ import annotations

import datetime
import json
import multiprocessing
import os
import platform
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of unsorted ``values``."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return ordered[int(rank) - 1]


def load_average() -> float:
    return os.getloadavg()[0]


@dataclass
class Run:
    """One timed run of one case."""

    ops: int
    seconds: float
    latencies_ms: list[float]
    load: float
    #: CPU time of this process per call (None for forked runs): the client-side work, which
    #: outside load on the machine does not inflate the way it inflates wall time.
    cpu_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def _loop(
    call: Callable[[int], object], duration: float, min_ops: int, first: int, out: list[float]
) -> None:
    start = time.perf_counter()
    i = first
    while True:
        t0 = time.perf_counter()
        call(i)
        t1 = time.perf_counter()
        out.append((t1 - t0) * 1000)
        i += 1
        if t1 - start >= duration and len(out) >= min_ops:
            return


def timed_run(
    call: Callable[[int], object], duration: float, min_ops: int = 20, threads: int = 1
) -> Run:
    """Call ``call(i)`` back to back for ``duration`` seconds on ``threads`` threads.

    Throughput is the calls completed over the wall time; latency is per call.
    """
    load = load_average()
    per_thread: list[list[float]] = [[] for _ in range(threads)]
    cpu_start = time.process_time()
    start = time.perf_counter()
    if threads == 1:
        _loop(call, duration, min_ops, 0, per_thread[0])
    else:
        workers = [
            threading.Thread(target=_loop, args=(call, duration, min_ops, n * 1_000_000, out))
            for n, out in enumerate(per_thread)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    latencies = [x for out in per_thread for x in out]
    return Run(len(latencies), seconds, latencies, load, cpu * 1000 / len(latencies))


CallFactory = Callable[[], Callable[[int], object]]


def _child(
    factory: CallFactory, duration: float, min_ops: int, first: int, barrier: Any, send: Any
) -> None:
    call = factory()
    for i in range(20):  # warm up: connections, prepared statements, caches
        call(first + i)
    out: list[float] = []
    barrier.wait()
    _loop(call, duration, min_ops, first, out)
    send.send(out)
    send.close()


def forked_run(factory: CallFactory, duration: float, processes: int, min_ops: int = 20) -> Run:
    """Like :func:`timed_run`, on ``processes`` forked processes at once, each building its own
    call (and database connections) with ``factory``: a server with that many workers."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes + 1)
    receivers, workers = [], []
    for n in range(processes):
        receive, send = context.Pipe(duplex=False)
        worker = context.Process(
            target=_child, args=(factory, duration, min_ops, n * 1_000_000, barrier, send)
        )
        worker.start()
        send.close()
        receivers.append(receive)
        workers.append(worker)
    load = load_average()
    barrier.wait()
    start = time.perf_counter()
    per_process = [r.recv() for r in receivers]
    seconds = time.perf_counter() - start
    for worker in workers:
        worker.join()
    latencies = [x for out in per_process for x in out]
    return Run(len(latencies), seconds, latencies, load)


@dataclass
class Case:
    """A named case and its runs; figures are medians over the runs."""

    name: str
    kind: str  # "service" or "peer"
    runs: list[Run] = field(default_factory=list)
    note: str = ""

    def median(self, metric: Callable[[Run], float]) -> float:
        return statistics.median(metric(r) for r in self.runs)

    @property
    def rate(self) -> float:
        return self.median(lambda r: r.rate)

    @property
    def p50(self) -> float:
        return self.median(lambda r: r.p(50))

    @property
    def p99(self) -> float:
        return self.median(lambda r: r.p(99))

    @property
    def cpu_ms(self) -> float | None:
        values = [r.cpu_ms for r in self.runs if r.cpu_ms is not None]
        return statistics.median(values) if values else None

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "note": self.note,
            "runs": len(self.runs),
            "ops_per_run": [r.ops for r in self.runs],
            "rate_per_s": round(self.rate, 1),
            "p50_ms": round(self.p50, 3),
            "p99_ms": round(self.p99, 3),
            "max_ms": round(max(max(r.latencies_ms) for r in self.runs), 3),
            "cpu_ms_per_op": None if self.cpu_ms is None else round(self.cpu_ms, 3),
            "rate_per_run": [round(r.rate, 1) for r in self.runs],
            "p99_per_run": [round(r.p(99), 3) for r in self.runs],
            "load_per_run": [round(r.load, 2) for r in self.runs],
        }


def run_cases(cases: list[tuple[Case, Any, dict[str, Any]]], runs: int) -> None:
    """Interleave the cases run by run, so a burst of outside load hits all of them alike."""
    for _ in range(runs):
        for case, call, options in cases:
            if "processes" in options:  # ``call`` is then a factory of calls
                case.runs.append(forked_run(call, **options))
            else:
                case.runs.append(timed_run(call, **options))


def _meminfo_total_gib() -> float:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(database_version: str) -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "memory_gib": _meminfo_total_gib(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "database_version": database_version,
    }


def uptime() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


def now_utc() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def print_table(title: str, cases: list[Case], peer_of: dict[str, str] | None = None) -> None:
    """The cases as a table; ``peer_of`` maps a case to the peer its ratio is taken against."""
    peer_of = peer_of or {}
    by_name = {c.name: c for c in cases}
    width = max(len(c.name) for c in cases)
    print(f"\n{title}")
    header = (
        f"{'case':<{width}}  {'ops/s':>9}  {'p50 ms':>8}  {'p99 ms':>8}  {'cpu ms':>7}  "
        "ops/s vs peer"
    )
    print(header)
    print("-" * len(header))
    for c in cases:
        ratio = ""
        peer = by_name.get(peer_of.get(c.name, ""))
        if peer is not None:
            ratio = f"{c.rate / peer.rate:.3g}x {peer.name}"
        cpu = "" if c.cpu_ms is None else f"{c.cpu_ms:.3f}"
        print(f"{c.name:<{width}}  {c.rate:>9.0f}  {c.p50:>8.3f}  {c.p99:>8.3f}  {cpu:>7}  {ratio}")


def record(
    benchmark: str, key: dict[str, Any], result: dict[str, Any], results_dir: Path | None = None
) -> Path:
    """Add ``result`` to ``<results_dir>/<benchmark>.json``, replacing one with the same key."""
    directory = results_dir or RESULTS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{benchmark}.json"
    entries: list[dict[str, Any]] = []
    if path.exists():
        try:
            entries = json.loads(path.read_text())["results"]
        except (ValueError, KeyError):
            entries = []
    entries = [e for e in entries if e.get("key") != key]
    entries.append({"key": key, **result})
    path.write_text(json.dumps({"results": entries}, indent=2) + "\n")
    return path


def write_run(results_dir: Path, benchmark: str, **payload: Any) -> Path:
    """Write one realtime benchmark run to ``<results_dir>/<benchmark>.json``: the date, the
    machine, the command that reproduces it, and ``payload`` (``result=`` or ``results=``)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    run = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load": os.getloadavg()[0],
        },
        "command": f"python -m bench.{benchmark} " + " ".join(sys.argv[1:]),
        **payload,
    }
    path = results_dir / f"{benchmark}.json"
    path.write_text(json.dumps(run, indent=2))
    return path
