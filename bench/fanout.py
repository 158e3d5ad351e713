"""Super group fan-out (BRIEF section 7): N guests watch one conversation; messages are sent at a
steady rate; every delivery is timed from publish to receive. Chinwag (``chinwag serve``, SQLite,
in-process bus, each message persisted once), a bare ``websockets`` broadcast server
(``bench/fanout_peer.py``) and python-socketio rooms (``bench/fanout_socketio.py``) run side by
side in one run, each on its own core, with the load generator pinned to the other core and its
CPU use reported.

    python -m bench.fanout                       # 10,000 guests, 10/20/30 messages a second
    python -m bench.fanout --clients 2000 --rates 20 --duration 5
    python -m bench.fanout --servers chinwag,websockets-broadcast,python-socketio

Results: a table on stdout and ``bench/results/fanout.json``; figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bench import harness, loadgen
from bench.fanout_client import Client, Stats, open_client
from bench.loadgen import LoadGen

T = TypeVar("T")
RESULTS = Path(__file__).resolve().parent / "results"
SERVER_CPU, CLIENT_CPU = 0, 1
HOST = "127.0.0.1"
#: Chinwag participants sending in turn, each on its own socket (Chinwag.publisher).
SENDERS = 4
ACK_AFTER = 1.0  # seconds, as the SDK (static/sdk/connection.js ACK_AFTER_MS)
PAD = 480  # extra text so the peer broadcasts frames as large as Chinwag's events


@dataclass
class Result:
    server: str
    clients: int
    rate: float
    sent: int
    expected: int
    delivered: int
    missed: int
    duplicates: int
    deliveries_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    generator_cpu: float
    frame_bytes: int
    disconnected: int  # clients the server closed during the run (e.g. keepalive timeouts)
    kib_per_connection: float  # server RSS growth while the clients joined, per client


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(len(ordered) * q / 100 + 0.5) - 1))]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


PIN = True  # off in the smoke test, which must not pin the test process


def _pinned(cpu: int) -> Any:
    def pin() -> None:
        raise_nofile()
        if PIN and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {cpu})

    return pin


def raise_nofile() -> int:
    """Raise this process's open-files limit to its hard limit; return the soft limit in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
        return hard
    return soft


