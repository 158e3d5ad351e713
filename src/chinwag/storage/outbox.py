"""The outbox: work that must happen because of a committed change, written in the same transaction.

Kinds of rows:

- ``notification``: a batch for one user in one conversation, listing the messages it covers.
  It is *pending* until due (the app's notification delay of quiet), then evaluated once, in one
  transaction, into deliveries.
- ``email`` and ``sms``: one delivery to one address or number.
- ``webhook``: one event for one configured webhook endpoint.

States::

    pending --claim--> sending --ok--> sent | recorded (no provider configured)
       ^                  |  \\--permanent error or attempts used up--> failed
       |                  |   \\--nothing left to send (batches)--> cancelled
       +---retry later----+
    sending (lease expired, email or SMS already handed to the provider) --> unknown

A claimed row carries a lease (owner and expiry). A worker that dies (``kill -9``) leaves its
rows ``sending``; once the lease expires another worker claims them again, except an email or
SMS that was already being handed to the provider (``in_flight``): whether that reached the user
cannot be known, and sending it again could notify twice, so it becomes ``unknown`` (visible in
the log). Webhooks are delivered at least once instead: the receiver deduplicates by event id.

PostgreSQL claims with ``FOR UPDATE SKIP LOCKED`` so several workers share the work; SQLite has a
single writer, whose ``BEGIN IMMEDIATE`` transaction makes each claim exclusive.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from chinwag import ids
from chinwag.domain.notify import Channels
from chinwag.storage.db import Row, Tx
from chinwag.storage.records import dumps, loads

KINDS = ("notification", "email", "sms", "webhook")
DONE = ("sent", "recorded", "failed", "cancelled", "unknown")


@dataclass(frozen=True)
class OutboxItem:
    id: str
    app_id: str
    kind: str
    status: str
    due_at: int
    attempts: int
    in_flight: bool
    lease_owner: str | None
    lease_until: int | None
    conversation_id: str | None
    user_id: str | None
    parent_id: str | None
    webhook_id: str | None
    event_type: str | None
    target: str | None
    payload: dict[str, Any]
    last_status: int | None
    last_error: str | None
    created_at: int
    updated_at: int
    done_at: int | None

    @classmethod
    def from_row(cls, row: Row) -> OutboxItem:
        return cls(
            id=row["id"],
            app_id=row["app_id"],
            kind=row["kind"],
            status=row["status"],
            due_at=int(row["due_at"]),
            attempts=int(row["attempts"]),
            in_flight=bool(row["in_flight"]),
            lease_owner=row["lease_owner"],
            lease_until=row["lease_until"],
            conversation_id=row["conversation_id"],
            user_id=row["user_id"],
            parent_id=row["parent_id"],
            webhook_id=row["webhook_id"],
            event_type=row["event_type"],
            target=row["target"],
            payload=loads(row["payload"]) or {},
            last_status=row["last_status"],
            last_error=row["last_error"],
            created_at=int(row["created_at"]),
            updated_at=int(row["updated_at"]),
            done_at=row["done_at"],
        )


def new_id(kind: str) -> str:
    prefix = {"notification": "ntf", "email": "eml", "sms": "sms", "webhook": "whd"}[kind]
    return f"{prefix}_{ids.random_token(22)}"


def insert(
    tx: Tx,
    app_id: str,
    kind: str,
    payload: dict[str, Any],
    now: int,
    due_at: int | None = None,
    *,
    item_id: str | None = None,
    conversation_id: str | None = None,
    user_id: str | None = None,
    parent_id: str | None = None,
    webhook_id: str | None = None,
    event_type: str | None = None,
    target: str | None = None,
) -> str:
    item_id = item_id or new_id(kind)
    tx.execute(
        "INSERT INTO outbox (id, app_id, kind, status, due_at, attempts, in_flight, "
        "conversation_id, user_id, parent_id, webhook_id, event_type, target, payload, "
        "created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, 0, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            item_id,
            app_id,
            kind,
            now if due_at is None else due_at,
            conversation_id,
            user_id,
            parent_id,
            webhook_id,
            event_type,
            target,
            dumps(payload),
            now,
            now,
        ),
    )
    return item_id


def _lock(tx: Tx) -> str:
    return " FOR UPDATE" if tx.dialect == "postgresql" else ""


def pending_batch(tx: Tx, app_id: str, conversation_id: str, user_id: str) -> OutboxItem | None:
    """The user's batch in this conversation that has not been claimed yet (locked)."""
    row = tx.one(
        "SELECT * FROM outbox WHERE app_id = ? AND conversation_id = ? AND kind = 'notification' "
        "AND status = 'pending' AND user_id = ?" + _lock(tx),
        (app_id, conversation_id, user_id),
    )
    return OutboxItem.from_row(row) if row else None


