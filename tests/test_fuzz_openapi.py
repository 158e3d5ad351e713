"""Schema-driven fuzzing: schemathesis generates valid and invalid requests from the OpenAPI
spec for every operation, on SQLite and PostgreSQL; none may get a 500 or a status outside the
documented set, and every error has the one error shape."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.storage.db import open_database
from chinwag.web.app import create_app

ALLOWED = {200, 400, 401, 403, 404, 409, 413, 429}


def _operations() -> list[tuple[str, str]]:
    db = open_database("sqlite:///:memory:")
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(Context(db=db)))
    ops = [(r.ok().method.upper(), r.ok().path) for r in schema.get_all_operations()]
    db.close()
    return ops


OPERATIONS = _operations()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def target(request, tmp_path_factory):
    if request.param == "sqlite":
        db = open_database(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'f.db'}")
    else:
        db = open_database(request.getfixturevalue("pg_url"))
    ctx = Context(db=db)
    app = apps.create_app(ctx, "fuzz")
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(ctx))
    yield schema, app.app.id, app.secret_keys[0]
    if request.param == "sqlite":
        db.close()


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_request_gets_a_server_error(target, method, path, mode):
    schema, app_id, secret = target
    operation = schema[path][method.lower()]
    overrides = {"appId": app_id} if "{appId}" in path else None
    strategy = operation.as_strategy(
        generation_mode=mode,
        path_parameters=overrides,
        headers={"Authorization": f"Bearer {secret}"},
    )

    @given(case=strategy)
    @settings(
        max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def run(case):
        response = case.call()
        where = (
            case.method,
            case.formatted_path,
            case.body,
            response.status_code,
            response.text[:300],
        )
        assert response.status_code in ALLOWED, where
        if response.status_code != 200:
            body = response.json()
            assert set(body) == {"errorCode", "reasons"} and body["reasons"], where

    try:
        run()
    except Unsatisfiable:
        # Negative mode on an operation with nothing left to make invalid (no body, no
        # parameters but the fixed app id).
        pytest.skip("no invalid variant of this operation to generate")
