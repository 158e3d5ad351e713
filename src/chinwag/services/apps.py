"""Apps: creating them, their keys and settings, and authenticating the integrator's backend."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

import jwt

from chinwag import ids
from chinwag.domain.settings import AppSettings
from chinwag.errors import NotFound, Unauthorized
from chinwag.services.context import Context
from chinwag.services.events import Event
from chinwag.storage import apps as store
from chinwag.storage.records import App

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppWithKeys:
    app: App
    secret_keys: list[str]


def create_app(
    ctx: Context, name: str = "default", app_id: str | None = None, secret: str | None = None
) -> AppWithKeys:
    app_id = ids.check_id(app_id, "app id") if app_id else ids.new_app_id()
    secret = secret or ids.new_secret_key()
    with ctx.write() as unit:
        store.insert_app(unit.tx, app_id, name, AppSettings(), unit.now)
        store.insert_secret_key(unit.tx, app_id, secret, unit.now)
        app = store.get_app(unit.tx, app_id)
    assert app is not None
    log.info("created app %s (%s)", app_id, name)
    return AppWithKeys(app, [secret])


def ensure_app(ctx: Context, app_id: str, secret: str) -> tuple[AppWithKeys, bool]:
    """Make sure ``app_id`` exists and accepts ``secret``; return it and whether it was created."""
    with ctx.write() as unit:
        app = store.get_app(unit.tx, app_id)
        created = app is None
        if app is None:
            store.insert_app(
                unit.tx, ids.check_id(app_id, "app id"), app_id, AppSettings(), unit.now
            )
        keys = store.secret_keys(unit.tx, app_id)
        if secret not in keys:
            store.insert_secret_key(unit.tx, app_id, secret, unit.now)
            keys.append(secret)
        app = store.get_app(unit.tx, app_id)
    assert app is not None
    return AppWithKeys(app, keys), created


def list_apps(ctx: Context) -> list[AppWithKeys]:
    with ctx.read() as tx:
        return [AppWithKeys(a, store.secret_keys(tx, a.id)) for a in store.list_apps(tx)]


def get_app(ctx: Context, app_id: str) -> App:
    with ctx.read() as tx:
        app = store.get_app(tx, app_id)
    if app is None:
        raise NotFound(f"no app {app_id!r}", code="APP_NOT_FOUND")
    return app


def secret_keys(ctx: Context, app_id: str) -> list[str]:
    with ctx.read() as tx:
        return store.secret_keys(tx, app_id)


def authenticate_backend(ctx: Context, app_id: str, authorization: str | None) -> App:
    """Check ``Authorization: Bearer <secret key | app JWT>`` for ``app_id``."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("send Authorization: Bearer <secret key or app token>")
    token = authorization[len("Bearer ") :].strip()
    with ctx.read() as tx:
        app = store.get_app(tx, app_id)
        keys = store.secret_keys(tx, app_id) if app else []
    if app is None:
        # Same answer as a wrong key: an unauthenticated caller learns nothing about app ids.
        raise Unauthorized("unknown app id or wrong secret key")
    if any(hmac.compare_digest(token, key) for key in keys):
        return app
    if token.count(".") == 2:
        for key in keys:
            try:
                claims = jwt.decode(token, key, algorithms=["HS256"], issuer=app_id)
            except jwt.InvalidTokenError:
                continue
            if claims.get("tokenType") == "app":
                return app
            raise Unauthorized('the token is not an app token (tokenType must be "app")')
    raise Unauthorized("unknown app id or wrong secret key")


def patch_settings(ctx: Context, app_id: str, changes: dict[str, object]) -> AppSettings:
    with ctx.write() as unit:
        app = store.get_app(unit.tx, app_id)
        if app is None:
            raise NotFound(f"no app {app_id!r}", code="APP_NOT_FOUND")
        settings = app.settings.patched(changes)
        store.update_settings(unit.tx, app_id, settings)
        old, new = app.settings.to_json(), settings.to_json()
        changed = {k: {"from": old[k], "to": new[k]} for k in new if old[k] != new[k]}
        unit.emit(Event("settings.updated", app_id, {**new, "changed": changed}))
    return settings
