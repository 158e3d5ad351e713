"""History benchmark: pages of 50 messages from a conversation of a million messages.

Target (BRIEF section 7): at least 2,000 pages/s, p99 under 20 ms, the oldest page within 2x
the newest. Timed: the real service call :func:`chinwag.services.messages.history` through a
:class:`~chinwag.services.context.Context`, paging with ``startingAfter`` the way the REST API
does. Peers in the same run: the one keyset query a page needs, run bare on a driver connection
(the floor), and the same page fetched with ``OFFSET`` (why the keyset matters).

    python -m bench.history --database sqlite --messages 1000000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import Case
from bench.scratch import MessageFactory, RawConnection, scratch_database, server_version
from chinwag.schemas import ConversationPut, UserPut
from chinwag.services import apps, conversations, users
from chinwag.services import messages as message_service
from chinwag.services.context import Context
from chinwag.storage import conversations as conv_store
from chinwag.storage.db import Database, open_database

TARGET_PAGES_PER_S = 2000
TARGET_P99_MS = 20.0
TARGET_OLDEST_OVER_NEWEST = 2.0

CONVERSATION = "history-bench"
SENDERS = ("alice", "bob", "carol")
ANCHORS = 2000

PAGE_SQL = (
    "SELECT * FROM messages WHERE app_id = ? AND conversation_id = ? AND position < ? "
    "AND deleted_at IS NULL ORDER BY position DESC LIMIT ?"
)
OFFSET_SQL = (
    "SELECT * FROM messages WHERE app_id = ? AND conversation_id = ? "
    "AND deleted_at IS NULL ORDER BY position DESC LIMIT ? OFFSET ?"
)


class Seeded:
    """The seeded conversation and the anchors pages are read from."""

    def __init__(
        self, app_id: str, first: int, last: int, anchors: list[tuple[int, str]], oldest_anchor: str
    ) -> None:
        self.app_id = app_id
        self.first = first  # position of the oldest message
        self.last = last  # position of the newest message
        self.anchors = anchors  # (position, id) of random messages, for startingAfter
        self.oldest_anchor = oldest_anchor  # the id whose page is the 50 oldest messages


def seed(ctx: Context, raw: RawConnection, count: int, page: int, rng_seed: int) -> Seeded:
    """An app, three users, one conversation through the services; ``count`` messages in bulk.

    Messages take the next positions of the conversation's counter (which the memberships
    already advanced), as ``send_messages`` would, and the counter and ``last_message_at``
    end where ``send_messages`` would leave them.
    """
    app_id = apps.create_app(ctx, "bench-history").app.id
    for name in SENDERS:
        users.put_user(ctx, app_id, name, UserPut(name=name.title()))
    conversations.put_conversation(
        ctx,
        app_id,
        CONVERSATION,
        ConversationPut(participants=list(SENDERS), subject="History benchmark"),
    )
    with ctx.read() as tx:
        conv = conv_store.get_conversation(tx, app_id, CONVERSATION)
    assert conv is not None
    base = conv.seq
    factory = MessageFactory(rng_seed)
    wanted = set(
        factory.rng.sample(
            range(base + page + 1, base + count + 1), min(ANCHORS, max(1, count - page))
        )
    )
    oldest_position = base + min(page + 1, count)
    anchors: dict[int, str] = {}
    start_ms = ctx.clock.now_ms() - count

    def rows() -> Any:
        for i in range(1, count + 1):
            position = base + i
            row = factory.row(app_id, CONVERSATION, position, SENDERS[i % 3], start_ms + i)
            if position in wanted or position == oldest_position:
                anchors[position] = row[3]
            yield row

    raw.insert_messages(rows())
    with ctx.db.transaction() as tx:
        tx.execute(
            "UPDATE conversations SET seq = ?, last_message_at = ? WHERE app_id = ? AND id = ?",
            (base + count, start_ms + count, app_id, CONVERSATION),
        )
    message_service.mark_read(ctx, app_id, CONVERSATION, "alice")
    raw.after_bulk_load()
    return Seeded(
        app_id,
        base + 1,
        base + count,
        sorted((p, anchors[p]) for p in wanted),
        anchors[oldest_position],
    )


def build_cases(
    ctx: Context, raw: RawConnection, s: Seeded, page: int, duration: float
) -> list[tuple[Case, Any, dict[str, Any]]]:
    app_id, anchors = s.app_id, s.anchors

    def service_newest(i: int) -> object:
        return message_service.history(ctx, app_id, CONVERSATION, page, None)

    def service_oldest(i: int) -> object:
        return message_service.history(ctx, app_id, CONVERSATION, page, s.oldest_anchor)

    def service_random(i: int) -> object:
        return message_service.history(
            ctx, app_id, CONVERSATION, page, anchors[i % len(anchors)][1]
        )

    def service_worker() -> Any:  # in a forked process: its own connections
        worker_ctx = Context(db=open_database(ctx.db.url))
        return lambda i: message_service.history(
            worker_ctx, app_id, CONVERSATION, page, anchors[i % len(anchors)][1]
        )

    def sql_keyset_worker() -> Any:
        worker_raw = raw.reopen()
        return lambda i: worker_raw.all(
            PAGE_SQL, (app_id, CONVERSATION, anchors[i % len(anchors)][0], page)
        )

    def sql_keyset_random(i: int) -> object:
        return raw.all(PAGE_SQL, (app_id, CONVERSATION, anchors[i % len(anchors)][0], page))

    def sql_keyset_oldest(i: int) -> object:
        return raw.all(PAGE_SQL, (app_id, CONVERSATION, s.first + page, page))

    def sql_offset_random(i: int) -> object:
        return raw.all(
            OFFSET_SQL, (app_id, CONVERSATION, page, s.last - anchors[i % len(anchors)][0] + 1)
        )

    def sql_offset_oldest(i: int) -> object:
        return raw.all(OFFSET_SQL, (app_id, CONVERSATION, page, s.last - s.first + 1 - page))

    fast = {"duration": duration}
    slow = {"duration": duration / 2, "min_ops": 3}
    return [
        (Case("service random page", "service"), service_random, fast),
        (Case("service random page, 2 threads", "service"), service_random, {**fast, "threads": 2}),
        (
            Case("service random page, 2 processes", "service"),
            service_worker,
            {**fast, "processes": 2},
        ),
        (Case("service newest page", "service"), service_newest, fast),
        (Case("service oldest page", "service"), service_oldest, fast),
        (Case("sql keyset random page", "peer"), sql_keyset_random, fast),
        (
            Case("sql keyset random page, 2 processes", "peer"),
            sql_keyset_worker,
            {**fast, "processes": 2},
        ),
        (Case("sql keyset oldest page", "peer"), sql_keyset_oldest, fast),
        (Case("sql offset random page", "peer"), sql_offset_random, slow),
        (Case("sql offset oldest page", "peer"), sql_offset_oldest, slow),
    ]


PEERS = {
    "service random page": "sql keyset random page",
    "service random page, 2 threads": "sql keyset random page",
    "service random page, 2 processes": "sql keyset random page, 2 processes",
    "service oldest page": "sql keyset oldest page",
    "sql offset random page": "sql keyset random page",
    "sql offset oldest page": "sql keyset oldest page",
}


THROUGHPUT_CASES = {
    "one_thread": "service random page",
    "two_threads": "service random page, 2 threads",
    "two_processes": "service random page, 2 processes",
}


def verdict(cases: dict[str, Case]) -> dict[str, Any]:
    """Pages/s passes if one way of running the service (one caller, two threads, or two
    worker processes as a server on two cores would run) reaches the target; p99 is judged on
    the single caller."""
    rates = {key: cases[name].rate for key, name in THROUGHPUT_CASES.items()}
    best = max(rates, key=lambda key: rates[key])
    one = cases["service random page"]
    newest, oldest = cases["service newest page"], cases["service oldest page"]
    ratio = oldest.p50 / newest.p50
    return {
        "pages_per_s": {
            "target": TARGET_PAGES_PER_S,
            **{key: round(rate, 1) for key, rate in rates.items()},
            "best": best,
            "pass": rates[best] >= TARGET_PAGES_PER_S,
        },
        "p99_ms": {
            "target": TARGET_P99_MS,
            "value": round(one.p99, 3),
            "two_processes": round(cases[THROUGHPUT_CASES["two_processes"]].p99, 3),
            "pass": one.p99 < TARGET_P99_MS,
        },
        "oldest_over_newest_p50": {
            "target": TARGET_OLDEST_OVER_NEWEST,
            "value": round(ratio, 3),
            "p99_ratio": round(oldest.p99 / newest.p99, 3),
            "pass": ratio <= TARGET_OLDEST_OVER_NEWEST,
        },
        "service_over_sql_keyset": round(one.rate / cases["sql keyset random page"].rate, 3),
        "service_over_sql_keyset_two_processes": round(
            rates["two_processes"] / cases["sql keyset random page, 2 processes"].rate, 3
        ),
        "offset_oldest_over_keyset_oldest_p50": round(
            cases["sql offset oldest page"].p50 / cases["sql keyset oldest page"].p50, 1
        ),
    }


def run_one(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    with scratch_database(kind) as db:
        return measure(db, kind, args)


def measure(db: Database, kind: str, args: argparse.Namespace) -> dict[str, Any]:
    ctx = Context(db=db)
    raw = RawConnection.to(db)
    try:
        started = time.perf_counter()
        seeded = seed(ctx, raw, args.messages, args.page, args.seed)
        seed_s = time.perf_counter() - started
        print(f"[{kind}] seeded {args.messages} messages in {seed_s:.1f}s; {harness.uptime()}")
        load_before = harness.uptime()
        cases = build_cases(ctx, raw, seeded, args.page, args.duration)
        harness.run_cases(cases, args.runs)
        load_after = harness.uptime()
    finally:
        raw.close()
    named = {c.name: c for c, _, _ in cases}
    title = (
        f"history on {kind}: pages of {args.page} from {args.messages} messages, "
        f"median of {args.runs} runs x {args.duration}s"
    )
    harness.print_table(title, list(named.values()), PEERS)
    result: dict[str, Any] = {
        "benchmark": "history",
        "database": kind,
        "date": harness.now_utc(),
        "machine": harness.machine(server_version(db)),
        "load_before": load_before,
        "load_after": load_after,
        "params": {
            "messages": args.messages,
            "page": args.page,
            "runs": args.runs,
            "duration_s": args.duration,
            "seed_s": round(seed_s, 1),
        },
        "cases": [c.summary() for c in named.values()],
    }
    v = result["verdict"] = verdict(named)
    pages = v["pages_per_s"]
    print(
        f"  pages/s  {pages['one_thread']:.0f} (1 thread), {pages['two_threads']:.0f} "
        f"(2 threads), {pages['two_processes']:.0f} (2 processes)  "
        f"target >= {TARGET_PAGES_PER_S}  {'PASS' if pages['pass'] else 'MISS'}"
    )
    print(
        f"  p99      {v['p99_ms']['value']:.2f} ms  target < {TARGET_P99_MS} ms"
        f"  {'PASS' if v['p99_ms']['pass'] else 'MISS'}"
    )
    print(
        f"  oldest/newest p50 {v['oldest_over_newest_p50']['value']:.2f}x  target <= 2x"
        f"  {'PASS' if v['oldest_over_newest_p50']['pass'] else 'MISS'}"
    )
    print(f"  load: before {load_before}; after {load_after}")
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.history",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--page", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5, help="runs per case; medians are reported")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per case per run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="directory of the JSON result file (default bench/results)",
    )
    args = parser.parse_args(argv)
    if args.messages < 2 * args.page:
        parser.error("--messages must be at least twice --page")
    return args


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = []
    for kind in kinds:
        result = run_one(kind, args)
        key = {"database": kind, "messages": args.messages, "page": args.page}
        path = harness.record("history", key, result, args.results)
        print(f"  recorded in {path.name}")
        results.append(result)
    return results


if __name__ == "__main__":
    main()
