"""RFC 6455 rules of the native transport, as plain functions (realtime/frames.py): the opening
handshake, masks, fragments, control frames and limits."""

from __future__ import annotations

import os
import struct

import pytest

from chinwag.realtime import frames

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # the RFC's own example
GOOD = {
    "host": "x",
    "upgrade": "websocket",
    "connection": "keep-alive, Upgrade",
    "sec-websocket-version": "13",
    "sec-websocket-key": KEY,
}


def client_frame(
    opcode: int, payload: bytes, fin: bool = True, mask: bool = True, rsv: int = 0
) -> bytes:
    b0 = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    if n < 126:
        head = bytes((b0, (0x80 if mask else 0) | n))
    elif n < 65536:
        head = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        head = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def test_accept_key_is_the_rfc_example() -> None:
    assert frames.accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in frames.switching_protocols(KEY)


def test_request_head_is_read_once_complete() -> None:
    head = (
        b"GET /v1/a/realtime/u%20x?signature=ab&token= HTTP/1.1\r\n"
        b"Host: x\r\nX-A: 1\r\nx-a: 2\r\n"
    )
    assert frames.read_request(head) is None
    method, target, headers = frames.read_request(head + b"\r\n") or ("", "", {})
    assert (method, target) == ("GET", "/v1/a/realtime/u%20x?signature=ab&token=")
    assert headers == {"host": "x", "x-a": "1, 2"}
    up = frames.check_upgrade(method, target, GOOD)
    assert up.segments == ("v1", "a", "realtime", "u x")
    assert up.query == {"signature": "ab", "token": ""}


@pytest.mark.parametrize(
    ("method", "change", "status"),
    [
        ("POST", {}, 405),
        ("GET", {"upgrade": "h2c"}, 400),
        ("GET", {"connection": "close"}, 400),
        ("GET", {"sec-websocket-version": "8"}, 426),
        ("GET", {"sec-websocket-key": "short"}, 400),
        ("GET", {"sec-websocket-key": "!!!!"}, 400),
    ],
)
def test_bad_upgrades_are_refused(method: str, change: dict[str, str], status: int) -> None:
    with pytest.raises(frames.HandshakeError) as caught:
        frames.check_upgrade(method, "/v1/a/realtime/u", {**GOOD, **change})
    assert caught.value.status == status
    response = frames.http_error(caught.value)
    assert response.startswith(f"HTTP/1.1 {status} ".encode())
    if status == 426:
        assert b"Sec-WebSocket-Version: 13" in response


def test_oversized_or_malformed_heads() -> None:
    with pytest.raises(frames.HandshakeError) as caught:
        frames.read_request(b"GET / HTTP/1.1\r\nX: " + b"y" * frames.MAX_HANDSHAKE_BYTES)
    assert caught.value.status == 431
    for head in (b"GET /\r\n\r\n", b"GET / SPDY/3\r\n\r\n", b"GET / HTTP/1.1\r\nnocolon\r\n\r\n"):
        with pytest.raises(frames.HandshakeError):
            frames.read_request(head)


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 200_000])
def test_server_frames_carry_any_length(size: int) -> None:
    data = frames.frame(frames.OP_TEXT, b"x" * size)
    assert data[0] == 0x81 and not data[1] & 0x80  # final, text, never masked
    head_len = {0: 2, 5: 2, 125: 2, 126: 4, 65535: 4, 65536: 10, 200_000: 10}[size]
    assert len(data) == head_len + size
    masked = client_frame(frames.OP_TEXT, b"x" * size)
    assert frames.FrameReader(1 << 20).feed(masked) == [(frames.OP_TEXT, b"x" * size)]


def test_reader_takes_any_split_and_several_frames_per_read() -> None:
    stream = (
        client_frame(frames.OP_TEXT, b"hello")
        + client_frame(frames.OP_PING, b"p")
        + client_frame(frames.OP_TEXT, "é".encode() * 300)
    )
    expected = [
        (frames.OP_TEXT, b"hello"),
        (frames.OP_PING, b"p"),
        (frames.OP_TEXT, "é".encode() * 300),
    ]
    assert frames.FrameReader(4096).feed(stream) == expected
    for cut in (1, 2, 3, 7, 11, 50):
        reader = frames.FrameReader(4096)
        got = []
        for i in range(0, len(stream), cut):
            got += reader.feed(stream[i : i + cut])
        assert got == expected, cut


def test_fragments_are_joined_with_control_frames_between() -> None:
    reader = frames.FrameReader(100)
    got = reader.feed(
        client_frame(frames.OP_TEXT, b"ab", fin=False)
        + client_frame(frames.OP_PING, b"")
        + client_frame(frames.OP_CONTINUATION, b"cd", fin=False)
        + client_frame(frames.OP_CONTINUATION, b"ef")
    )
    assert got == [(frames.OP_PING, b""), (frames.OP_TEXT, b"abcdef")]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (client_frame(frames.OP_TEXT, b"x", mask=False), 1002),
        (client_frame(frames.OP_TEXT, b"x", rsv=0x40), 1002),
        (client_frame(0x3, b"x"), 1002),
        (client_frame(frames.OP_CONTINUATION, b"x"), 1002),
        (client_frame(frames.OP_PING, b"x" * 126), 1002),
        (client_frame(frames.OP_PING, b"", fin=False), 1002),
        (
            client_frame(frames.OP_TEXT, b"a", fin=False) + client_frame(frames.OP_TEXT, b"b"),
            1002,
        ),
        (client_frame(frames.OP_TEXT, b"x" * 101), 1009),
        (
            client_frame(frames.OP_TEXT, b"x" * 60, fin=False)
            + client_frame(frames.OP_CONTINUATION, b"x" * 60),
            1009,
        ),
    ],
)
def test_broken_framing_closes_with_its_code(data: bytes, code: int) -> None:
    with pytest.raises(frames.FrameError) as caught:
        frames.FrameReader(100).feed(data)
    assert caught.value.code == code


def test_a_too_big_frame_is_refused_from_its_head_alone() -> None:
    head = struct.pack("!BBQ", 0x81, 0x80 | 127, 1 << 40)
    with pytest.raises(frames.FrameError) as caught:
        frames.FrameReader(1024).feed(head)
    assert caught.value.code == 1009


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", (1005, "")),
        (struct.pack("!H", 1000) + b"bye", (1000, "bye")),
        (struct.pack("!H", 4001), (4001, "")),
    ],
)
def test_close_frames_read(payload: bytes, expected: tuple[int, str]) -> None:
    assert frames.read_close(payload) == expected


@pytest.mark.parametrize(
    "payload", [b"\x03", struct.pack("!H", 1005), struct.pack("!H", 999), b"\x03\xe8\xff"]
)
def test_bad_close_frames(payload: bytes) -> None:
    with pytest.raises(frames.FrameError):
        frames.read_close(payload)


def test_close_reason_fits_a_control_frame() -> None:
    data = frames.close(4401, "é" * 200)
    assert data[0] == 0x88 and data[1] <= 125
    code, reason = frames.read_close(data[2:])
    assert code == 4401 and reason == "é" * 61