def update_payload(tx: Tx, item_id: str, payload: dict[str, Any], now: int) -> None:
    tx.execute(
        "UPDATE outbox SET payload = ?, updated_at = ? WHERE id = ?", (dumps(payload), now, item_id)
    )


def delay_batches(tx: Tx, app_id: str, conversation_id: str, due_at: int, now: int) -> None:
    """Quiet restarts: every pending batch of the conversation waits until ``due_at``."""
    tx.execute(
        "UPDATE outbox SET due_at = ?, updated_at = ? WHERE app_id = ? AND conversation_id = ? "
        "AND kind = 'notification' AND status = 'pending' AND due_at < ?",
        (due_at, now, app_id, conversation_id, due_at),
    )


def cancel_batches(tx: Tx, app_id: str, conversation_id: str, now: int, reason: str) -> None:
    tx.execute(
        "UPDATE outbox SET status = 'cancelled', last_error = ?, updated_at = ?, done_at = ? "
        "WHERE app_id = ? AND conversation_id = ? AND kind = 'notification' AND status = 'pending'",
        (reason, now, now, app_id, conversation_id),
    )


def claim(
    tx: Tx,
    owner: str,
    now: int,
    lease_ms: int,
    limit: int,
    *,
    skip_apps: Collection[str] = (),
    skip_webhooks: bool = False,
    take: Callable[[OutboxItem], bool] | None = None,
) -> list[OutboxItem]:
    """Take up to ``limit`` due rows (and rows whose lease expired) for ``owner``.

    Expired rows that were in flight to an email or SMS provider become ``unknown`` instead.
    ``skip_apps`` and ``skip_webhooks`` leave those rows out of the search; ``take`` may refuse
    each remaining candidate (a worker's per-app limits): a refused row is left as it was, for
    a later claim. The search looks a few times further than ``limit`` when ``take`` is given,
    so that one app's backlog does not hide every other app's rows from this claim.
    """
    skip = " FOR UPDATE SKIP LOCKED" if tx.dialect == "postgresql" else ""
    where = ""
    params: list[Any] = []
    if skip_apps:
        where += f" AND app_id NOT IN ({','.join('?' * len(skip_apps))})"
        params += list(skip_apps)
    if skip_webhooks:
        where += " AND kind <> 'webhook'"
    window = limit * 4 if take is not None else limit
    rows = tx.all(
        "SELECT * FROM outbox WHERE status = 'pending' AND due_at <= ?"
        + where
        + " ORDER BY due_at LIMIT ?"
        + skip,
        (now, *params, window),
    )
    rows += tx.all(
        "SELECT * FROM outbox WHERE status = 'sending' AND lease_until <= ?"
        + where
        + " ORDER BY lease_until LIMIT ?"
        + skip,
        (now, *params, window),
    )
    claimed: list[OutboxItem] = []
    for row in rows:
        item = OutboxItem.from_row(row)
        if item.status == "sending" and item.in_flight and item.kind in ("email", "sms"):
            finish(
                tx,
                item.id,
                "unknown",
                now,
                error="the worker stopped while handing this to "
                "the provider; not sent again, so that nobody is notified twice",
            )
            continue
        if take is not None and not take(item):
            continue
        tx.execute(
            "UPDATE outbox SET status = 'sending', in_flight = 0, lease_owner = ?, "
            "lease_until = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?",
            (owner, now + lease_ms, now, item.id),
        )
        claimed.append(
            OutboxItem.from_row(
                {
                    **row,
                    "status": "sending",
                    "in_flight": 0,
                    "lease_owner": owner,
                    "lease_until": now + lease_ms,
                    "attempts": item.attempts + 1,
                    "updated_at": now,
                }
            )
        )
        if len(claimed) >= limit:
            break
    return claimed


def backlog(tx: Tx, now: int) -> dict[str, tuple[int, int]]:
    """Rows waiting for a worker, by kind: ``(count, oldest due time)``. A row waits once it
    is due (a notification batch is not before its quiet delay ends) until it is finished;
    ``sending`` rows count too, since a worker that died leaves them so."""
    rows = tx.all(
        "SELECT kind, COUNT(*) AS n, MIN(due_at) AS oldest FROM outbox "
        "WHERE (status = 'pending' AND due_at <= ?) OR status = 'sending' GROUP BY kind",
        (now,),
    )
    return {str(r["kind"]): (int(r["n"]), int(r["oldest"])) for r in rows}


def hold(tx: Tx, item_id: str, owner: str) -> OutboxItem | None:
    """The row if ``owner`` still holds its lease (locked for this transaction), else None."""
    row = tx.one(
        "SELECT * FROM outbox WHERE id = ? AND status = 'sending' AND lease_owner = ?" + _lock(tx),
        (item_id, owner),
    )
    return OutboxItem.from_row(row) if row else None


