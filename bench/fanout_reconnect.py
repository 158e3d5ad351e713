"""Reconnect storm (BRIEF section 7): N guests watch one conversation; all their sockets drop at
once; messages are sent while they are away; all reconnect at once and resume with
``SUBSCRIBE {"asGuest": true, "after": lastPosition}``. Reports the time until every client has
resumed, and checks each got exactly the missed messages, once.

    python -m bench.fanout_reconnect                  # 10,000 clients, 5 missed messages
    python -m bench.fanout_reconnect --clients 2000

Server pinned to CPU 0 (``chinwag serve``, SQLite), clients here on CPU 1. Results: stdout and
``bench/results/fanout_reconnect.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import fanout, harness
from bench.fanout_client import Client, open_client


async def _session(
    server: fanout.Chinwag, i: int, after: int | None, sem: asyncio.Semaphore
) -> tuple[Client, dict[str, Any]]:
    async with sem:
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[dict[str, Any]] = loop.create_future()

        def on_text(c: Client, payload: bytes) -> None:
            if payload.startswith(b"[0,") and not reply.done():
                frame = json.loads(payload)
                if frame[1] == 200:
                    reply.set_result(frame[2])
                else:
                    reply.set_exception(RuntimeError(str(frame)))

        c = await open_client(fanout.HOST, server.port, server.path(f"guest-{i}"), on_text)
        data: dict[str, Any] = {"asGuest": True}
        if after is not None:
            data["after"] = after
        c.send(json.dumps([0, "SUBSCRIBE", "me/conversations/big", data]))
        return c, await reply


async def _run(
    server: fanout.Chinwag, clients: int, missed: int, concurrency: int
) -> dict[str, Any]:
    sem = asyncio.Semaphore(concurrency)
    first = await asyncio.gather(*(_session(server, i, None, sem) for i in range(clients)))
    position = first[0][1]["position"]
    for c, _ in first:
        assert c.transport is not None
        c.transport.abort()  # the sockets drop, no close handshake
    api = f"http://{fanout.HOST}:{server.port}/v1/{server.app_id}"
    auth = {"Authorization": f"Bearer {server.secret}"}
    async with httpx.AsyncClient(headers=auth) as http:
        for k in range(missed):
            r = await http.post(
                f"{api}/conversations/big/messages",
                json=[{"type": "UserMessage", "sender": "host", "text": f"missed {k}"}],
            )
            r.raise_for_status()
    cpu0, t0 = time.process_time(), time.monotonic()
    second = await asyncio.gather(
        *(_session(server, i, position, sem) for i in range(clients)), return_exceptions=True
    )
    seconds = time.monotonic() - t0
    cpu = (time.process_time() - cpu0) / seconds
    failed = sum(1 for s in second if isinstance(s, BaseException))
    exact = 0
    for s in second:
        if isinstance(s, BaseException):
            continue
        c, body = s
        texts = [
            e["message"]["text"] for e in body["events"] or [] if e["type"] == "message.created"
        ]
        exact += texts == [f"missed {k}" for k in range(missed)]
        if c.transport is not None:
            c.transport.close()
    return {"seconds": round(seconds, 2), "failed": failed, "exact": exact, "cpu": round(cpu, 2)}


def main(argv: list[str] | None = None, pin: bool = True) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--missed", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=1000, help="handshakes in flight")
    parser.add_argument("--results", type=Path, default=fanout.RESULTS)
    args = parser.parse_args(argv)
    fanout.PIN = pin
    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {fanout.CLIENT_CPU})
    with tempfile.TemporaryDirectory() as tmp:
        server = fanout.Chinwag(tmp)
        try:
            raw = fanout._loop_run(_run(server, args.clients, args.missed, args.concurrency))
        finally:
            server.stop()
    result = {
        "clients": args.clients,
        "missed_messages": args.missed,
        **raw,
        "load": round(os.getloadavg()[0], 1),
    }
    print(
        f"  {args.clients} clients resumed in {raw['seconds']} s; {raw['exact']} got exactly the "
        f"{args.missed} missed messages once; {raw['failed']} failed; generator CPU "
        f"{raw['cpu']:.0%}; load {result['load']}",
        flush=True,
    )
    harness.write_run(args.results, "fanout_reconnect", result=result)
    return result


if __name__ == "__main__":
    main()
