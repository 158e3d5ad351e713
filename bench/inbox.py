"""Inbox benchmark: the conversation list of a user in 500 conversations, unread counts included.

Target (BRIEF section 7): p99 under 10 ms. Timed: the real service call
:func:`chinwag.services.inbox.user_conversations` through a
:class:`~chinwag.services.context.Context` (what ``GET /users/{id}/conversations`` runs), for the
first page at the default and the largest page size, a page further down (``startingAfter``) and
``unreadsOnly``. Peer in the same run: one SQL statement that returns the same page with its
unread counts and last messages, run bare on a driver connection (the floor).

    python -m bench.inbox --database sqlite --conversations 500
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import Case
from bench.scratch import MessageFactory, RawConnection, scratch_database, server_version
from chinwag.schemas import ConversationPut, ParticipantPatch, UserPut
from chinwag.services import apps, conversations, participants, users
from chinwag.services.context import Context
from chinwag.services.inbox import user_conversations
from chinwag.storage import conversations as conv_store
from chinwag.storage.db import Database
from chinwag.storage.inbox import ACTIVITY

TARGET_P99_MS = 10.0
ME = "me"
DAY_MS = 86_400_000

# The same page as the service, in one statement: the page of memberships by activity first,
# then, for its rows only, the unread count and the newest visible message.
_UPTO = "CASE WHEN p.horizon IS NOT NULL AND p.horizon < c.seq THEN p.horizon ELSE c.seq END"
PEER_SQL = f"""
SELECT page.id, page.unread, page.activity, page.subject, page.custom, page.guest_access,
       page.created_at, page.access, page.notify, page.member, page.read_position,
       page.joined_at, lm.id AS last_id, lm.sender_id AS last_sender, lm.text AS last_text,
       lm.created_at AS last_created_at
FROM (
    SELECT base.*,
           (SELECT COUNT(*) FROM messages m WHERE m.app_id = base.app_id
                AND m.conversation_id = base.id AND m.position > base.read_position
                AND m.position <= base.upto AND m.deleted_at IS NULL
                AND (m.sender_id IS NULL OR m.sender_id <> base.user_id)) AS unread,
           (SELECT m.position FROM messages m WHERE m.app_id = base.app_id
                AND m.conversation_id = base.id AND m.position <= base.upto
                AND m.deleted_at IS NULL ORDER BY m.position DESC LIMIT 1) AS last_position
    FROM (
        SELECT c.id, c.subject, c.custom, c.guest_access, c.created_at, p.app_id, p.user_id,
               p.access, p.notify, p.member, p.read_position, p.joined_at,
               {ACTIVITY} AS activity, {_UPTO} AS upto
        FROM participants p
        JOIN conversations c ON c.app_id = p.app_id AND c.id = p.conversation_id
        WHERE p.app_id = ? AND p.user_id = ?
        ORDER BY activity DESC, c.id DESC LIMIT ?
    ) base
) page
LEFT JOIN messages lm ON lm.app_id = page.app_id AND lm.conversation_id = page.id
    AND lm.position = page.last_position