def start_attempt(tx: Tx, item_id: str, owner: str, now: int) -> bool:
    """Record that the row is being handed to the provider; False if the lease was lost."""
    return (
        tx.execute(
            "UPDATE outbox SET in_flight = 1, updated_at = ? WHERE id = ? AND status = 'sending' "
            "AND lease_owner = ?",
            (now, item_id, owner),
        )
        == 1
    )


def finish(
    tx: Tx,
    item_id: str,
    status: str,
    now: int,
    last_status: int | None = None,
    error: str | None = None,
) -> None:
    assert status in DONE
    tx.execute(
        "UPDATE outbox SET status = ?, in_flight = 0, lease_owner = NULL, lease_until = NULL, "
        "last_status = ?, last_error = ?, updated_at = ?, done_at = ? WHERE id = ?",
        (status, last_status, error, now, now, item_id),
    )


def retry(
    tx: Tx,
    item_id: str,
    due_at: int,
    now: int,
    last_status: int | None,
    error: str | None,
    keep_claimed: bool = False,
) -> None:
    """Try again at ``due_at``. ``keep_claimed`` (notification batches) leaves the row
    ``sending`` with a lease that ends then, so a newer pending batch of the same user and
    conversation (at most one may be pending) is not in the way; the row is claimed again when
    that lease runs out."""
    status = "sending" if keep_claimed else "pending"
    tx.execute(
        "UPDATE outbox SET status = ?, in_flight = 0, lease_owner = NULL, "
        "lease_until = ?, due_at = ?, last_status = ?, last_error = ?, updated_at = ? "
        "WHERE id = ?",
        (status, due_at if keep_claimed else None, due_at, last_status, error, now, item_id),
    )


def get(tx: Tx, item_id: str) -> OutboxItem | None:
    row = tx.one("SELECT * FROM outbox WHERE id = ?", (item_id,))
    return OutboxItem.from_row(row) if row else None


def log(
    tx: Tx,
    app_id: str,
    kinds: Sequence[str],
    limit: int,
    webhook_id: str | None = None,
) -> list[OutboxItem]:
    """Newest first."""
    marks = ",".join("?" * len(kinds))
    sql = f"SELECT * FROM outbox WHERE app_id = ? AND kind IN ({marks})"
    params: list[Any] = [app_id, *kinds]
    if webhook_id is not None:
        sql += " AND webhook_id = ?"
        params.append(webhook_id)
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
    params.append(limit)
    return [OutboxItem.from_row(r) for r in tx.all(sql, params)]


def prune(tx: Tx, done_before: int) -> int:
    """Forget finished rows older than ``done_before`` (the log keeps what is newer)."""
    return tx.execute(
        "DELETE FROM outbox WHERE done_at IS NOT NULL AND done_at < ?", (done_before,)
    )


def batch_messages(
    tx: Tx, app_id: str, conversation_id: str, message_ids: Sequence[str]
) -> list[Row]:
    """The messages a notification batch lists, as stored now, oldest first."""
    if not message_ids:
        return []
    marks = ",".join("?" * len(message_ids))
    return tx.all(
        f"SELECT id, position, type, sender_id, text, created_at, deleted_at FROM messages "
        f"WHERE app_id = ? AND conversation_id = ? AND id IN ({marks}) ORDER BY position",
        (app_id, conversation_id, *message_ids),
    )


def set_target(tx: Tx, item_id: str, target: str) -> None:
    tx.execute("UPDATE outbox SET target = ? WHERE id = ?", (target, item_id))


def notify_config(tx: Tx, app_id: str) -> tuple[int, Channels]:
    """The app's notification delay (seconds) and channel switches, in one query."""
    row = tx.one(
        "SELECT a.settings AS app_settings, n.settings AS channels FROM apps a "
        "LEFT JOIN notification_settings n ON n.app_id = a.id WHERE a.id = ?",
        (app_id,),
    )
    if row is None:
        return 60, Channels()
    delay = (loads(row["app_settings"]) or {}).get("notificationDelaySeconds", 60)
    return int(delay), Channels.from_json(loads(row["channels"]))


def notify_candidates(tx: Tx, app_id: str, conversation_id: str) -> list[Row]:
    """Members who may want notifications, with their user's contacts and role."""
    return tx.all(
        "SELECT p.user_id, p.access, p.notify, p.member, p.horizon, u.email, u.phone, u.role "
        "FROM participants p JOIN users u ON u.app_id = p.app_id AND u.id = p.user_id "
        "WHERE p.app_id = ? AND p.conversation_id = ? AND p.member = 1 AND p.notify <> 'false'",
        (app_id, conversation_id),
    )
