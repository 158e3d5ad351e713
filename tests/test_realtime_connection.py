"""A connection's sending rules without a socket: frames in order, gathered pushes, push-back
queueing and the resync policy, over a writer that records what it is given."""

from __future__ import annotations

from chinwag.domain.ratelimit import TokenBucket
from chinwag.domain.settings import AppSettings
from chinwag.realtime.connection import Connection
from chinwag.services.sessions import Session


class Recorder:
    def __init__(self) -> None:
        self.paused = False
        self.sent: list[tuple[int, list[str]] | str] = []

    def send(self, frame: str) -> None:
        self.sent.append(frame)

    def publish(self, n: int, events: list[str]) -> None:
        self.sent.append((n, list(events)))

    def abort(self) -> None:
        pass


def _conn(queue_limit: int = 10) -> tuple[Connection, Recorder, list[Connection]]:
    writer = Recorder()
    overflowed: list[Connection] = []
    session = Session("app", "u", AppSettings())
    conn = Connection(session, writer, queue_limit, TokenBucket(1, 1), overflowed.append)
    return conn, writer, overflowed


def test_pushes_gathered_in_a_pass_leave_as_one_frame_and_forced_ones_keep_their_place() -> None:
    conn, writer, _ = _conn()
    other, other_writer, _ = _conn()
    with Connection.corked():
        conn.push("a")
        other.push("x")
        conn.push("b")
        conn.push("ended", force=True)  # e.g. subscription.ended: after a and b, before c
        conn.push("c")
        assert writer.sent == [(0, ["a", "b"]), (1, ["ended"])]
    assert writer.sent == [(0, ["a", "b"]), (1, ["ended"]), (2, ["c"])]
    assert other_writer.sent == [(0, ["x"])]
    conn.push("d")  # outside a pass: at once
    assert writer.sent[-1] == (3, ["d"])


def test_push_back_queues_in_order_and_batches_when_drained() -> None:
    conn, writer, overflowed = _conn(queue_limit=3)
    writer.paused = True
    conn.push("a")
    conn.reply("r1")
    conn.push("b")
    assert writer.sent == []
    writer.paused = False
    conn.drain()
    assert writer.sent == [(0, ["a"]), "r1", (1, ["b"])]
    writer.paused = True
    for text in ("c", "d", "e"):
        conn.push(text)
    conn.reply("r2")
    conn.push("f")  # the fourth queued event: over the limit, the resync policy applies
    assert overflowed == [conn] and conn.overflows == 1
    writer.paused = False
    conn.drain()
    assert writer.sent[-1] == "r2"  # replies are never dropped; the events were
