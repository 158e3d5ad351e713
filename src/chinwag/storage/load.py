"""``chinwag import``: a dump written by :mod:`chinwag.storage.dump` loaded into a database.

Rules kept, stated first:

- **Refuse rather than mix.** The dump must be complete (its manifest is written last), of a
  known format version, and of the target's schema version. An app of the dump that already
  exists in the target is refused with the reason, unless ``resume`` is asked for: then rows
  whose key is already there are skipped, so an interrupted import run again with ``--resume``
  ends with every row exactly once.
- **Exact values.** Rows are written back column for column: positions, the conversations'
  ``seq`` counters, horizons, read positions, frozen views and ids stay what they were, so every
  rule reads the same answer after the move.
- **Constant memory, bounded transactions.** Files are read line by line and written in batches
  of :data:`BATCH` rows, one transaction per batch, in the order of :data:`dump.TABLES` (a row's
  references are always written before it).
- **Carried outbox rows start afresh.** A pending row keeps its due time and attempts but no
  lease: the worker of the target claims it as its own.
- **Checked at the end.** The target's row counts for the imported apps must equal the
  manifest's; a difference is an error that names the table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

from chinwag.storage.db import Database, Row, Tx
from chinwag.storage.dump import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    TABLES,
    DumpError,
    Progress,
    Table,
    count_rows,
    schema_version,
)

BATCH = 2000
#: Bound on the parameters of one SQLite INSERT statement (SQLite allows 32,766).
MAX_PARAMS = 30_000


def read_manifest(from_dir: str) -> dict[str, Any]:
    path = os.path.join(from_dir, MANIFEST)
    if not os.path.exists(path):
        raise DumpError(
            f"{from_dir} has no {MANIFEST}: not a dump, or an export that did not finish"
        )
    with open(path, encoding="utf-8") as f:
        manifest: dict[str, Any] = json.load(f)
    if manifest.get("format") != FORMAT:
        raise DumpError(f"{path} is not a {FORMAT} manifest")
    if manifest.get("formatVersion") != FORMAT_VERSION:
        raise DumpError(
            f"dump format version {manifest.get('formatVersion')} is not supported "
            f"(this Chinwag reads version {FORMAT_VERSION})"
        )
    return manifest


def _rows(path: str) -> Iterator[Row]:
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise DumpError(f"{path}:{number}: not a JSON line ({exc})") from None
            if not isinstance(row, dict):
                raise DumpError(f"{path}:{number}: not a JSON object")
            yield row


def _fresh(table: Table, row: Row) -> Row:
    if table.name == "outbox":
        return {**row, "in_flight": 0, "lease_owner": None, "lease_until": None}
    return row


def _insert(tx: Tx, table: Table, rows: list[Row], resume: bool) -> None:
    columns = list(rows[0])
    if any(list(row) != columns for row in rows):
        raise DumpError(f"{table.file}: rows with different columns")
    names = ", ".join(columns)
    suffix = " ON CONFLICT DO NOTHING" if resume else ""
    if tx.dialect == "postgresql":
        # One parameter per batch: the server maps the JSON onto the table's own column types
        # (psycopg would otherwise spend most of an import splitting huge VALUES lists).
        tx.execute(
            f"INSERT INTO {table.name} ({names}) SELECT {names} "
            f"FROM json_populate_recordset(NULL::{table.name}, ?)" + suffix,
            [json.dumps(rows, ensure_ascii=False)],
        )
        return
    per_statement = max(1, MAX_PARAMS // len(columns))
    one = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        params = [value for row in chunk for value in row.values()]
        tx.execute(
            f"INSERT INTO {table.name} ({names}) VALUES " + ", ".join(one for _ in chunk) + suffix,
            params,
        )


def _check_target(db: Database, manifest: dict[str, Any], resume: bool) -> None:
    with db.read() as tx:
        version = schema_version(tx)
        if manifest["schemaVersion"] != version:
            raise DumpError(
                f"the dump is of schema version {manifest['schemaVersion']}, the target database "
                f"of {version}: run `chinwag migrate` on the older of the two with this "
                "Chinwag's version, export again, then import"
            )
        apps = list(manifest["apps"])
        present = (
            [
                r["id"]
                for r in tx.all(
                    f"SELECT id FROM apps WHERE id IN ({', '.join('?' for _ in apps)})", apps
                )
            ]
            if apps
            else []
        )
    if present and not resume:
        raise DumpError(
            f"the target database already has app(s) {', '.join(sorted(present))}: import into "
            "a database without them, or pass --resume to finish an interrupted import of "
            "this same dump"
        )


def load(
    db: Database,
    from_dir: str,
    resume: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Import the dump in ``from_dir`` into ``db``; return its manifest."""
    manifest = read_manifest(from_dir)
    _check_target(db, manifest, resume)
    progress = progress or Progress(None, "import")
    listed = {t["name"]: t for t in manifest["tables"]}
    for table in TABLES:
        entry = listed.get(table.name)
        if entry is None:
            raise DumpError(f"the manifest lists no table {table.name}")
        path = os.path.join(from_dir, entry["file"])
        if not os.path.exists(path):
            raise DumpError(f"{path} is missing")
        progress.start(table.name, int(entry["rows"]))
        batch: list[Row] = []
        for row in _rows(path):
            batch.append(_fresh(table, row))
            if len(batch) >= BATCH:
                _write(db, table, batch, resume)
                progress.add(len(batch))
                batch = []
        if batch:
            _write(db, table, batch, resume)
            progress.add(len(batch))
        progress.finish()
    verify(db, manifest)
    return manifest


def _write(db: Database, table: Table, batch: list[Row], resume: bool) -> None:
    with db.transaction() as tx:
        _insert(tx, table, batch, resume)


def verify(db: Database, manifest: dict[str, Any], tables: Sequence[Table] = TABLES) -> None:
    """The target holds as many rows of the imported apps as the dump, table by table."""
    apps = list(manifest["apps"])
    listed = {t["name"]: int(t["rows"]) for t in manifest["tables"]}
    wrong: list[str] = []
    with db.read() as tx:
        for table in tables:
            if table.name == "outbox":
                continue  # a worker may already have delivered some of them
            have = count_rows(tx, table, apps) if apps else 0
            if have != listed[table.name]:
                wrong.append(
                    f"{table.name}: {have} rows in the target, {listed[table.name]} in the dump"
                )
    if wrong:
        raise DumpError("the import does not match the dump: " + "; ".join(wrong))
