"""Drive ``bench/loadgen.c``, the C fan-out load generator, from asyncio.

Why: the fan-out benchmark must prove its load generator is not the bottleneck, and the asyncio
generator (``bench/fanout_client.py``) nearly fills its core at ~60-70k deliveries/s. The C
generator receives several hundred thousand small frames a second on one core.

What: :func:`build` compiles the C source with gcc on demand into a cache directory outside
the tree (``<tempdir>/chinwag-loadgen-<hash of the source>``); :class:`LoadGen` spawns it
(optionally pinned to one CPU), waits until every client has joined, can take snapshots and
reset its counters between runs over the same connections, and reads its final JSON report.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).with_name("loadgen.c")
CFLAGS = ("-O2", "-Wall", "-Wextra", "-Werror")
_STREAM_LIMIT = 64 * 1024 * 1024  # a report line holds one count per message


def available() -> bool:
    """Whether the generator can be built here (gcc on PATH)."""
    return shutil.which("gcc") is not None


def build() -> Path:
    """Compile the generator if this version of the source isn't built yet; return the binary.

    The cache key hashes the source and the flags, so an edit rebuilds. The binary is written to
    a temporary name and renamed, so concurrent builds never see a half-written file.
    """
    source = SOURCE.read_bytes()
    key = hashlib.sha256(source + " ".join(CFLAGS).encode()).hexdigest()[:16]
    out_dir = Path(tempfile.gettempdir()) / f"chinwag-loadgen-{key}"
    binary = out_dir / "loadgen"
    if binary.exists():
        return binary
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("gcc is not on PATH: the C load generator can't be built")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f"loadgen.{os.getpid()}.tmp"
    result = subprocess.run(
        [gcc, *CFLAGS, "-o", str(tmp), str(SOURCE)], capture_output=True, text=True
    )
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"gcc failed to build {SOURCE}:\n{result.stderr}")
    os.replace(tmp, binary)
    return binary


def _pinned(cpu: int) -> Callable[[], None]:
    def pin() -> None:
        os.sched_setaffinity(0, {cpu})

    return pin


def cpu_seconds(report: dict[str, Any]) -> float:
    """User plus system CPU seconds the generator had used when it wrote ``report``."""
    return float(report["cpu_user_s"]) + float(report["cpu_sys_s"])


class LoadGen:
    """One C load-generator process holding ``clients`` WebSocket connections.

    ``path`` may contain ``{i}`` (the client index). ``hello`` frames are sent after the
    upgrade; a client is joined when a text frame starts with ``joined_prefix`` (or at once
    without one). ``reply_exact`` / ``reply_prefix`` map an incoming text frame (equal to /
    starting with the key) to a text frame to send back, first match wins, exact rules first.
    ``ack`` is ``"none"``, ``"each"`` or ``"burst"`` (one cumulative ``[n,"ACK"]``
    ``ack_after_ms`` after the first un-acked push, as the browser SDK does). ``messages``
    sizes ``per_message``. ``pace_us`` > 0 sleeps that long after a small batch of events so
    more gather per wakeup (less CPU, up to that much added latency). ``cpu`` pins the process
    to that CPU (``None``: not pinned). After its report the generator sends every client a
    close frame and waits up to ``linger`` seconds for the server's answers before it exits.
    """

    def __init__(
        self,
        host: str,
        port: int,
        clients: int,
        path: str,
        *,
        hello: Sequence[str] = (),
        joined_prefix: str | None = None,
        reply_exact: dict[str, str] | None = None,
        reply_prefix: dict[str, str] | None = None,
        ack: str = "none",
        ack_after_ms: int = 100,
        messages: int = 0,
        concurrency: int = 200,
        join_timeout: float = 300.0,
        pace_us: int = 0,
        linger: float = 2.0,
        cpu: int | None = 1,
    ) -> None:
        if ack not in ("none", "each", "burst"):
            raise ValueError(f"ack must be none, each or burst, not {ack!r}")
        self.clients = clients
        self.cpu = cpu
        self.join_timeout = join_timeout
        args = [
            f"--host={host}",
            f"--port={port}",
            f"--clients={clients}",
            f"--path={path}",
            f"--ack={ack}",
            f"--ack-after-ms={ack_after_ms}",
            f"--messages={messages}",
            f"--concurrency={concurrency}",
            f"--join-timeout={join_timeout}",
            f"--pace-us={pace_us}",
            f"--linger={linger}",
        ]
        args += [f"--hello={h}" for h in hello]
        if joined_prefix is not None:
            args.append(f"--joined-prefix={joined_prefix}")
        args += [f"--reply-exact={k}=>{v}" for k, v in (reply_exact or {}).items()]
        args += [f"--reply-prefix={k}=>{v}" for k, v in (reply_prefix or {}).items()]
        self.args = args
        self.proc: asyncio.subprocess.Process | None = None
        self.report: dict[str, Any] | None = None

    async def start(self) -> float:
        """Spawn the generator and wait until every client has joined; return the seconds.

        Raises RuntimeError (after stopping the process) if some clients could not join.
        """
        binary = build()
        self.proc = await asyncio.create_subprocess_exec(
            str(binary),
            *self.args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            preexec_fn=None if self.cpu is None else _pinned(self.cpu),
            limit=_STREAM_LIMIT,
        )
        line = await asyncio.wait_for(self._line(), self.join_timeout + 30)
        if line.startswith("joined "):
            return float(line.split()[1])
        try:
            report = await self.finish()
        except RuntimeError:
            report = {}
        raise RuntimeError(f"load generator: {line or 'exited'} ({report.get('first_error')})")

    async def _line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        return (await self.proc.stdout.readline()).decode().strip()

    async def _command(self, command: str) -> str:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()
        return await self._line()

    async def stats(self) -> dict[str, Any]:
        """A snapshot of the report without stopping (counters since the last reset)."""
        line = await self._command("stats")
        self.report = json.loads(line)
        return self.report

    async def reset(self, messages: int | None = None) -> None:
        """Zero the per-run counters (optionally resizing ``per_message``), keep connections."""
        line = await self._command("reset" if messages is None else f"reset {messages}")
        if line != "ok":
            raise RuntimeError(f"load generator: unexpected answer to reset: {line!r}")

    async def finish(self, timeout: float = 30.0) -> dict[str, Any]:
        """Close stdin (the generator's signal to stop), read its final report, reap it."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            line = await asyncio.wait_for(self._line(), timeout)
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.kill()
            raise RuntimeError("load generator did not stop") from None
        if not line:
            raise RuntimeError(f"load generator exited with {self.proc.returncode} and no report")
        self.report = json.loads(line)
        return self.report

    def kill(self) -> None:
        """Stop the process at once (for cleanup paths); no report."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()

    def cpu_fraction(
        self,
        wall_seconds: float,
        report: dict[str, Any] | None = None,
        since: dict[str, Any] | None = None,
    ) -> float:
        """The generator's CPU (user + system) over ``wall_seconds`` of wall time, 1.0 = a core.

        Uses ``report`` (default: the latest one) minus ``since`` (default: process start).
        """
        report = report if report is not None else self.report
        if report is None:
            raise RuntimeError("no report yet: call stats() or finish() first")
        used = cpu_seconds(report) - (cpu_seconds(since) if since is not None else 0.0)
        return used / wall_seconds if wall_seconds > 0 else 0.0
