"""Smoke tests for the C fan-out load generator (bench/loadgen.c through bench/loadgen.py).

The generator is what proves the fan-out benchmark measures the server, so its counting must be
exact: every marker counted once, latencies sane, pings answered, ACKs sent as the SDK would.
Nothing here pins CPUs or asserts speed. Both servers listen on 127.0.0.1 on a free port.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
import time

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, broadcast, serve

from bench import loadgen
from bench.loadgen import LoadGen

pytestmark = [
    pytest.mark.skipif(not loadgen.available(), reason="gcc is not installed"),
    pytest.mark.timeout(60),
]


def _marker(index: int) -> str:
    return f"t:{time.time():.6f}|{index}|"


def test_broadcast_counts_every_delivery_once() -> None:
    """50 clients of a websockets broadcast server each get 5 published messages exactly once."""
    clients, messages = 50, 5

    async def main() -> None:
        subscribers: set[ServerConnection] = set()
        acks = 0

        async def handler(ws: ServerConnection) -> None:
            nonlocal acks
            assert ws.request is not None
            if ws.request.path == "/pub":
                async for msg in ws:
                    broadcast(subscribers, msg)
                return
            assert ws.request.path.startswith("/sub/guest-")
            try:
                async for msg in ws:
                    if isinstance(msg, str) and msg.startswith('[0,"SUBSCRIBE"'):
                        subscribers.add(ws)
                        await ws.send("[0,200]")
                    elif isinstance(msg, str) and msg.endswith(',"ACK"]'):
                        acks += 1
            finally:
                subscribers.discard(ws)

        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            gen = LoadGen(
                "127.0.0.1",
                port,
                clients,
                "/sub/guest-{i}",
                hello=['[0,"SUBSCRIBE","me/conversations/big",{"asGuest":true}]'],
                joined_prefix="[0,200",
                ack="each",
                messages=1,
                concurrency=16,
                join_timeout=20,
                cpu=None,
            )
            try:
                seconds = await gen.start()
                assert 0 < seconds < 20
                assert len(subscribers) == clients
                await gen.reset(messages)
                async with connect(f"ws://127.0.0.1:{port}/pub") as pub:
                    for i in range(messages):
                        await pub.send(f'[{i + 1},"PUBLISH",{{"text":"{_marker(i)}"}}]')
                        await asyncio.sleep(0.02)
                    deadline = time.monotonic() + 10
                    while (await gen.stats())["deliveries"] < clients * messages:
                        assert time.monotonic() < deadline, gen.report
                        await asyncio.sleep(0.05)
                await asyncio.sleep(0.2)  # let the last ACKs reach the server
                report = await gen.finish()
            finally:
                gen.kill()

        assert report["per_message"] == [clients] * messages
        assert report["deliveries"] == clients * messages
        assert report["duplicates"] == 0 and report["out_of_range"] == 0
        assert report["joined"] == clients and report["failed"] == 0
        assert report["disconnected"] == 0
        assert report["frames"] == clients * messages
        assert 0 <= report["p50_ms"] <= report["p99_ms"] <= report["max_ms"] < 5000
        assert report["negative_latencies"] == 0
        assert report["first_receive"] <= report["last_receive"] <= time.time()
        assert report["acks_sent"] == clients * messages == acks
        assert report["cpu_user_s"] + report["cpu_sys_s"] > 0
        assert 0 < gen.cpu_fraction(report["wall_s"]) <= 1.5

    asyncio.run(main())


# ---- a hand-written server, to control exactly what bytes and frames go out ----


def _server_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


async def _client_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One frame from the client; it must be masked (RFC 6455 section 5.3)."""
    b0, b1 = await reader.readexactly(2)
    assert b0 & 0x80, "fragmented client frame"
    assert b1 & 0x80, "unmasked client frame"
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4)
    data = await reader.readexactly(n)
    return b0 & 0x0F, bytes(c ^ mask[i % 4] for i, c in enumerate(data))