def _wait_http(port: int, proc: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            httpx.get(f"http://{HOST}:{port}{path}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


class Chinwag:
    name = "chinwag"

    def __init__(self, tmp: str, database_url: str | None = None) -> None:
        self.port = _free_port()
        self.app_id = "tbench" + uuid.uuid4().hex[:6]
        self.secret = "sk_bench_" + uuid.uuid4().hex
        env = {
            **os.environ,
            "CHINWAG_DATA_DIR": tmp,
            "CHINWAG_DATABASE_URL": database_url or f"sqlite:///{tmp}/fanout.db",
            "CHINWAG_BROKER_URL": "memory://",
            "CHINWAG_APP_ID": self.app_id,
            "CHINWAG_SECRET_KEY": self.secret,
            "CHINWAG_LOG_LEVEL": "warning",
            "CHINWAG_WORKER": "off",
            "CHINWAG_PORT": str(self.port),
            # The load generator is one address standing for thousands of clients that connect
            # at once; the slow-client cap (64 heads in progress per address) would refuse them.
            "CHINWAG_HTTP_PENDING_PER_ADDRESS": "0",
        }
        self.proc = subprocess.Popen(
            [sys.executable, *os.environ.get("FANOUT_SERVER_CMD", "-m chinwag serve").split()],
            env=env,
            stdout=subprocess.DEVNULL,
            preexec_fn=_pinned(SERVER_CPU),
        )
        _wait_http(self.port, self.proc)
        api = f"http://{HOST}:{self.port}/v1/{self.app_id}"
        auth = {"Authorization": f"Bearer {self.secret}"}
        hosts = ["host"] + [f"host-{k}" for k in range(1, SENDERS)]
        for user in hosts:
            httpx.put(f"{api}/users/{user}", json={"name": user}, headers=auth).raise_for_status()
        httpx.put(
            f"{api}/conversations/big", json={"participants": hosts}, headers=auth
        ).raise_for_status()
        self.hosts = hosts

    def path(self, user: str) -> str:
        return f"/v1/{self.app_id}/realtime/{user}"

    async def join(self, stats: Stats, i: int, ack: str) -> Client:
        loop = asyncio.get_running_loop()

        def send_ack(c: Client) -> None:
            c.ack_timer = None  # type: ignore[attr-defined]
            c.send(f'[{c.ack_n},"ACK"]')  # type: ignore[attr-defined]

        def on_text(c: Client, payload: bytes) -> None:
            if payload.startswith(b"[0,200"):
                c.joined.set_result(None)  # type: ignore[attr-defined]
                return
            stats.seen(payload)
            if ack == "none" or b'"PUBLISH"' not in payload[:24]:
                return
            n = payload[1 : payload.index(b",")].decode()
            if ack == "each":
                c.send(f'[{n},"ACK"]')
                return
            # "burst", as the SDK does: one cumulative ACK ACK_AFTER after the first push.
            c.ack_n = n  # type: ignore[attr-defined]
            if c.ack_timer is None:  # type: ignore[attr-defined]
                c.ack_timer = loop.call_later(ACK_AFTER, send_ack, c)  # type: ignore[attr-defined]

        c = await open_client(HOST, self.port, self.path(f"guest-{i}"), on_text)
        c.joined = loop.create_future()  # type: ignore[attr-defined]
        c.ack_timer = None  # type: ignore[attr-defined]
        c.send('[0,"SUBSCRIBE","me/conversations/big",{"asGuest":true}]')
        await c.joined  # type: ignore[attr-defined]
        return c

    def loadgen(self, clients: int, ack: str, cpu: int | None) -> LoadGen:
        return LoadGen(
            HOST,
            self.port,
            clients,
            self.path("guest-{i}"),
            hello=['[0,"SUBSCRIBE","me/conversations/big",{"asGuest":true}]'],
            joined_prefix="[0,200",
            ack=ack,
            ack_after_ms=int(ACK_AFTER * 1000),
            cpu=cpu,
        )

    async def publisher(self) -> tuple[list[Client], Any]:
        """The participants who send, each on its own socket, in turn (a super group has many
        senders; one socket's requests are answered one at a time, so a single sender would
        measure its round trip, not the fan-out)."""
        seq = iter(range(1, 10**9))
        senders = [
            await open_client(HOST, self.port, self.path(user), lambda c, p: None)
            for user in self.hosts
        ]

        def send(index: int) -> None:
            text = f"t:{time.time():.6f}|{index}|"
            c = senders[index % len(senders)]
            c.send(f'[{next(seq)},"POST","me/conversations/big/messages",{{"text":"{text}"}}]')

        return senders, send

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


class Peer:
    name = "websockets-broadcast"

    def __init__(self, tmp: str) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.fanout_peer", str(self.port)],
            stdout=subprocess.PIPE,
            preexec_fn=_pinned(SERVER_CPU),
        )
        assert self.proc.stdout is not None
        self.proc.stdout.readline()

    async def join(self, stats: Stats, i: int, ack: str) -> Client:
        return await open_client(HOST, self.port, "/", lambda c, p: stats.seen(p))

    def loadgen(self, clients: int, ack: str, cpu: int | None) -> LoadGen:
        return LoadGen(HOST, self.port, clients, "/", cpu=cpu)

    async def publisher(self) -> tuple[list[Client], Any]:
        c = await open_client(HOST, self.port, "/", lambda c, p: None)
        pad = "x" * PAD

        def send(index: int) -> None:
            c.send(f"t:{time.time():.6f}|{index}|{pad}")

        return [c], send

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


async def _run_c(
    server: Any, clients: int, rates: list[float], duration: float, ack: str
) -> list[Result]:
    """The same run with the C load generator (bench/loadgen.c) holding the clients."""
    results = []
    gen = server.loadgen(clients, ack, CLIENT_CPU if PIN else None)
    rss0 = _rss_kib(server.proc.pid)
    pubs: list[Client] = []
    try:
        join_s = await gen.start()
        await asyncio.sleep(1)
        per_conn = round((_rss_kib(server.proc.pid) - rss0) / clients, 1)
        print(
            f"  {server.name}: {clients} clients joined in {join_s:.1f} s (C generator), "
            f"{per_conn} KiB of server memory each",
            flush=True,
        )
        pubs, send = await server.publisher()
        for rate in rates:
            messages = max(1, int(rate * duration))
            await gen.reset(messages)
            before = await gen.stats()
            wall0 = time.monotonic()
            start = time.monotonic()
            sent = 0
            for i in range(messages):
                if any(p.closed.done() for p in pubs):
                    print(f"  {server.name}: the server closed the publisher; stopping")
                    break
                send(i)
                sent += 1
                await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
            sent_at_end = time.time()
            if not sent:
                break  # the publisher is gone: no later rate can be measured either
            expected = sent * clients
            deadline, last, quiet = time.monotonic() + 60, -1, time.monotonic()
            while True:
                report = await gen.stats()
                got = sum(report["per_message"])
                if got >= expected or time.monotonic() > deadline:
                    break
                if got != last:
                    last, quiet = got, time.monotonic()
                elif time.monotonic() - quiet > 5:
                    break
                await asyncio.sleep(0.25)
            delivered = min(sum(report["per_message"]), expected)
            span = max(report["last_receive"] or 0.0, sent_at_end) - (
                sent_at_end - max(0, sent - 1) / rate
            )
            results.append(
                Result(
                    server=server.name,
                    clients=clients,
                    rate=rate,
                    sent=sent,
                    expected=expected,
                    delivered=delivered,
                    missed=max(0, expected - delivered),
                    duplicates=int(report["duplicates"]),
                    deliveries_per_s=round(delivered / span, 1),
                    p50_ms=round(float(report["p50_ms"]), 1),
                    p99_ms=round(float(report["p99_ms"]), 1),
                    max_ms=round(float(report["max_ms"]), 1),
                    generator_cpu=round(
                        gen.cpu_fraction(time.monotonic() - wall0, report, since=before), 2
                    ),
                    frame_bytes=_sample_size(server),
                    disconnected=int(report["disconnected"]),
                    kib_per_connection=per_conn,
                )
            )
            _print(results[-1])
            await asyncio.sleep(1)
        _close(pubs)
        await gen.finish()
    finally:
        _close(pubs)
        gen.kill()
    return results


def _print(r: Result) -> None:
    print(
        f"  {r.server:22} {r.rate:6.0f} msg/s  {r.deliveries_per_s:10.0f} deliveries/s  "
        f"p50 {r.p50_ms:7.1f} ms  p99 {r.p99_ms:7.1f} ms  missed {r.missed}  "
        f"generator CPU {r.generator_cpu:.0%}  disconnected {r.disconnected}",
        flush=True,
    )


async def _run(
    server: Any, clients: int, rates: list[float], duration: float, ack: str
) -> list[Result]:
    results = []
    holder: dict[str, Stats] = {}

    class Proxy:  # every client reports to the current run's stats
        def seen(self, payload: bytes) -> None:
            holder["s"].seen(payload)

    holder["s"] = Stats(0)
    sem = asyncio.Semaphore(200)
    conns: list[Client] = []

    async def join(i: int) -> None:
        async with sem:
            conns.append(await server.join(Proxy(), i, ack))

    rss0 = _rss_kib(server.proc.pid)
    t0 = time.monotonic()
    await asyncio.gather(*(join(i) for i in range(clients)))
    await asyncio.sleep(1)
    per_conn = round((_rss_kib(server.proc.pid) - rss0) / clients, 1)
    print(
        f"  {server.name}: {clients} clients joined in {time.monotonic() - t0:.1f} s, "
        f"{per_conn} KiB of server memory each",
        flush=True,
    )
    pubs, send = await server.publisher()
    frame_bytes = 0
    for rate in rates:
        messages = max(1, int(rate * duration))
        stats = holder["s"] = Stats(messages)
        cpu0, wall0 = time.process_time(), time.monotonic()
        start = time.monotonic()
        sent = 0
        for i in range(messages):
            if any(p.closed.done() for p in pubs):
                print(f"  {server.name}: the server closed the publisher; stopping", flush=True)
                break
            send(i)
            sent += 1
            target = start + (i + 1) / rate
            await asyncio.sleep(max(0.0, target - time.monotonic()))
        sent_at_end = time.time()
        if not sent:
            break  # the publisher is gone: no later rate can be measured either
        expected = sent * clients
        # Late is not lost: wait until deliveries stop coming for 5 s (at most 60 s).
        deadline, last, quiet = time.monotonic() + 60, -1, time.monotonic()
        while time.monotonic() < deadline:
            got = sum(stats.per_message)
            if got >= expected:
                break
            if got != last:
                last, quiet = got, time.monotonic()
            elif time.monotonic() - quiet > 5:
                break
            await asyncio.sleep(0.05)
        cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
        delivered = sum(stats.per_message)
        span = max(stats.last_receive, sent_at_end) - (sent_at_end - max(0, sent - 1) / rate)
        over = sum(max(0, n - clients) for n in stats.per_message)
        frame_bytes = frame_bytes or _sample_size(server)
        results.append(
            Result(
                server=server.name,
                clients=clients,
                rate=rate,
                sent=sent,
                expected=expected,
                delivered=min(delivered, expected),
                missed=max(0, expected - delivered),
                duplicates=over,
                deliveries_per_s=round(min(delivered, expected) / span, 1),
                p50_ms=round(_pct(stats.latencies, 50), 1),
                p99_ms=round(_pct(stats.latencies, 99), 1),
                max_ms=round(max(stats.latencies, default=float("nan")), 1),
                generator_cpu=round(cpu, 2),
                frame_bytes=frame_bytes,
                disconnected=sum(1 for c in conns if c.closed.done()),
                kib_per_connection=per_conn,
            )
        )
        _print(results[-1])
        await asyncio.sleep(1)
    _close(conns + pubs)
    return results


def _close(clients: list[Client]) -> None:
    for c in clients:
        if c.transport is not None:
            c.transport.close()


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _sample_size(server: Any) -> int:
    return {"chinwag": 700, "python-socketio": PAD + 40}.get(server.name, PAD + 30)


def main(argv: list[str] | None = None, pin: bool = True) -> list[Result]:
    global PIN
    PIN = pin
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--rates", default="10,20,30", help="messages a second, comma-separated")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per rate")
    parser.add_argument(
        "--ack",
        choices=("burst", "each", "none"),
        default="burst",
        help="how Chinwag clients ACK pushes: once per burst as the SDK does (default), "
        "once per push, or never",
    )
    parser.add_argument("--servers", default="chinwag,websockets-broadcast")
    parser.add_argument(
        "--generator",
        choices=("c", "python"),
        default="c" if loadgen.available() else "python",
        help="the C load generator (bench/loadgen.c, needs gcc) or the asyncio one",
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {CLIENT_CPU})
    raise_nofile()
    out: list[Result] = []
    from bench.fanout_socketio import SocketIO

    kinds = {"chinwag": Chinwag, "websockets-broadcast": Peer, "python-socketio": SocketIO}
    for name in args.servers.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            server = kinds[name](tmp)
            try:
                run = _run_c if args.generator == "c" else _run
                out += _loop_run(run(server, args.clients, rates, args.duration, args.ack))
            finally:
                server.stop()
    _report(out, args)
    return out


def _loop_run(coro: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop, the loop uvicorn picks for the server too."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)
    return uvloop.run(coro)


def _report(out: list[Result], args: argparse.Namespace) -> None:
    by = {(r.server, r.rate): r for r in out}
    for peer in ("websockets-broadcast", "python-socketio"):
        if not any(r.server == peer for r in out) or not any(r.server == "chinwag" for r in out):
            continue
        print(f"\n  vs {peer}\n  rate   chinwag/s   peer/s   ratio   chinwag p99   peer p99")
        for r in sorted({r.rate for r in out}):
            a, b = by.get(("chinwag", r)), by.get((peer, r))
            if a and b:
                ratio = a.deliveries_per_s / b.deliveries_per_s if b.deliveries_per_s else 0.0
                print(
                    f"  {r:5.0f} {a.deliveries_per_s:10.0f} {b.deliveries_per_s:8.0f}"
                    f" {ratio:7.2f} {a.p99_ms:12.1f} {b.p99_ms:10.1f}"
                )
    harness.write_run(args.results, "fanout", results=[asdict(r) for r in out])


if __name__ == "__main__":
    main()