ORDER BY page.activity DESC, page.id DESC
"""


class Seeded:
    def __init__(
        self, app_id: str, conversation_ids: list[str], messages: int, unread_total: int
    ) -> None:
        self.app_id = app_id
        self.conversation_ids = conversation_ids
        self.messages = messages
        self.unread_total = unread_total


def _group(rng: random.Random, others: list[str]) -> list[str]:
    roll = rng.random()
    size = 1 if roll < 0.7 else rng.randint(2, 7) if roll < 0.95 else rng.randint(20, 40)
    return [ME, *rng.sample(others, size)]


def seed(
    ctx: Context, raw: RawConnection, count: int, per_conversation: int, rng_seed: int
) -> Seeded:
    """``count`` conversations of ``me`` (70% one-to-one, 25% small groups, 5% groups of 21-41)
    made through the services; messages in bulk (1 to 2x ``per_conversation`` each, the last
    ones up to 30 days apart); read positions as ``mark_read`` leaves them: half read to the
    end, a third a few messages behind, the rest far behind. 3% of the memberships are then
    withdrawn (access ``None``) and 2% removed through the services, so history horizons and
    frozen activity are in the mix.
    """
    rng = random.Random(rng_seed)
    factory = MessageFactory(rng_seed)
    app_id = apps.create_app(ctx, "bench-inbox").app.id
    others = [f"user-{k:03d}" for k in range(200)]
    for chunk in (others[:100], others[100:]):
        users.put_users(ctx, app_id, {u: UserPut(name=u.title()) for u in chunk})
    users.put_user(ctx, app_id, ME, UserPut(name="Me"))
    ids = [f"conv-{k:04d}" for k in range(count)]
    members: dict[str, list[str]] = {}
    for conversation_id in ids:
        members[conversation_id] = _group(rng, others)
        conversations.put_conversation(
            ctx,
            app_id,
            conversation_id,
            ConversationPut(participants=members[conversation_id], subject=conversation_id),
        )
    with ctx.read() as tx:
        bases = {c: conv_store.current_seq(tx, app_id, c) for c in ids}

    now = ctx.clock.now_ms()
    plan: dict[str, tuple[int, int]] = {}  # conversation -> (messages, created_at of the last)
    rows: list[tuple[Any, ...]] = []
    for c in ids:
        n = rng.randint(1, 2 * per_conversation)
        last_at = now - rng.randint(0, 30 * DAY_MS)
        plan[c] = (n, last_at)
        for i in range(1, n + 1):
            sender = rng.choice(members[c])
            rows.append(factory.row(app_id, c, bases[c] + i, sender, last_at - (n - i) * 1000))
    raw.insert_messages(rows)

    unread_total = 0
    with ctx.db.transaction() as tx:
        for c in ids:
            n, last_at = plan[c]
            tx.execute(
                "UPDATE conversations SET seq = ?, last_message_at = ? WHERE app_id = ? AND id = ?",
                (bases[c] + n, last_at, app_id, c),
            )
            roll = rng.random()
            behind = 0 if roll < 0.5 else rng.randint(1, 20) if roll < 0.85 else rng.randint(1, n)
            behind = min(behind, n)
            unread_total += behind
            for user_id in members[c]:
                read = bases[c] + n - (behind if user_id == ME else rng.randint(0, n))
                tx.execute(
                    "UPDATE participants SET read_position = ? WHERE app_id = ? "
                    "AND conversation_id = ? AND user_id = ?",
                    (read, app_id, c, user_id),
                )
    for c in rng.sample(ids, max(1, count * 5 // 100)):
        if rng.random() < 0.6:
            participants.patch_participant(ctx, app_id, c, ME, ParticipantPatch(access="None"))
        else:
            participants.delete_participant(ctx, app_id, c, ME)
    raw.after_bulk_load()
    return Seeded(app_id, ids, len(rows), unread_total)


def build_cases(
    ctx: Context, raw: RawConnection, s: Seeded, conversations_count: int, duration: float
) -> list[tuple[Case, Any, dict[str, Any]]]:
    app_id = s.app_id
    rng = random.Random(1)
    anchors = [rng.choice(s.conversation_ids) for _ in range(500)]

    def first_page(limit: int) -> Any:
        return lambda i: user_conversations(ctx, app_id, ME, limit, None, False)

    def random_page(i: int) -> object:
        return user_conversations(ctx, app_id, ME, 10, anchors[i % len(anchors)], False)

    def unreads_only(i: int) -> object:
        return user_conversations(ctx, app_id, ME, 10, None, True)

    def whole_inbox(i: int) -> object:
        after, total = None, 0
        while True:
            page = user_conversations(ctx, app_id, ME, 100, after, False)
            total += len(page)
            if len(page) < 100:
                return total
            after = page[-1]["id"]

    def peer(limit: int) -> Any:
        return lambda i: raw.all(PEER_SQL, (app_id, ME, limit))

    options = {"duration": duration}
    whole = {"duration": duration, "min_ops": 5}
    return [
        (Case("service first page, limit 10", "service"), first_page(10), options),
        (Case("service first page, limit 100", "service"), first_page(100), options),
        (
            Case("service page after a random conversation, limit 10", "service"),
            random_page,
            options,
        ),
        (Case("service unreadsOnly, limit 10", "service"), unreads_only, options),
        (
            Case(f"service whole inbox ({conversations_count} rows, pages of 100)", "service"),
            whole_inbox,
            whole,
        ),
        (Case("sql one statement, limit 10", "peer"), peer(10), options),
        (Case("sql one statement, limit 100", "peer"), peer(100), options),
    ]


PEERS = {
    "service first page, limit 10": "sql one statement, limit 10",
    "service first page, limit 100": "sql one statement, limit 100",
}

TARGET_CASES = (
    "service first page, limit 10",
    "service first page, limit 100",
    "service page after a random conversation, limit 10",
    "service unreadsOnly, limit 10",
)


def verdict(cases: dict[str, Case]) -> dict[str, Any]:
    out: dict[str, Any] = {
        name: {
            "target_p99_ms": TARGET_P99_MS,
            "p99_ms": round(cases[name].p99, 3),
            "pass": cases[name].p99 < TARGET_P99_MS,
        }
        for name in TARGET_CASES
    }
    for service, peer in PEERS.items():
        out[f"{service} / {peer} (ops/s)"] = round(cases[service].rate / cases[peer].rate, 3)
    return out


def measure(db: Database, kind: str, args: argparse.Namespace) -> dict[str, Any]:
    ctx = Context(db=db)
    raw = RawConnection.to(db)
    try:
        started = time.perf_counter()
        seeded = seed(ctx, raw, args.conversations, args.messages_per_conversation, args.seed)
        seed_s = time.perf_counter() - started
        print(
            f"[{kind}] seeded {args.conversations} conversations, {seeded.messages} messages "
            f"({seeded.unread_total} unread for {ME}) in {seed_s:.1f}s; {harness.uptime()}"
        )
        # Same answer from the service and the peer, so the peer is a fair floor.
        service_page = user_conversations(ctx, seeded.app_id, ME, 100, None, False)
        peer_page = raw.all(PEER_SQL, (seeded.app_id, ME, 100))
        assert [(d["id"], d["unreadMessageCount"]) for d in service_page] == [
            (r[0], r[1]) for r in peer_page
        ], "the SQL peer disagrees with the service"
        load_before = harness.uptime()
        cases = build_cases(ctx, raw, seeded, args.conversations, args.duration)
        harness.run_cases(cases, args.runs)
        load_after = harness.uptime()
    finally:
        raw.close()
    named = {c.name: c for c, _, _ in cases}
    title = (
        f"inbox on {kind}: a user in {args.conversations} conversations, "
        f"median of {args.runs} runs x {args.duration}s"
    )
    harness.print_table(title, list(named.values()), PEERS)
    v = verdict(named)
    for name in TARGET_CASES:
        print(
            f"  {name}: p99 {v[name]['p99_ms']:.2f} ms  target < {TARGET_P99_MS} ms  "
            f"{'PASS' if v[name]['pass'] else 'MISS'}"
        )
    print(f"  load: before {load_before}; after {load_after}")
    return {
        "benchmark": "inbox",
        "database": kind,
        "date": harness.now_utc(),
        "machine": harness.machine(server_version(db)),
        "load_before": load_before,
        "load_after": load_after,
        "params": {
            "conversations": args.conversations,
            "messages_per_conversation": args.messages_per_conversation,
            "messages": seeded.messages,
            "unread_for_user": seeded.unread_total,
            "runs": args.runs,
            "duration_s": args.duration,
            "seed_s": round(seed_s, 1),
        },
        "cases": [c.summary() for c in named.values()],
        "verdict": v,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.inbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument(
        "--messages-per-conversation",
        type=int,
        default=100,
        help="average; each conversation gets 1 to 2x this many",
    )
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
    if args.conversations < 2:
        parser.error("--conversations must be at least 2")
    return args


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = []
    for kind in kinds:
        with scratch_database(kind) as db:
            result = measure(db, kind, args)
        key = {
            "database": kind,
            "conversations": args.conversations,
            "messages_per_conversation": args.messages_per_conversation,
        }
        path = harness.record("inbox", key, result, args.results)
        print(f"  recorded in {path.name}")
        results.append(result)
    return results


if __name__ == "__main__":
    main()
