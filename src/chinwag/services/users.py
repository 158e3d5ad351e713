"""Users: merge-create one or many, read, list."""

from __future__ import annotations

from typing import Any

from chinwag.domain.custom import merge_custom
from chinwag.errors import InvalidRequest, NotFound
from chinwag.schemas import UserPut
from chinwag.serialize import user_json
from chinwag.services.context import Context, Unit
from chinwag.services.events import Event
from chinwag.storage import users as store
from chinwag.storage.records import User


def _fields(body: UserPut) -> dict[str, Any]:
    given = body.given()
    given.pop("pushTokens", None)  # accepted for compatibility; push is not implemented
    if "configuration" in given:
        role = given.pop("configuration")
        given.setdefault("role", role)
    for key in ("email", "phone"):
        if isinstance(given.get(key), str):
            given[key] = [given[key]]
    return given


def put_in(unit: Unit, app_id: str, user_id: str, body: UserPut) -> User:
    """Create or merge one user in the caller's unit."""
    fields = _fields(body)
    existing = store.get_user(unit.tx, app_id, user_id)
    if existing is None:
        if not fields.get("name"):
            raise InvalidRequest(
                f"user {user_id!r} does not exist yet: name is required to create it"
            )
        if "custom" in fields:
            fields["custom"] = merge_custom({}, fields["custom"])
        store.insert_user(unit.tx, app_id, user_id, fields, unit.now)
        kind = "user.created"
    else:
        if "name" in fields and not fields["name"]:
            raise InvalidRequest("name cannot be removed")
        if "custom" in fields:
            fields["custom"] = merge_custom(existing.custom, fields["custom"])
        if fields:
            store.update_user(unit.tx, app_id, user_id, fields, unit.now)
        kind = "user.updated"
    user = store.get_user(unit.tx, app_id, user_id)
    assert user is not None
    if existing is None or user != existing:
        unit.emit(Event(kind, app_id, {"user": user_json(user)}))
    return user


def put_user(ctx: Context, app_id: str, user_id: str, body: UserPut) -> User:
    with ctx.write() as unit:
        return put_in(unit, app_id, user_id, body)


def put_users(ctx: Context, app_id: str, bodies: dict[str, UserPut]) -> list[User]:
    """All or nothing: one invalid user rejects the whole batch, naming each failure."""
    with ctx.write() as unit:
        reasons: list[str] = []
        users = []
        for user_id, body in bodies.items():
            try:
                users.append(put_in(unit, app_id, user_id, body))
            except InvalidRequest as exc:
                reasons += [f"{user_id}: {r}" for r in exc.reasons]
        if reasons:
            raise InvalidRequest(*reasons)
    return users


def get_user(ctx: Context, app_id: str, user_id: str) -> User:
    with ctx.read() as tx:
        user = store.get_user(tx, app_id, user_id)
    if user is None:
        raise NotFound(f"no user {user_id!r}", code="USER_NOT_FOUND")
    return user


def list_users(ctx: Context, app_id: str, limit: int, starting_after: str | None) -> list[User]:
    with ctx.read() as tx:
        return store.list_users(tx, app_id, limit, starting_after)
