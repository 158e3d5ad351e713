"""The data subcommands of ``chinwag``: ``export``, ``import`` and ``import-talkjs``.

Kept apart from ``cli.py`` so that the commands that move data live together; ``cli.py`` only
registers them (:func:`add_parsers`) and hands them the loaded configuration (:func:`run`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from chinwag.config import Config
from chinwag.storage.db import open_database, redact
from chinwag.storage.dump import DumpError, Progress, export
from chinwag.storage.load import load

COMMANDS = ("export", "import", "import-talkjs")

AddOptions = Callable[[argparse.ArgumentParser, Sequence[str]], None]


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], add_options: AddOptions
) -> None:
    exp = sub.add_parser("export", help="dump one app or all apps to a directory of JSON lines")
    add_options(exp, ["data_dir", "database_url"])
    exp.add_argument("--out", required=True, help="an empty (or new) directory for the dump")
    exp.add_argument(
        "--app-id",
        dest="only_app",
        action="append",
        help="export this app only (repeat for several); default: every app",
    )
    imp = sub.add_parser("import", help="load a dump written by `chinwag export`")
    add_options(imp, ["data_dir", "database_url"])
    imp.add_argument("--from", dest="from_dir", required=True, help="the dump's directory")
    imp.add_argument(
        "--resume",
        action="store_true",
        help="finish an interrupted import of the same dump (skips rows already there)",
    )
    from chinwag.importers.talkjs_cli import add_parser as add_talkjs

    add_talkjs(sub, add_options)


def run(config: Config, args: argparse.Namespace) -> int:
    if args.command == "import-talkjs":
        from chinwag.importers.talkjs_cli import run as run_talkjs

        return run_talkjs(config, args)
    db = open_database(config.database_url)
    try:
        if args.command == "export":
            manifest = export(db, args.out, args.only_app, Progress(sys.stderr, "export"))
            verb, where = "exported", args.out
        else:
            manifest = load(db, args.from_dir, args.resume, Progress(sys.stderr, "import"))
            verb, where = "imported", redact(config.database_url)
    except DumpError as exc:
        print(f"chinwag: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    rows = {t["name"]: t["rows"] for t in manifest["tables"]}
    print(
        f"{verb} {len(manifest['apps'])} app(s) ({', '.join(manifest['apps'])}) "
        f"{'to' if verb == 'exported' else 'into'} {where}: "
        f"{rows['users']} users, {rows['conversations']} conversations, "
        f"{rows['messages']} messages, {sum(rows.values())} rows in all "
        f"(schema version {manifest['schemaVersion']})"
    )
    return 0
