"""Sends across many small conversations (BRIEF section 7): C clients, each in its own
two-person conversation and subscribed to it, send messages over the realtime socket in a closed
loop (the next one as soon as the previous is acknowledged). Reports persisted messages a second
and the ack latency, on SQLite and PostgreSQL.

    python -m bench.fanout_sends              # 500 conversations, 10 s, both databases
    python -m bench.fanout_sends --conversations 200 --duration 5 --database sqlite
    python -m bench.fanout_sends --rate 5000  # open loop: p99 ack at 5,000 sends/s offered

A closed loop of C clients keeps C sends in flight, so its mean ack time is C over the rate
(500 clients at 5,000/s: 100 ms): p99 under 50 ms there needs more than 10,000/s, which the
rate limit forbids. The open loop (``--rate``) measures the ack time at a given rate instead.

The server is ``chinwag serve`` pinned to CPU 0, the clients run here on CPU 1. Each session may
make 20 requests a second (the per-connection rate limit), so C clients cap the rate at 20*C.
Results: stdout and ``bench/results/fanout_sends.json``.
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

import httpx

from bench import fanout, harness
from bench.fanout_client import Client, open_client


@dataclass
class SendResult:
    database: str
    conversations: int
    #: Open loop: the sends a second offered in all; 0: closed loop.
    offered_per_s: float
    messages: int
    seconds: float
    messages_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    generator_cpu: float
    #: The server process's CPU time over the run, as a share of one core and per message.
    server_cpu: float
    server_cpu_us_per_message: float
    load: float


PG_ADMIN = os.environ.get("CHINWAG_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_database() -> tuple[str, Any]:
    """A scratch PostgreSQL database for the run, and how to drop it."""
    import uuid

    import psycopg

    name = f"chinwag_bench_sends_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", drop


def _setup(server: fanout.Chinwag, conversations: int) -> None:
    api = f"http://{fanout.HOST}:{server.port}/v1/{server.app_id}"
    auth = {"Authorization": f"Bearer {server.secret}"}
    with httpx.Client(headers=auth, timeout=30) as http:
        users = {
            f"u{i}{side}": {"name": f"U{i}{side}"} for i in range(conversations) for side in "ab"
        }
        items = list(users.items())
        for k in range(0, len(items), 100):
            http.put(f"{api}/users", json=dict(items[k : k + 100])).raise_for_status()
        for i in range(conversations):
            http.put(
                f"{api}/conversations/c{i}", json={"participants": [f"u{i}a", f"u{i}b"]}
            ).raise_for_status()


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` and its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _run(
    server: fanout.Chinwag, conversations: int, duration: float, rate: float = 0.0
) -> dict[str, Any]:
    """Closed loop (``rate`` 0: each client sends as soon as its last send is acknowledged), or
    open loop at ``rate`` sends a second in all (each client on its own fixed schedule, whether
    or not its last send was acknowledged; latency counts from the scheduled time, so a server
    that falls behind shows it)."""
    latencies: list[float] = []
    errors = 0
    waiting: dict[Client, dict[int, asyncio.Future[int]]] = {}

    def on_text(c: Client, payload: bytes) -> None:
        if b'"PUBLISH"' in payload[:24]:
            c.send(f'[{payload[1 : payload.index(b",")].decode()},"ACK"]')
            return
        comma = payload.find(b",")
        if comma < 2 or not payload[1:comma].isdigit():
            return
        fut = waiting.get(c, {}).pop(int(payload[1:comma]), None)
        if fut is not None and not fut.done():
            fut.set_result(int(payload[comma + 1 : comma + 4]))

    def request(c: Client, seq: int, frame: str) -> asyncio.Future[int]:
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        waiting.setdefault(c, {})[seq] = fut
        c.send(frame)
        return fut

    clients = []
    for i in range(conversations):
        c = await open_client(fanout.HOST, server.port, server.path(f"u{i}a"), on_text)
        await request(c, 0, f'[0,"SUBSCRIBE","me/conversations/c{i}"]')
        clients.append(c)
    stop_at = time.monotonic() + duration
    cpu0, t0 = time.process_time(), time.monotonic()
    server_cpu0 = _cpu_seconds(server.proc.pid)
    sent = 0

    def frame(i: int, seq: int) -> str:
        return f'[{seq},"POST","me/conversations/c{i}/messages",{{"text":"m{seq}"}}]'

    async def closed(i: int, c: Client) -> None:
        nonlocal sent, errors
        seq = 1
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            status = await request(c, seq, frame(i, seq))
            latencies.append((time.perf_counter() - start) * 1000)
            if status == 200:
                sent += 1
            else:
                errors += 1
                await asyncio.sleep(0.05)
            seq += 1

    async def paced(i: int, c: Client) -> None:
        nonlocal sent, errors
        interval = conversations / rate
        due = time.perf_counter() + interval * i / conversations
        end = due + duration - interval * i / conversations
        outstanding = []

        async def one(seq: int, scheduled: float) -> None:
            nonlocal sent, errors
            try:
                status = await asyncio.wait_for(request(c, seq, frame(i, seq)), 10)
            except TimeoutError:
                status = 0
            latencies.append((time.perf_counter() - scheduled) * 1000)
            sent, errors = (sent + 1, errors) if status == 200 else (sent, errors + 1)

        seq = 1
        while due < end:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            outstanding.append(asyncio.ensure_future(one(seq, due)))
            seq += 1
            due += interval
        await asyncio.gather(*outstanding)

    await asyncio.gather(*((paced if rate else closed)(i, c) for i, c in enumerate(clients)))
    seconds = time.monotonic() - t0
    cpu = (time.process_time() - cpu0) / seconds
    server_cpu = _cpu_seconds(server.proc.pid) - server_cpu0
    for c in clients:
        if c.transport is not None:
            c.transport.close()
    return {
        "messages": sent,
        "seconds": round(seconds, 2),
        "latencies": latencies,
        "errors": errors,
        "cpu": round(cpu, 2),
        "server_cpu": server_cpu,
    }


def main(argv: list[str] | None = None, pin: bool = True) -> list[SendResult]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--database", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered sends/s in all, open loop (default 0: closed loop, as fast as acked)",
    )
    parser.add_argument("--results", type=Path, default=fanout.RESULTS)
    args = parser.parse_args(argv)
    fanout.PIN = pin
    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {fanout.CLIENT_CPU})
    out = []
    for database in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        with tempfile.TemporaryDirectory() as tmp:
            drop = None
            url = None
            if database == "postgresql":
                url, drop = _pg_database()
            server = fanout.Chinwag(tmp, database_url=url)
            try:
                _setup(server, args.conversations)
                raw = fanout._loop_run(_run(server, args.conversations, args.duration, args.rate))
            finally:
                server.stop()
                if drop is not None:
                    drop()
        lat = raw["latencies"]
        r = SendResult(
            database=database,
            conversations=args.conversations,
            offered_per_s=args.rate,
            messages=raw["messages"],
            seconds=raw["seconds"],
            messages_per_s=round(raw["messages"] / raw["seconds"], 1),
            p50_ms=round(fanout._pct(lat, 50), 1),
            p99_ms=round(fanout._pct(lat, 99), 1),
            errors=raw["errors"],
            generator_cpu=raw["cpu"],
            server_cpu=round(raw["server_cpu"] / raw["seconds"], 2),
            server_cpu_us_per_message=round(1e6 * raw["server_cpu"] / max(1, raw["messages"])),
            load=round(os.getloadavg()[0], 1),
        )
        out.append(r)
        print(
            f"  {database:10} {r.conversations} conversations"
            + (f", offered {r.offered_per_s:.0f}/s" if r.offered_per_s else "")
            + f": {r.messages_per_s:8.0f} messages/s"
            f"  ack p50 {r.p50_ms:6.1f} ms  p99 {r.p99_ms:6.1f} ms  errors {r.errors}"
            f"  generator CPU {r.generator_cpu:.0%}  server CPU {r.server_cpu:.0%}"
            f" ({r.server_cpu_us_per_message} us/message)  load {r.load}",
            flush=True,
        )
    harness.write_run(args.results, "fanout_sends", results=[asdict(r) for r in out])
    return out


if __name__ == "__main__":
    main()
