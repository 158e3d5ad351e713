"""The sans-I/O frame protocol, as tables: what each client frame becomes, what each reply is."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chinwag.domain.ratelimit import TokenBucket
from chinwag.errors import ChinwagError, NotFound, RateLimited
from chinwag.realtime import protocol
from chinwag.realtime.protocol import Ack, BadRequest, ProtocolViolation, Request


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[0, "GET", "me"]', Request(0, "GET", "me", None)),
        (
            '[1, "GET", "/me/conversations/", {"limit": 5}]',
            Request(1, "GET", "me/conversations", {"limit": 5}),
        ),
        (
            '[2, "SUBSCRIBE", "me/conversations/c1", {"asGuest": true}, {}]',
            Request(2, "SUBSCRIBE", "me/conversations/c1", {"asGuest": True}),
        ),
        ('[3, "POST", "x", [1, 2]]', Request(3, "POST", "x", [1, 2])),
        ('[4, "ACK"]', Ack(4)),
        (b'[5, "DELETE", "a/b"]', Request(5, "DELETE", "a/b", None)),
    ],
)
def test_valid_frames(text: str | bytes, expected: object) -> None:
    assert protocol.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "code", "status", "reason_part"),
    [
        ('[7, "FETCH", "me"]', "INVALID_FRAME", 400, "unknown method 'FETCH'"),
        ('[7, "get", "me"]', "INVALID_FRAME", 400, "unknown method"),
        ('[7, 5, "me"]', "INVALID_FRAME", 400, "unknown method 'int'"),
        ('[7, "GET"]', "INVALID_FRAME", 400, "path"),
        ('[7, "GET", ""]', "INVALID_FRAME", 400, "path"),
        ('[7, "GET", 3]', "INVALID_FRAME", 400, "path"),
        ('[7, "GET", "me", "data"]', "INVALID_FRAME", 400, "data must be"),
        ('[7, "GET", "me", {}, {}, 1]', "INVALID_FRAME", 400, "at most 5"),
        ('[7, "ACK", 1]', "INVALID_FRAME", 400, "ACK"),
        ('[7, "GET", "' + "a" * 2000 + '"]', "PAYLOAD_TOO_LARGE", 413, "path"),
    ],
)
def test_answerable_bad_frames(text: str, code: str, status: int, reason_part: str) -> None:
    frame = protocol.parse(text)
    assert isinstance(frame, BadRequest) and frame.seq == 7
    assert (frame.error.code, frame.error.status) == (code, status)
    assert reason_part in frame.error.reasons[0]
    assert json.loads(protocol.error_reply(7, frame.error)) == [7, status, frame.error.to_body()]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", protocol.CLOSE_MALFORMED),
        ('{"seq": 1}', protocol.CLOSE_MALFORMED),
        ("[]", protocol.CLOSE_MALFORMED),
        ("[1]", protocol.CLOSE_MALFORMED),
        ('["1", "GET", "me"]', protocol.CLOSE_MALFORMED),
        ('[-1, "GET", "me"]', protocol.CLOSE_MALFORMED),
        ('[true, "GET", "me"]', protocol.CLOSE_MALFORMED),
        ('[1.5, "GET", "me"]', protocol.CLOSE_MALFORMED),
        (b"\xff\xfe", protocol.CLOSE_MALFORMED),
        ('[1, "POST", "x", {"text": "' + "x" * 200_000 + '"}]', protocol.CLOSE_TOO_BIG),
    ],
)
def test_unanswerable_frames_close(text: str | bytes, code: int) -> None:
    with pytest.raises(ProtocolViolation) as info:
        protocol.parse(text)
    assert info.value.code == code and code in protocol.CLOSE_CODES


def test_frame_size_counts_bytes_not_characters() -> None:
    text = '[1, "POST", "x", {"t": "' + "é" * 60 + '"}]'
    assert isinstance(protocol.parse(text, max_bytes=150), Request)
    with pytest.raises(ProtocolViolation):
        protocol.parse(text, max_bytes=120)


@pytest.mark.parametrize(
    ("seq", "status", "body", "expected"),
    [
        (0, 200, {}, [0, 200, {}]),
        (9, 200, {"data": [1, "é"]}, [9, 200, {"data": [1, "é"]}]),
    ],
)
def test_replies(seq: int, status: int, body: Any, expected: list[Any]) -> None:
    assert json.loads(protocol.reply(seq, status, body)) == expected


def test_error_replies_use_the_one_error_shape() -> None:
    assert json.loads(protocol.error_reply(3, NotFound("nope", code="CONVERSATION_NOT_FOUND"))) == [
        3,
        404,
        {"errorCode": "CONVERSATION_NOT_FOUND", "reasons": ["nope"]},
    ]
    limited = json.loads(protocol.error_reply(4, RateLimited(0.25, "slow down")))
    assert limited == [
        4,
        429,
        {"errorCode": "RATE_LIMITED", "reasons": ["slow down"], "retryAfter": 0.25},
    ]


def test_publish_frames_wrap_preserialized_events() -> None:
    events = [json.dumps({"type": "a", "position": 1}), json.dumps({"type": "b"})]
    assert json.loads(protocol.publish(12, events)) == [
        12,
        "PUBLISH",
        {"type": "a", "position": 1},
        {"type": "b"},
    ]


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ChinwagError("bad", code="UNAUTHORIZED"), 4401),
        (NotFound("x", code="APP_NOT_FOUND"), 4404),
        (ChinwagError("many", code="TOO_MANY_CONNECTIONS"), 4429),
        (ChinwagError("id", code="INVALID_ID"), 4400),
    ],
)
def test_refusals_close_with_4000_plus_status(exc: ChinwagError, code: int) -> None:
    got, reason = protocol.close_reason(exc)
    assert got == code and got in protocol.CLOSE_CODES
    assert reason.startswith(exc.code) and len(reason.encode()) <= 123


def test_close_reason_is_cut_to_123_bytes() -> None:
    _, reason = protocol.close_reason(ChinwagError("é" * 200, code="UNAUTHORIZED"))
    assert len(reason.encode()) <= 123


def test_token_bucket() -> None:
    bucket = TokenBucket(rate=2.0, burst=3.0)
    assert [bucket.take(10.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(10.0) == pytest.approx(0.5)
    assert bucket.take(10.5) == 0.0
    assert bucket.take(10.5) > 0
    assert [bucket.take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
