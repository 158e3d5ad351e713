"""The OpenAPI document of ``/openapi.json``, made to tell the truth about the REST API.

FastAPI derives a document from the routes; this module corrects it in one place.

Rules kept:

- Every operation of ``/v1`` declares exactly the statuses the server answers: 200, and 400,
  401, 429 and 503 always, 413 when it takes a body, 404 when its path names a resource, 403
  and 409 where :data:`chinwag.web.openapi_shapes.SHAPES` says so. Never FastAPI's 422:
  invalid input is 400.
- Every error answer has the one schema, ``Error``: ``{"errorCode": string, "reasons":
  [string]}``; a 429 and a 503 also declare their ``Retry-After`` header.
- Security is declared as schemes, not as an ``Authorization`` parameter: the secret key as a
  bearer token, or an app JWT (HS256, ``tokenType: "app"``, ``iss`` = app id).
- The limits the server enforces and JSON Schema can say are in the schemas (lengths, counts,
  the id charset, the size of custom maps); the rest (body size, rate, NUL) are in the
  description of the document and of the 413 and 429 answers.
- Every operation has an example response, and every request body an example.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from chinwag.domain import limits as L
from chinwag.errors import ERROR_CODES
from chinwag.ids import ID_PATTERN, ID_RULE
from chinwag.web.openapi_shapes import SHAPES

SECURITY_SCHEMES = {
    "secretKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <secret key>`: one of the app's secret keys.",
    },
    "appToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            '`Authorization: Bearer <JWT>`: HS256, signed with a secret key, `tokenType: "app"`, '
            "`iss` = the app id; `exp` is honoured."
        ),
    },
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["errorCode", "reasons"],
    "additionalProperties": False,
    "properties": {
        "errorCode": {"type": "string", "enum": sorted(ERROR_CODES)},
        "reasons": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "example": {"errorCode": "USER_NOT_FOUND", "reasons": ["no user 'nobody'"]},
}
_SUMMARY = {
    400: "Invalid input: a wrong type, an unknown field, a value out of bounds, a bad id.",
    401: "Missing or wrong secret key or app token, or an unknown app id.",
    403: "Refused by the access rules.",
    404: "The app, user, conversation, message or other resource does not exist.",
    409: "Conflicts with the state: the participant limit, a reused idempotency key.",
    413: f"The request body is over {L.MAX_BODY_BYTES} bytes.",
    429: (
        f"Over the rate limit ({L.REST_RATE_PER_SECOND:g} requests/s per app and node, bursts "
        f"of {L.REST_BURST}); retry after the `Retry-After` seconds."
    ),
    503: (
        "The database did not answer (restarting or unreachable); retry after the "
        "`Retry-After` seconds. A message sent again with the same `idempotencyKey` is stored "
        "once."
    ),
}
_EXAMPLE_CODE = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "NOT_A_PARTICIPANT",
    404: "CONVERSATION_NOT_FOUND",
    409: "PARTICIPANT_LIMIT_REACHED",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED",
    503: "DATABASE_UNAVAILABLE",
}
DESCRIPTION = f"""The REST API v1 for the integrator's backend (docs/api.md).

Every error answer is `{{"errorCode": "...", "reasons": ["..."]}}` with one of the statuses
400, 401, 403, 404, 409, 413, 429 or 503. No value is coerced (`"yes"` is not a boolean) and unknown
fields are errors.

Limits: request bodies up to {L.MAX_BODY_BYTES} bytes; ids {ID_RULE}; `custom` maps up to
{L.MAX_CUSTOM_KEYS} keys of 1-{L.MAX_CUSTOM_KEY} characters and values up to
{L.MAX_CUSTOM_VALUE}; message text 1-{L.MAX_TEXT} characters; no string may contain NUL
(`\\u0000`); pages up to {L.MAX_PAGE} items; {L.REST_RATE_PER_SECOND:g} requests/s per app and
node, bursts of {L.REST_BURST}.
"""
_ID_SCHEMA = {"type": "string", "pattern": ID_PATTERN.pattern, "maxLength": 128, "minLength": 1}
_CUSTOM_LIMITS = {
    "maxProperties": L.MAX_CUSTOM_KEYS,
    "propertyNames": {"minLength": 1, "maxLength": L.MAX_CUSTOM_KEY},
}


def _error_response(status: int) -> dict[str, Any]:
    codes = ", ".join(f"`{c}`" for c, (s, _) in ERROR_CODES.items() if s == status)
    answer: dict[str, Any] = {
        "description": f"{_SUMMARY[status]} errorCode: {codes}.",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "example": {
                    "errorCode": _EXAMPLE_CODE[status],
                    "reasons": [ERROR_CODES[_EXAMPLE_CODE[status]][1]],
                },
            }
        },
    }
    if status in (429, 503):
        answer["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return answer


def _limit_custom(schema: Any) -> None:
    """Put the limits of custom maps, which a validator function enforces, in the schema."""
    if isinstance(schema, dict):
        for name, prop in schema.get("properties", {}).items():
            if name == "custom":
                for variant in prop.get("anyOf", [prop]):
                    if variant.get("type") == "object":
                        variant.update(_CUSTOM_LIMITS)
        for value in schema.values():
            _limit_custom(value)
    elif isinstance(schema, list):
        for value in schema:
            _limit_custom(value)


def _limit_ids(schemas: dict[str, Any]) -> None:
    """The id rule, which a validator function enforces, on the body fields that hold ids."""
    schemas["UserMessageIn"]["properties"]["sender"].update(_ID_SCHEMA)
    for variant in schemas["ConversationPut"]["properties"]["participants"]["anyOf"]:
        if variant.get("type") == "array":
            variant["items"] = dict(_ID_SCHEMA)


def _fix_operation(method: str, path: str, op: dict[str, Any]) -> None:
    shape = SHAPES.get((method.upper(), path))
    if shape is None:
        raise RuntimeError(f"add {method.upper()} {path} to chinwag.web.openapi_shapes.SHAPES")
    op["parameters"] = [p for p in op.get("parameters", []) if p["name"] != "authorization"]
    op["security"] = [{"secretKey": []}, {"appToken": []}]
    statuses = {400, 401, 429, 503, *shape.errors}
    body = op.get("requestBody")
    if body is not None:
        statuses.add(413)
        if shape.request is None:
            raise RuntimeError(f"add a request example for {method.upper()} {path}")
        body["content"]["application/json"]["example"] = shape.request
    if any(p["in"] == "path" and p["name"] != "appId" for p in op["parameters"]):
        statuses.add(404)
    ok = op["responses"]["200"]
    ok["content"] = {shape.media_type: {"schema": shape.schema, "example": shape.example}}
    op["responses"] = {"200": ok} | {str(s): _error_response(s) for s in sorted(statuses)}


def build(api: FastAPI) -> dict[str, Any]:
    """The document of ``api``, corrected as the module docstring says."""
    doc = get_openapi(
        title=api.title,
        version=api.version,
        summary=api.summary,
        description=DESCRIPTION,
        routes=api.routes,
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    _limit_ids(schemas)
    for path, item in doc["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, op in item.items():
            _fix_operation(method, path, op)
    users_put = doc["paths"]["/v1/{appId}/users"]["put"]["requestBody"]
    users_put["content"]["application/json"]["schema"]["propertyNames"] = dict(_ID_SCHEMA)
    _limit_custom(doc)
    return doc


def install(api: FastAPI) -> None:
    """Serve the corrected document at ``api.openapi_url`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = build(api)
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
