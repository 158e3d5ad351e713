"""The ``chinwag`` command: ``serve``, ``apps``, ``worker``, ``migrate``, ``admin``, ``doctor``,
and the data commands of :mod:`chinwag.cli_data` (``export``, ``import``, ``import-talkjs``)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence

from chinwag import __version__, cli_data, logs, proxies
from chinwag import admin_file as admin_credential
from chinwag.config import OPTIONS, Config, ConfigError, load
from chinwag.notifications import install as install_outbox
from chinwag.notifications import runner as outbox_runner
from chinwag.services import admin as admin_login
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.storage.db import open_database, redact

log = logging.getLogger("chinwag")


def _add_options(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    for name in names:
        var, default, help_ = OPTIONS[name]
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            default=None,
            help=f"{help_} [env {var}; default {default or 'see help'}]",
        )


def _context(config: Config) -> Context:
    return install_outbox(Context(db=open_database(config.database_url)))


def _print_app(out: list[str], app: apps.AppWithKeys, show_secret: bool) -> None:
    out.append(f"  App id:     {app.app.id}")
    if show_secret:
        out.append(f"  Secret key: {app.secret_keys[0]}")


def prepare(config: Config, ctx: Context) -> list[str]:
    """Make sure an app exists (from the environment, or a first default one); say how to use it."""
    lines = [f"Chinwag {__version__} on {config.base_url} (database {redact(config.database_url)})"]
    if config.app_id and config.secret_key:
        app, created = apps.ensure_app(ctx, config.app_id, config.secret_key)
        lines.append("App from CHINWAG_APP_ID" + (" (created)" if created else "") + ":")
        _print_app(lines, app, show_secret=False)
    else:
        existing = apps.list_apps(ctx)
        if not existing:
            app = apps.create_app(ctx, "default")
            lines.append("First start: created an app. Keep the secret key for your backend.")
            _print_app(lines, app, show_secret=True)
        else:
            app = existing[0]
            lines.append(f"Apps: {len(existing)} (list them with `chinwag apps list --secrets`)")
            _print_app(lines, app, show_secret=False)
    lines += [
        f"  REST API:   {config.base_url}/v1/{app.app.id}/",
        f"  API docs:   {config.base_url}/docs",
        f"  Health:     {config.base_url}/healthz",
        f"  Demo:       {config.base_url}/demo?app={app.app.id}",
        f"  Dashboard:  {config.base_url}/dashboard",
        f'  SDK:        <script src="{config.base_url}/talk.js"></script>',
    ]
    return lines


def cmd_serve(config: Config) -> int:
    from chinwag.web.app import create_app
    from chinwag.web.realtime import presence
    from chinwag.web.server import CannotListen, Server, listen, uvicorn_config

    # The address first: when it is taken, nothing is created, migrated or printed but why.
    try:
        sock = listen(config.host, config.port)
    except CannotListen as exc:
        print(f"chinwag: {exc}", file=sys.stderr, flush=True)
        return 1
    config = dataclasses.replace(config, port=sock.getsockname()[1])  # port 0: the one taken
    ctx = _context(config)
    for line in prepare(config, ctx):
        print(line, flush=True)
    admin_path = admin_credential.path_in(config.data_dir)
    admin, new_password = admin_login.prepare(admin_path, config.admin_password)
    if new_password:
        print(
            f"  Dashboard admin password (shown once; set CHINWAG_ADMIN_PASSWORD to choose): "
            f"{new_password}",
            flush=True,
        )
    # The server follows the file: `chinwag admin reset-password` takes effect without a restart.
    trusted = proxies.TrustedProxies(proxies.parse(config.trusted_proxies))
    app = create_app(
        ctx,
        config.broker_url,
        admin=admin_credential.FollowedAdmin.follow(admin, admin_path),
        metrics_token=config.metrics_token,
        trusted_proxies=trusted,
    )
    outbox_worker = outbox_runner.start_in_server(config, ctx, presence(app))
    try:
        served = uvicorn_config(
            app,
            config.host,
            config.port,
            pending_per_address=config.http_pending_per_address,
            trusted=trusted,
            log_level=config.log_level,
        )
        Server(served).run(sockets=[sock])
    finally:
        outbox_runner.stop(outbox_worker)
        ctx.db.close()
    return 0


def cmd_apps(config: Config, args: argparse.Namespace) -> int:
    ctx = _context(config)
    try:
        if args.apps_command == "create":
            app = apps.create_app(ctx, args.name)
            print(f"app id: {app.app.id}\nsecret key: {app.secret_keys[0]}")
        else:
            listed = apps.list_apps(ctx)
            if not listed:
                print("no apps yet: run `chinwag apps create`")
            for a in listed:
                keys = ", ".join(a.secret_keys) if args.secrets else f"{len(a.secret_keys)} key(s)"
                print(f"{a.app.id}\t{a.app.name}\t{keys}")
    finally:
        ctx.db.close()
    return 0


def cmd_admin(config: Config, command: str) -> int:
    path = admin_credential.path_in(config.data_dir)
    if command == "show":
        for line in admin_credential.status(path, config.admin_password).lines():
            print(line)
        return 0
    try:
        password = admin_credential.reset(path, config.admin_password)
    except admin_credential.ResetRefused as exc:
        print(f"chinwag: {exc}", file=sys.stderr)
        return 1
    print(f"New dashboard admin password (shown once): {password}")
    print("The old one no longer works, and everyone signed in is signed out; running servers")
    print(f"that use {os.path.abspath(path)} take it at once.")
    return 0


def cmd_migrate(config: Config) -> int:
    from chinwag.storage.migrations import LATEST

    ctx = _context(config)
    ctx.db.close()
    print(f"database {redact(config.database_url)} is at schema version {LATEST}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chinwag", description="Self-hosted chat server.")
    parser.add_argument("--version", action="version", version=f"chinwag {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server")
    _add_options(serve, list(OPTIONS))
    apps_p = sub.add_parser("apps", help="create and list apps")
    _add_options(apps_p, ["data_dir", "database_url"])
    apps_sub = apps_p.add_subparsers(dest="apps_command", required=True)
    create = apps_sub.add_parser("create", help="create an app and print its id and secret key")
    create.add_argument("--name", default="app")
    listing = apps_sub.add_parser("list", help="list apps")
    listing.add_argument("--secrets", action="store_true", help="print the secret keys too")
    worker_p = sub.add_parser("worker", help="deliver notifications and webhooks (no HTTP)")
    _add_options(worker_p, outbox_runner.WORKER_OPTIONS)
    worker_p.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    _add_options(migrate, ["data_dir", "database_url"])
    admin_p = sub.add_parser("admin", help="the dashboard's admin password")
    _add_options(admin_p, ["data_dir"])
    admin_sub = admin_p.add_subparsers(dest="admin_command", required=True)
    admin_sub.add_parser(
        "show", help="where the admin credential is kept and whether one is set (not the password)"
    )
    admin_sub.add_parser(
        "reset-password", help="make a new admin password, print it once, sign everyone out"
    )
    cli_data.add_parsers(sub, _add_options)
    doctor_p = sub.add_parser(
        "doctor", help="check the configuration before going live (database, Redis, SMTP, ...)"
    )
    _add_options(doctor_p, list(OPTIONS))
    args = parser.parse_args(argv)

    overrides = {k: v for k, v in vars(args).items() if k in OPTIONS}
    try:
        config = load(overrides)
    except ConfigError as exc:
        print(f"chinwag: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(config.log_level, config.log_format)
    try:
        if args.command == "serve":
            return cmd_serve(config)
        if args.command == "worker":
            return outbox_runner.cmd_worker(config, args.once)
        if args.command == "apps":
            return cmd_apps(config, args)
        if args.command == "admin":
            return cmd_admin(config, args.admin_command)
        if args.command in cli_data.COMMANDS:
            return cli_data.run(config, args)
        if args.command == "doctor":
            from chinwag.doctor import cmd_doctor

            return cmd_doctor(config)
        return cmd_migrate(config)
    except KeyboardInterrupt:  # Ctrl+C before the server took over the signals (at start)
        print("chinwag: interrupted", file=sys.stderr)
        return 130
