"""``chinwag import-talkjs``: the command around :class:`chinwag.importers.talkjs.TalkJSImporter`.

The target app has the source's app id and accepts its secret key, so the integrator's backend
moves by changing its API base URL only. Progress goes to stderr (one line redrawn on a
terminal, a line every few seconds otherwise); the summary to stdout, or as JSON with
``--summary-json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import IO

from chinwag.config import Config
from chinwag.importers.talkjs import State, Summary, TalkJSImporter
from chinwag.importers.talkjs_api import DEFAULT_API_URL, SourceError, TalkJSApi
from chinwag.services import apps
from chinwag.services.audit import install as install_audit
from chinwag.services.context import Context
from chinwag.storage.db import open_database

AddOptions = Callable[[argparse.ArgumentParser, Sequence[str]], None]


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], add_options: AddOptions
) -> None:
    p = sub.add_parser(
        "import-talkjs", help="copy a whole app from the hosted product's REST API (resumable)"
    )
    add_options(p, ["data_dir", "database_url"])
    p.add_argument("--app-id", dest="source_app", required=True, help="the source app's id")
    p.add_argument(
        "--secret-key",
        dest="source_secret",
        required=True,
        help="the source app's secret key (the target app accepts it too)",
    )
    p.add_argument("--api-url", default=DEFAULT_API_URL, help=f"default {DEFAULT_API_URL}")
    p.add_argument(
        "--state",
        default=None,
        help="the resume file (default: DATA_DIR/talkjs-import-<appId>.json)",
    )
    p.add_argument("--dry-run", action="store_true", help="read everything, write nothing")
    p.add_argument("--summary-json", action="store_true", help="print the summary as JSON")


class Meter:
    """The progress line on stderr."""

    def __init__(self, stream: IO[str], every_s: float = 5.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.every_s = every_s
        self._last = 0.0
        self._started = time.monotonic()

    def __call__(self, s: Summary, final: bool = False) -> None:
        now = time.monotonic()
        if not (final or self.tty or now - self._last >= self.every_s):
            return
        self._last = now
        line = (
            f"[import-talkjs] users {s.users}  conversations {s.conversations}  "
            f"messages {s.messages}  skipped {len(s.skipped)}  "
            f"waited out {s.rate_limited} 429s  {now - self._started:.0f}s"
        )
        end = "\n" if final or not self.tty else ""
        print(("\r\x1b[K" if self.tty else "") + line, end=end, file=self.stream, flush=True)


def report(s: Summary, out: IO[str]) -> None:
    verb = "would import" if s.dry_run else "imported"
    print(
        f"{verb}: {s.users} users, {s.conversations} conversations, "
        f"{s.participants} participants, {s.messages} messages",
        file=out,
    )
    if s.messages_present:
        print(f"already there from an earlier run: {s.messages_present} messages", file=out)
    if s.former_senders:
        print(
            f"former participants or guests who sent messages, added as removed "
            f"participants: {s.former_senders}",
            file=out,
        )
    if s.attachments_as_links:
        print(f"attachments carried as links in the text: {s.attachments_as_links}", file=out)
    if s.rate_limited:
        print(f"rate limited {s.rate_limited} times (waited as Retry-After asked)", file=out)
    print(f"skipped: {len(s.skipped)}", file=out)
    for reason, n in Counter(r.split(":")[0] for _, _, r in s.skipped).most_common():
        print(f"  {n} x {reason}", file=out)
    for kind, item, reason in s.skipped[:50]:
        print(f"  {kind} {item}: {reason}", file=out)
    if len(s.skipped) > 50:
        print(f"  ... and {len(s.skipped) - 50} more (--summary-json lists them all)", file=out)


def run(config: Config, args: argparse.Namespace) -> int:
    state_path = args.state or os.path.join(
        config.data_dir, f"talkjs-import-{args.source_app}.json"
    )
    api = TalkJSApi(args.source_app, args.source_secret, args.api_url)
    db = open_database(config.database_url)
    meter = Meter(sys.stderr)
    importer: TalkJSImporter | None = None
    try:
        state = State(None if args.dry_run else state_path, args.source_app)
        ctx = install_audit(Context(db=db))  # no outbox: an import notifies nobody
        if not args.dry_run:
            os.makedirs(os.path.dirname(os.path.abspath(state_path)), exist_ok=True)
            apps.ensure_app(ctx, args.source_app, args.source_secret)
        importer = TalkJSImporter(api, ctx, args.source_app, state, args.dry_run, meter)
        if state.started:
            print(f"[import-talkjs] resuming from {state_path}", file=sys.stderr)
        summary = importer.run()
    except (SourceError, ValueError) as exc:
        print(f"chinwag: import-talkjs: {exc}", file=sys.stderr)
        if importer is not None:
            report(importer.summary, sys.stdout)
        print("run the same command again to resume", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nchinwag: import-talkjs interrupted; run it again to resume", file=sys.stderr)
        return 130
    finally:
        api.close()
        db.close()
    meter(summary, final=True)
    if args.summary_json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        report(summary, sys.stdout)
    return 0
