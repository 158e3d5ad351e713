"""Sends benchmark without the socket: the service a realtime send runs, from many threads.

What :mod:`bench.fanout_sends` measures end to end, minus the WebSocket and the event loop:
``threads`` threads (the server's thread pool) each send, in a closed loop, a message as the
session's user into their own two-person conversations, through
:func:`chinwag.services.browser.send` on a context with the outbox and audit hooks installed
(as ``chinwag serve`` has them). Tells the database's share of a send from the transport's.

    python -m bench.sends --database sqlite --threads 40 --conversations 500 --duration 5
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import Case
from bench.scratch import scratch_database
from chinwag.notifications import install as install_outbox
from chinwag.schemas import ConversationPut, UserPut
from chinwag.services import apps, browser, conversations, users
from chinwag.services.audit import install as install_audit
from chinwag.services.browser import BrowserMessage
from chinwag.services.context import Context
from chinwag.services.sessions import Session
from chinwag.storage.db import Database


def seed(ctx: Context, count: int) -> tuple[Session, ...]:
    """``count`` two-person conversations ``c{i}``; returns the sending session of each."""
    app = apps.create_app(ctx, "sends-bench").app
    for k in range(0, count, 100):
        chunk = range(k, min(count, k + 100))
        users.put_users(
            ctx,
            app.id,
            {f"u{i}{side}": UserPut(name=f"U{i}{side}") for i in chunk for side in "ab"},
        )
    for i in range(count):
        conversations.put_conversation(
            ctx, app.id, f"c{i}", ConversationPut(participants=[f"u{i}a", f"u{i}b"])
        )
    return tuple(Session(app.id, f"u{i}a", app.settings) for i in range(count))


def send_call(ctx: Context, sessions: tuple[Session, ...], threads: int) -> Any:
    """The call for :func:`bench.harness.timed_run`: thread ``t`` (its ``i`` counts from
    ``t * 1_000_000``) sends into conversations t, t + threads, t + 2 * threads... in turn, so
    no two threads share a conversation, as no two socket clients do."""
    body = BrowserMessage(text="hello there")

    def call(i: int) -> object:
        k = (i // 1_000_000 + (i % 1_000_000) * threads) % len(sessions)
        return browser.send(ctx, sessions[k], f"c{k}", None, body)

    return call


def run(database: str, threads: int, count: int, duration: float, runs: int) -> list[Case]:
    cases: list[Case] = []
    with scratch_database(database) as db:
        ctx = _context(db)
        sessions = seed(ctx, count)
        for n in sorted({1, threads}):
            call = send_call(ctx, sessions, n)
            case = Case(f"browser.send, {n} thread(s)", "service")
            batches, writes = ctx.commits.batches, ctx.commits.writes
            for _ in range(runs):
                case.runs.append(harness.timed_run(call, duration, threads=n))
            batches, writes = ctx.commits.batches - batches, ctx.commits.writes - writes
            case.note = f"{writes / max(1, batches):.1f} sends per commit"
            cases.append(case)
    return cases


def _context(db: Database) -> Context:
    ctx = install_outbox(Context(db=db))
    install_audit(ctx)
    return ctx


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--threads", type=int, default=40)
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--results", type=Path, default=harness.RESULTS_DIR)
    args = parser.parse_args(argv)
    cases = run(args.database, args.threads, args.conversations, args.duration, args.runs)
    for case in cases:
        print(
            f"  {args.database:10} {case.name:28} {case.rate:8.0f}/s  p50 {case.p50:6.2f} ms"
            f"  p99 {case.p99:6.2f} ms  {case.note}  load {case.runs[0].load:.2f}",
            flush=True,
        )
    results = [{"database": args.database, "cases": [c.summary() for c in cases]}]
    harness.write_run(args.results, "sends", results=results)
    return results


if __name__ == "__main__":
    main()
