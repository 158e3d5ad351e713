"""Idle connections (BRIEF section 7): server memory per idle connection at 15,000 connections.

For each server, in one run and each time in a fresh server process pinned to CPU 0 (load
generator on CPU 1): connect a few warm-up clients, read the server's RSS, connect N more that
then do nothing, wait until the RSS settles, and report (RSS after - RSS before) / N.

- ``chinwag``: ``chinwag serve`` (SQLite, ``memory://`` bus). Mode ``idle``: each client is an
  authenticated session (its own user, ``GET ping`` answered, so authentication is done) that
  watches nothing. Mode ``watching``: each is a guest subscribed to one conversation.
- ``websockets-broadcast``: the bare ``websockets`` server of ``bench/fanout_peer.py`` (``idle``).
- ``python-socketio``: ``bench/fanout_socketio.py``; ``idle``: connected to the namespace;
  ``watching``: also in the room.

Both processes raise RLIMIT_NOFILE to the hard limit (20,000 here) and the run says so if that is
below what N needs.

    python -m bench.idle                                  # 15,000 connections, every case
    python -m bench.idle --connections 2000 --cases chinwag:idle,websockets-broadcast:idle

Results: a table on stdout and ``bench/results/idle.json``; figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import fanout, harness
from bench.fanout_client import Client, Stats, open_client

RESULTS = Path(__file__).resolve().parent / "results"
CASES = (
    "chinwag:idle,chinwag:watching,websockets-broadcast:idle,"
    "python-socketio:idle,python-socketio:watching"
)


@dataclass
class Result:
    server: str
    mode: str
    connections: int
    connect_s: float
    rss_before_kib: int
    rss_after_kib: int
    kib_per_connection: float
    closed_by_server: int
    nofile_limit: int


async def _chinwag_idle(server: Any, i: int) -> Client:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def on_text(c: Client, payload: bytes) -> None:
        if payload.startswith(b"[0,") and not ready.done():
            if payload.startswith(b"[0,200"):
                ready.set_result(None)
            else:
                ready.set_exception(RuntimeError(payload[:200].decode(errors="replace")))

    c = await open_client(fanout.HOST, server.port, server.path(f"idle-{i}"), on_text)
    c.send('[0,"GET","ping"]')
    await ready
    return c


async def _open(server: Any, mode: str, i: int) -> Client:
    if server.name == "chinwag":
        if mode == "idle":
            return await _chinwag_idle(server, i)
        c: Client = await server.join(Stats(0), i, "none")
        return c
    if server.name == "python-socketio":
        if mode == "idle":
            c = await server.connect()
            return c
        c = await server.join(Stats(0), i, "none")
        return c
    return await open_client(fanout.HOST, server.port, "/", lambda c, p: None)


async def _run(
    server: Any, mode: str, n: int, nofile: int, warm: int = 50, settle: float = 2.0
) -> Result:
    sem = asyncio.Semaphore(200)
    conns: list[Client] = []

    async def one(i: int) -> None:
        async with sem:
            conns.append(await _open(server, mode, i))

    await asyncio.gather(*(one(i) for i in range(warm)))
    await asyncio.sleep(min(1.0, settle))
    before = fanout._rss_kib(server.proc.pid)
    t0 = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(warm, warm + n)))
    connect_s = time.monotonic() - t0
    # Settle: wait until the RSS stops moving for `settle` s (at most 20 s).
    last, quiet, deadline = -1, time.monotonic(), time.monotonic() + 20
    while time.monotonic() < deadline:
        rss = fanout._rss_kib(server.proc.pid)
        if rss != last:
            last, quiet = rss, time.monotonic()
        elif time.monotonic() - quiet >= settle:
            break
        await asyncio.sleep(0.25)
    after = fanout._rss_kib(server.proc.pid)
    result = Result(
        server=server.name,
        mode=mode,
        connections=n,
        connect_s=round(connect_s, 1),
        rss_before_kib=before,
        rss_after_kib=after,
        kib_per_connection=round((after - before) / n, 2),
        closed_by_server=sum(1 for c in conns if c.closed.done()),
        nofile_limit=nofile,
    )
    for c in conns:
        if c.transport is not None:
            c.transport.close()
    print(
        f"  {server.name:22} {mode:9} {n} connections in {result.connect_s:5.1f} s  "
        f"RSS {before / 1024:7.1f} -> {after / 1024:7.1f} MiB  "
        f"{result.kib_per_connection:6.2f} KiB each  closed {result.closed_by_server}",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None, pin: bool = True) -> list[Result]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=15_000)
    parser.add_argument("--cases", default=CASES, help="server:mode, comma-separated")
    parser.add_argument("--warm", type=int, default=50, help="warm-up clients, not counted")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds of steady RSS")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    fanout.PIN = pin
    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {fanout.CLIENT_CPU})
    nofile = fanout.raise_nofile()
    need = args.connections + args.warm + 100
    if nofile < need:
        print(f"  RLIMIT_NOFILE is {nofile} (the hard limit), below the {need} needed", flush=True)
    from bench.fanout_socketio import SocketIO

    kinds = {"chinwag": fanout.Chinwag, "websockets-broadcast": fanout.Peer}
    kinds["python-socketio"] = SocketIO  # type: ignore[assignment]
    out: list[Result] = []
    for case in args.cases.split(","):
        name, mode = case.split(":")
        with tempfile.TemporaryDirectory() as tmp:
            server = kinds[name](tmp)
            try:
                run = _run(server, mode, args.connections, nofile, args.warm, args.settle)
                out.append(fanout._loop_run(run))
            finally:
                server.stop()
    harness.write_run(args.results, "idle", results=[asdict(r) for r in out])
    return out


if __name__ == "__main__":
    main()
