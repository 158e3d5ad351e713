"""Servers a fault test owns and breaks on purpose: a Redis and a PostgreSQL, each on a free
port of 127.0.0.1, started, stopped and killed by PID. Nothing here touches the machine's own
services."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class Redis:
    """A throwaway redis-server this test owns: started, killed and restarted on one port."""

    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)


PG_BIN = Path("/usr/lib/postgresql")


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(PG_BIN.glob(f"*/bin/{name}"))
    if not versions:
        raise RuntimeError(f"{name} not found: install Debian's postgresql package")
    return str(versions[-1])


class Postgres:
    """A throwaway PostgreSQL cluster: ``initdb`` into a temporary directory, then ``postgres``
    on its own port, trust authentication on 127.0.0.1 only. PostgreSQL refuses to run as root,
    so under root the cluster belongs to the ``postgres`` user (``runuser``)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="chinwag-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.running = False
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres")
        subprocess.run(
            [*self._as, _pg_tool("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self._as, _pg_tool("pg_ctl"), "-D", str(self.data), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.dir} -c fsync=off"
        )
        self._ctl("start", "-w", "-t", "30", "-l", str(self.log), "-o", options)
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """``fast``: as ``systemctl restart postgresql`` does, sessions are cut; ``immediate``:
        as if the server crashed."""
        self._ctl("stop", "-w", "-t", "30", "-m", mode)
        self.running = False

    def close(self) -> None:
        if self.running:
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
