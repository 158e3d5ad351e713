"""Database connections for SQLite and PostgreSQL behind one small interface.

SQL is written once, with ``?`` placeholders and portable types; :class:`PostgresDatabase`
rewrites placeholders for psycopg. Every write runs in :meth:`Database.transaction`; SQLite
serialises writers through one connection (WAL lets readers go on meanwhile), PostgreSQL uses a
pool and row locks. :meth:`Tx.savepoint` nests a part that can fail alone inside a transaction
(group commit runs each write of a batch in one).

When PostgreSQL does not answer (restarting, unreachable, or the pool has no connection free
within :data:`POOL_WAIT_SECONDS`), a transaction raises :class:`~chinwag.errors.Unavailable`
(``503 DATABASE_UNAVAILABLE`` with ``Retry-After``) instead of the driver's error, and nothing of
it is committed unless its commit itself was cut (then the client's retry with the same
idempotency key stores a message once). The pool drops dead connections and reconnects by
itself; the first failure also has every idle connection checked, so that one restart costs one
refused request per connection at most, not a stream of them.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol
from urllib.parse import urlparse

from chinwag.errors import Unavailable

log = logging.getLogger(__name__)

Row = dict[str, Any]

#: Seconds a transaction waits for a pooled PostgreSQL connection before answering 503.
POOL_WAIT_SECONDS = 10.0
#: SQLSTATEs of a lost or refused session: class 08 (connection exception), and the server
#: shutting down or starting (57P01-57P03). Serialization failures and deadlocks are not.
_SESSION_LOST = ("08", "57P01", "57P02", "57P03")


def _session_lost(exc: Exception) -> bool:
    state = getattr(exc, "sqlstate", None)
    return state is None or state.startswith(_SESSION_LOST)


class Tx(Protocol):
    dialect: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def savepoint(self) -> contextlib.AbstractContextManager[None]:
        """A part of the transaction that an exception undoes alone: its writes are rolled
        back, the exception goes on, and the transaction stays usable."""
        ...


@contextlib.contextmanager
def _savepoint(tx: Tx) -> Iterator[None]:
    # One name serves: savepoints are entered one at a time, and a nested one with the same
    # name hides the outer one until released, as the SQL standard says.
    tx.execute("SAVEPOINT part")
    try:
        yield
    except BaseException:
        tx.execute("ROLLBACK TO SAVEPOINT part")
        tx.execute("RELEASE SAVEPOINT part")
        raise
    tx.execute("RELEASE SAVEPOINT part")


class Database(Protocol):
    dialect: str
    url: str

    def transaction(self) -> contextlib.AbstractContextManager[Tx]: ...

    def read(self) -> contextlib.AbstractContextManager[Tx]: ...

    def close(self) -> None: ...


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


class _SqliteTx:
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def savepoint(self) -> contextlib.AbstractContextManager[None]:
        return _savepoint(self)


class SqliteDatabase:
    """SQLite in WAL mode: one writer connection behind a lock, one reader per thread."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._write_lock = threading.Lock()
        self._writer = self._connect()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = _dict_row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def read(self) -> Iterator[Tx]:
        if self.path == ":memory:":  # one private database: reads share the writer
            with self.transaction() as tx:
                yield tx
            return
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        conn.execute("BEGIN")
        try:
            yield _SqliteTx(conn)
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._write_lock:
            self._writer.close()


@functools.lru_cache(maxsize=1024)
def _pg_sql(sql: str) -> str:
    return sql.replace("?", "%s")


class _PgTx:
    dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self._conn.execute(_pg_sql(sql), params, prepare=False)
        return int(cur.rowcount)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._conn.execute(_pg_sql(sql), params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        rows: list[Row] = self._conn.execute(_pg_sql(sql), params).fetchall()
        return rows

    def savepoint(self) -> contextlib.AbstractContextManager[None]:
        return _savepoint(self)


class PostgresDatabase:
    """PostgreSQL through a psycopg connection pool."""

    dialect = "postgresql"

    def __init__(self, url: str, max_size: int = 10) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.url = url
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs={"row_factory": dict_row, "autocommit": False},
            open=True,
        )
        self._pool.wait(timeout=15)
        self._checking = threading.Lock()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._session() as tx:
            yield tx

    @contextlib.contextmanager
    def read(self) -> Iterator[Tx]:
        with self._session() as tx:
            yield tx

    @contextlib.contextmanager
    def _session(self) -> Iterator[Tx]:
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            with self._pool.connection(timeout=POOL_WAIT_SECONDS) as conn:
                with conn.transaction():
                    yield _PgTx(conn)
        except PoolTimeout as exc:
            waited = f"the database did not answer within {POOL_WAIT_SECONDS:g} s"
            raise Unavailable(1, waited) from exc
        except psycopg.OperationalError as exc:
            if not _session_lost(exc):
                raise
            log.warning("database: %s", str(exc).splitlines()[0] if str(exc) else repr(exc))
            self._check_idle()
            raise Unavailable(1, "the connection to the database was lost") from exc

    def _check_idle(self) -> None:
        """Have the pool test its idle connections (in the background, one check at a time):
        after a server restart they are all dead, and each would fail one request."""
        if not self._checking.acquire(blocking=False):
            return

        def check() -> None:
            try:
                self._pool.check()
            except Exception as exc:  # the server is still down: the pool keeps reconnecting
                log.debug("database: idle connection check failed: %s", exc)
            finally:
                self._checking.release()

        threading.Thread(target=check, name="chinwag-db-check", daemon=True).start()

    def close(self) -> None:
        self._pool.close()


def open_database(url: str) -> Database:
    """Open ``sqlite:///path`` or ``postgresql://...`` and bring its schema up to date."""
    from chinwag.storage.migrations import migrate

    scheme = urlparse(url).scheme
    db: Database
    if scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else url[len("sqlite://") :]
        db = SqliteDatabase(path or ":memory:")
    elif scheme in ("postgresql", "postgres"):
        db = PostgresDatabase(url)
    else:
        raise ValueError(
            f"unsupported database URL scheme {scheme!r}: use sqlite:/// or postgresql://"
        )
    migrate(db)
    return db


def redact(url: str) -> str:
    """The URL with any password hidden, for logs."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url