def test_raw_frames_batching_large_frames_ping_replies_and_burst_acks() -> None:
    """Batched markers, a 70,000-byte frame sent in pieces, a 16-bit length, several frames in
    one write, a ping, Engine.IO-style reply rules, and cumulative burst ACKs."""
    clients = 3
    go = asyncio.Event()
    received: dict[int, list[tuple[int, bytes]]] = {}
    keys: set[bytes] = set()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        lines = request.decode().split("\r\n")
        assert lines[0].startswith("GET /raw/") and lines[0].endswith(" HTTP/1.1")
        index = int(lines[0].split()[1].rsplit("/", 1)[1])
        headers = {k.lower(): v for k, v in (x.split(": ", 1) for x in lines[1:] if x)}
        assert headers["upgrade"].lower() == "websocket"
        assert headers["sec-websocket-version"] == "13"
        assert "sec-websocket-extensions" not in headers
        key = headers["sec-websocket-key"].encode()
        assert len(base64.b64decode(key)) == 16
        keys.add(key)
        accept = base64.b64encode(
            hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
        )
        # The 101 and the first frame in one write: the client must split them itself.
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n" + _server_frame(b'0{"sid":"abc"}')
        )
        assert await _client_frame(reader) == (0x1, b"hello")
        assert await _client_frame(reader) == (0x1, b"40")  # prefix rule 0{ => 40
        writer.write(_server_frame(b"23") + _server_frame(b"2"))  # exact rule: only "2" => "3"
        assert await _client_frame(reader) == (0x1, b"3")
        writer.write(_server_frame(b"[0,200]"))  # now joined
        await go.wait()
        frames: list[tuple[int, bytes]] = received.setdefault(index, [])

        async def read_all() -> None:
            try:
                while True:
                    frames.append(await _client_frame(reader))
                    if frames[-1][0] == 0x8:  # the generator is done: answer its close
                        writer.write(_server_frame(frames[-1][1], opcode=0x8))
                        return
            except asyncio.IncompleteReadError:
                pass

        reading = asyncio.create_task(read_all())
        batched = f'[1,"PUBLISH",{{"text":"{_marker(0)}"}},{{"text":"{_marker(1)}"}}]'
        writer.write(_server_frame(batched.encode()))
        big = f'[2,"PUBLISH",{{"text":"{_marker(2)}","pad":"'.encode()
        big = _server_frame(big + b"x" * (70000 - len(big) - 3) + b'"}]')
        assert len(big) == 70000 + 10
        cuts = [0, 1, 5, 9, 4000, 65000, 69999, len(big)]  # split across reads, even the header
        for a, b in zip(cuts, cuts[1:], strict=False):
            writer.write(big[a:b])
            await writer.drain()
            await asyncio.sleep(0.005)
        mid = f'[3,"PUBLISH",{{"text":"{_marker(3)}","pad":"{"y" * 300}"}}]'
        writer.write(_server_frame(mid.encode()) + _server_frame(b"hi", opcode=0x9))
        await writer.drain()
        await asyncio.sleep(0.35)
        several = b"".join(
            _server_frame(f'[{n},"PUBLISH",{{"text":"{_marker(n)}"}}]'.encode()) for n in (4, 5)
        )
        writer.write(several)
        await writer.drain()
        await reading
        writer.close()

    async def main() -> dict[str, object]:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        gen = LoadGen(
            "127.0.0.1",
            port,
            clients,
            "/raw/{i}",
            hello=["hello"],
            joined_prefix="[0,200",
            reply_exact={"2": "3"},
            reply_prefix={"0{": "40"},
            ack="burst",
            ack_after_ms=100,
            messages=6,
            join_timeout=20,
            cpu=None,
        )
        try:
            await gen.start()
            go.set()
            deadline = time.monotonic() + 10
            while (await gen.stats())["deliveries"] < clients * 6:
                assert time.monotonic() < deadline, gen.report
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # past the last burst's ACK delay
            report = await gen.finish()
        finally:
            gen.kill()
            server.close()
        await asyncio.sleep(0.1)
        return report

    report = asyncio.run(main())
    assert len(keys) == clients  # a fresh random key per client
    assert report["per_message"] == [clients] * 6
    assert report["duplicates"] == 0 and report["out_of_range"] == 0
    assert report["disconnected"] == 0 and report["joined"] == clients
    assert 0 <= report["p50_ms"] <= report["max_ms"] < 5000
    assert sorted(received) == list(range(clients))
    for frames in received.values():
        assert frames[-1] == (0x8, b"\x03\xe8")  # a clean close (1000) at the end
        assert (0xA, b"hi") in frames  # the pong carries the ping's payload
        acks = [int(p[1:-7]) for op, p in frames if op == 0x1 and p.endswith(b',"ACK"]')]
        assert 1 <= len(acks) < 5, acks  # fewer ACKs than pushes
        assert acks == sorted(set(acks)) and acks[-1] == 5, acks
    assert report["acks_sent"] == sum(
        sum(1 for op, p in f if p.endswith(b',"ACK"]')) for f in received.values()
    )
