"""``chinwag export``: every row of one app (or of all apps), streamed to JSON lines.

Rules kept, stated first:

- **Everything that is the record, nothing that is not.** Each table of the schema is listed in
  :data:`TABLES` with the column that names its app and its primary key; a test fails when a
  migration adds a table that is not listed. Of the outbox only the rows still ``pending`` are
  carried: delivered, failed and cancelled rows are history, and a row being sent may already
  have left, so carrying it could send twice (``docs/migrating.md`` says what is not carried).
- **One snapshot.** The whole export reads inside one read transaction (SQLite in WAL mode reads
  a snapshot; on PostgreSQL the transaction is ``REPEATABLE READ``), so an export taken while the
  server runs is still consistent: a message is never there without its conversation's counter.
- **Constant memory.** Each table is read in keyset pages on its primary key (never OFFSET) and
  written line by line; the manifest, written last, is what makes a directory a complete dump.
- **Exact values.** A row is a JSON object of its columns as stored: integers stay integers,
  JSON held in TEXT columns stays the same string, so an import writes back the same bytes.

The format (version :data:`FORMAT_VERSION`) is described in ``docs/migrating.md``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from chinwag import __version__
from chinwag.storage.db import Database, Row, Tx

FORMAT = "chinwag-dump"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PAGE = 1000


@dataclass(frozen=True)
class Table:
    """One table of the dump: which column names the app, its key, which rows are carried."""

    name: str
    app_column: str
    key: tuple[str, ...]
    where: str = ""  # an extra condition on the carried rows

    @property
    def file(self) -> str:
        return f"{self.name}.jsonl"


#: In the order an import must write them (a row's references come before it).
TABLES: tuple[Table, ...] = (
    Table("apps", "id", ("id",)),
    Table("secret_keys", "app_id", ("secret",)),
    Table("notification_settings", "app_id", ("app_id",)),
    Table("webhooks", "app_id", ("app_id", "id")),
    Table("users", "app_id", ("app_id", "id")),
    Table("conversations", "app_id", ("app_id", "id")),
    Table("participants", "app_id", ("app_id", "conversation_id", "user_id")),
    Table("messages", "app_id", ("app_id", "conversation_id", "position")),
    Table(
        "message_revisions", "app_id", ("app_id", "conversation_id", "message_id", "replaced_at")
    ),
    Table("reactions", "app_id", ("app_id", "conversation_id", "message_id", "emoji", "user_id")),
    Table("guest_restrictions", "app_id", ("app_id", "conversation_id", "user_id", "kind")),
    Table("invites", "app_id", ("app_id", "id")),
    Table("audit_log", "app_id", ("app_id", "id")),
    Table("outbox", "app_id", ("id",), where="status = 'pending'"),
)

#: Tables of the schema that are deliberately not carried: the target keeps its own migration
#: record, and dashboard sign-ins belong to the server they were made on (sign in again).
NOT_CARRIED = ("schema_migrations", "admin_sessions")


class DumpError(Exception):
    """A dump cannot be written or read; the message says what to do."""


class Progress:
    """Counts rows per table and says so on a stream (stderr), at most every ``every`` rows."""

    def __init__(self, stream: IO[str] | None, verb: str, every: int = 50_000) -> None:
        self.stream = stream
        self.verb = verb
        self.every = every

    def start(self, table: str, total: int) -> None:
        self._table, self._total, self._done, self._said = table, total, 0, 0

    def add(self, rows: int) -> None:
        self._done += rows
        if self._done - self._said >= self.every:
            self._say()

    def finish(self) -> None:
        self._say()

    def _say(self) -> None:
        self._said = self._done
        if self.stream is not None:
            pct = 100 * self._done // self._total if self._total else 100
            print(
                f"{self.verb} {self._table}: {self._done}/{self._total} rows ({pct}%)",
                file=self.stream,
                flush=True,
            )


def schema_version(tx: Tx) -> int:
    row = tx.one("SELECT MAX(version) AS v FROM schema_migrations")
    return int(row["v"]) if row and row["v"] is not None else 0


def _extra(table: Table) -> str:
    return f" AND {table.where}" if table.where else ""


def count_rows(tx: Tx, table: Table, app_ids: Sequence[str]) -> int:
    if not app_ids:
        return 0
    marks = ", ".join("?" for _ in app_ids)
    row = tx.one(
        f"SELECT COUNT(*) AS n FROM {table.name} WHERE {table.app_column} IN ({marks})"
        + _extra(table),
        list(app_ids),
    )
    return int(row["n"]) if row else 0


def pages(tx: Tx, table: Table, app_ids: Sequence[str], size: int = PAGE) -> Iterator[list[Row]]:
    """The table's carried rows, app by app in key order, ``size`` at a time.

    A keyset, never OFFSET: the app is an equality and the rest of the primary key a row-value
    comparison, which both databases answer with a range scan of the primary key (an ``IN``
    list of apps before the comparison would make SQLite scan the whole app on every page).
    """
    rest = [k for k in table.key if k != table.app_column]
    for app_id in app_ids:
        base = f"SELECT * FROM {table.name} WHERE {table.app_column} = ?" + _extra(table)
        if not rest:
            rows = tx.all(base, [app_id])
            if rows:
                yield rows
            continue
        key = ", ".join(rest)
        after: list[Any] | None = None
        while True:
            sql, args = base, [app_id]
            if after is not None:
                sql += f" AND ({key}) > ({', '.join('?' for _ in rest)})"
                args.extend(after)
            rows = tx.all(f"{sql} ORDER BY {key} LIMIT {int(size)}", args)
            if rows:
                yield rows
            if len(rows) < size:
                break
            after = [rows[-1][k] for k in rest]


def _open_new(path: str) -> IO[str]:
    # The dump holds secret keys: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline="\n")


def export(
    db: Database,
    out_dir: str,
    app_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
    now_ms: int | None = None,
) -> dict[str, Any]:
    """Write the dump of ``app_ids`` (every app when None) to ``out_dir``; return the manifest."""
    os.makedirs(out_dir, exist_ok=True)
    if os.path.exists(os.path.join(out_dir, MANIFEST)) or any(
        os.path.exists(os.path.join(out_dir, t.file)) for t in TABLES
    ):
        raise DumpError(f"{out_dir} already holds a dump: export into an empty directory")
    progress = progress or Progress(None, "export")
    with db.read() as tx:
        if tx.dialect == "postgresql":  # one snapshot for the whole export (first statement)
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        known = [r["id"] for r in tx.all("SELECT id FROM apps ORDER BY id")]
        if app_ids is not None:
            missing = sorted(set(app_ids) - set(known))
            if missing:
                raise DumpError(f"no such app in the database: {', '.join(missing)}")
        chosen = sorted(set(app_ids)) if app_ids is not None else known
        tables: list[dict[str, Any]] = []
        for table in TABLES:
            total = count_rows(tx, table, chosen)
            progress.start(table.name, total)
            written = 0
            with _open_new(os.path.join(out_dir, table.file)) as out:
                for page in pages(tx, table, chosen):
                    for row in page:
                        out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
                        out.write("\n")
                    written += len(page)
                    progress.add(len(page))
            progress.finish()
            tables.append({"name": table.name, "file": table.file, "rows": written})
        manifest = {
            "format": FORMAT,
            "formatVersion": FORMAT_VERSION,
            "schemaVersion": schema_version(tx),
            "chinwagVersion": __version__,
            "createdAt": now_ms if now_ms is not None else int(time.time() * 1000),
            "apps": chosen,
            "allApps": app_ids is None,
            "tables": tables,
        }
    with _open_new(os.path.join(out_dir, MANIFEST)) as out:
        json.dump(manifest, out, indent=2)
        out.write("\n")
    return manifest
