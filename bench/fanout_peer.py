"""The peer for the fan-out benchmark: a bare ``websockets`` broadcast server.

Every text a client sends is broadcast to every connected client with
``websockets.broadcast`` (which writes to each socket without awaiting it), exactly the
"broadcast" pattern of the websockets documentation. No persistence, no protocol, no rules.

    python -m bench.fanout_peer PORT
"""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

CLIENTS: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    CLIENTS.add(ws)
    try:
        async for message in ws:
            broadcast(CLIENTS, message)
    finally:
        CLIENTS.discard(ws)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, max_size=2**20, compression=None, backlog=4096):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:  # the same event loop uvicorn picks for Chinwag
        import uvloop

        uvloop.run(main(int(sys.argv[1])))
    except ImportError:  # pragma: no cover
        asyncio.run(main(int(sys.argv[1])))
