"""The python-socketio peer for the fan-out benchmark: one room, a broadcast to it per message.

Server (``python -m bench.fanout_socketio PORT``): a minimal ``socketio.AsyncServer`` as an ASGI
app under uvicorn with uvicorn's defaults (uvloop, the same as ``chinwag serve``). A client emits
``join`` (with an ack) to enter the room ``big``; whatever a client emits as ``msg`` is sent to
the room with ``sio.emit("msg", text, room="big")``, the rooms pattern of the python-socketio
documentation. No persistence, no rules.

Load generator (:class:`SocketIO`): the lean clients of ``bench/fanout_client.py`` speaking
Engine.IO 4 / Socket.IO 5 over a WebSocket by hand (``0`` open -> ``40`` connect -> ``40{..}``;
``421["join"]`` -> ``431[..]``; server pings ``2`` answered with ``3``), so a delivery costs the
generator what one on the other servers does. python-socketio's own asyncio client would cost the
generator several times the server's work per delivery.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

from bench.fanout_client import Client, Stats, open_client
from bench.loadgen import LoadGen

ROOM = "big"
PATH = "/socket.io/?EIO=4&transport=websocket"


class SocketIO:
    name = "python-socketio"

    def __init__(self, tmp: str) -> None:
        from bench import fanout

        self.port = fanout._free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.fanout_socketio", str(self.port)],
            stdout=subprocess.PIPE,
            preexec_fn=fanout._pinned(fanout.SERVER_CPU),
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("the python-socketio server did not start")

    async def _open(self, on_event: Any, join: bool) -> Client:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def on_text(c: Client, payload: bytes) -> None:
            if payload.startswith(b"42"):
                on_event(payload)
            elif payload == b"2":  # Engine.IO ping
                c.send("3")
            elif payload.startswith(b"0{"):  # Engine.IO open: connect to the namespace "/"
                c.send("40")
            elif payload.startswith(b"40"):
                if join:
                    c.send('421["join"]')
                elif not ready.done():
                    ready.set_result(None)
            elif payload.startswith(b"431") and not ready.done():
                ready.set_result(None)
            elif payload.startswith(b"44") and not ready.done():
                ready.set_exception(RuntimeError(payload.decode(errors="replace")))

        c = await open_client("127.0.0.1", self.port, PATH, on_text)
        await ready
        return c

    async def join(self, stats: Stats, i: int, ack: str) -> Client:
        return await self._open(stats.seen, join=True)

    async def connect(self) -> Client:
        """A connected Socket.IO session in no room (the idle benchmark)."""
        return await self._open(lambda p: None, join=False)

    def loadgen(self, clients: int, ack: str, cpu: int | None) -> LoadGen:
        """C clients speaking Engine.IO by hand, as the asyncio ones do."""
        return LoadGen(
            "127.0.0.1",
            self.port,
            clients,
            PATH,
            joined_prefix="431",
            reply_exact={"2": "3"},
            reply_prefix={"0{": "40", "40": '421["join"]'},
            cpu=cpu,
        )

    async def publisher(self) -> tuple[list[Client], Any]:
        from bench.fanout import PAD

        c = await self._open(lambda p: None, join=False)
        pad = "x" * PAD

        def send(index: int) -> None:
            c.send(f'42["msg","t:{time.time():.6f}|{index}|{pad}"]')

        return [c], send

    def stop(self) -> None:
        self.proc.terminate()
        try:  # uvicorn's graceful close of 15,000 Socket.IO sessions can take minutes
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def serve(port: int) -> None:
    import socketio
    import uvicorn

    # Saturated by the benchmark, the server reads pongs late; with the default 20 s timeouts
    # (Engine.IO's here, uvicorn's WebSocket ping below) it then drops the publisher mid-run. A
    # long timeout keeps everyone connected, so the run measures room fan-out, not liveness.
    sio = socketio.AsyncServer(
        async_mode="asgi", logger=False, engineio_logger=False, ping_timeout=600
    )

    @sio.on("join")
    async def join(sid: str) -> bool:
        await sio.enter_room(sid, ROOM)
        return True

    @sio.on("msg")
    async def msg(sid: str, text: str) -> None:
        await sio.emit("msg", text, room=ROOM)

    server = uvicorn.Server(
        uvicorn.Config(
            socketio.ASGIApp(sio),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            backlog=4096,
            ws_ping_interval=None,  # Engine.IO pings (above); uvicorn's would drop them too
        )
    )

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
                return
            await asyncio.sleep(0.05)
        print("ready", flush=True)
        await task

    from uvicorn._compat import asyncio_run

    asyncio_run(main(), loop_factory=server.config.get_loop_factory())  # uvloop, as uvicorn.run


if __name__ == "__main__":
    serve(int(sys.argv[1]))
