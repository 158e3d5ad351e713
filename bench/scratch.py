"""Scratch databases for one benchmark run, and the bulk loader that seeds them.

SQLite: a file in a temporary directory, removed afterwards. PostgreSQL: a database created on
the server named by ``CHINWAG_BENCH_PG_URL`` (default: the local admin URL) and dropped after the
run. Both are opened with :func:`chinwag.storage.db.open_database`, so they carry the real schema
and every migration.

Seeding a million messages through the service takes too long, so messages are written by
:class:`RawConnection.insert_messages` in bulk, with exactly the columns and values
:func:`chinwag.storage.messages.insert_message` writes. Everything else (apps, users,
conversations, memberships) goes through the services.
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import string
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg

from chinwag.storage.db import Database, open_database

PG_ADMIN_URL = os.environ.get(
    "CHINWAG_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

MESSAGE_COLUMNS = (
    "app_id",
    "conversation_id",
    "position",
    "id",
    "type",
    "sender_id",
    "text",
    "custom",
    "referenced_message_id",
    "origin",
    "idempotency_key",
    "created_at",
    "seq",
)

_WORDS = (
    "the meeting moved to thursday, can you make it? sounds good to me see you there "
    "i'll send the notes after lunch thanks! did anyone review the pull request yet "
    "shipping the release tonight unless something breaks"
).split()
_ALPHABET = string.ascii_letters + string.digits


class MessageFactory:
    """Message rows as ``send_messages`` would store them, from a seeded random source.

    Ids have the shape of :func:`chinwag.ids.new_message_id` (``msg_`` and 22 letters or
    digits) but come from a seeded generator, so a run is reproducible and seeding stays fast.
    """

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)

    def message_id(self) -> str:
        return "msg_" + "".join(self.rng.choices(_ALPHABET, k=22))

    def text(self) -> str:
        return " ".join(self.rng.choices(_WORDS, k=self.rng.randint(3, 16)))

    def row(
        self, app_id: str, conversation_id: str, position: int, sender_id: str, created_at: int
    ) -> tuple[Any, ...]:
        return (
            app_id,
            conversation_id,
            position,
            self.message_id(),
            "UserMessage",
            sender_id,
            self.text(),
            "{}",
            None,
            "rest",
            None,
            created_at,
            position,
        )


class RawConnection:
    """A direct driver connection to the scratch database: bulk loads and the bare-SQL peers."""

    def __init__(self, dialect: str, url: str) -> None:
        self.dialect = dialect
        self.url = url
        self._sqlite: sqlite3.Connection | None = None
        self._pg: psycopg.Connection[Any] | None = None
        if dialect == "sqlite":
            path = url[len("sqlite:///") :]
            self._sqlite = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        else:
            self._pg = psycopg.connect(url, autocommit=True)

    @classmethod
    def to(cls, db: Database) -> RawConnection:
        return cls(db.dialect, db.url)

    def reopen(self) -> RawConnection:
        """A new connection to the same database (for a forked worker)."""
        return RawConnection(self.dialect, self.url)

    def insert_messages(self, rows: Iterable[Sequence[Any]]) -> None:
        """Insert message rows (in :data:`MESSAGE_COLUMNS` order) in one transaction."""
        if self._sqlite is not None:
            marks = ", ".join("?" * len(MESSAGE_COLUMNS))
            self._sqlite.execute("BEGIN")
            self._sqlite.executemany(
                f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) VALUES ({marks})", rows
            )
            self._sqlite.execute("COMMIT")
        else:
            assert self._pg is not None
            with self._pg.transaction(), self._pg.cursor() as cur:
                with cur.copy(f"COPY messages ({', '.join(MESSAGE_COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)

    def after_bulk_load(self) -> None:
        """PostgreSQL: what autovacuum does after a large insert (statistics, visibility map),
        done now so the first timed run does not race it. SQLite: only a WAL checkpoint, to give
        back the disk the load took twice; no ANALYZE, as Chinwag never runs it."""
        if self._pg is not None:
            self._pg.execute("VACUUM ANALYZE")
        if self._sqlite is not None:
            self._sqlite.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one query and fetch plain tuples: the minimum work a page can cost."""
        if self._sqlite is not None:
            return self._sqlite.execute(sql, params).fetchall()
        assert self._pg is not None
        return self._pg.execute(sql.replace("?", "%s"), params).fetchall()

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._pg is not None:
            self._pg.close()


def server_version(db: Database) -> str:
    if db.dialect == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with db.read() as tx:
        row = tx.one("SHOW server_version")
    return f"PostgreSQL {row['server_version'] if row else '?'}"


@contextlib.contextmanager
def scratch_database(kind: str) -> Iterator[Database]:
    """A fresh, migrated database of ``kind`` (``sqlite`` or ``postgresql``), gone afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="chinwag-bench-") as directory:
            db = open_database(f"sqlite:///{directory}/bench.db")
            try:
                yield db
            finally:
                db.close()
    elif kind == "postgresql":
        name = f"chinwag_bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            db = open_database(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}")
            try:
                yield db
            finally:
                db.close()
        finally:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        raise ValueError(f"unknown database {kind!r}: use sqlite or postgresql")
