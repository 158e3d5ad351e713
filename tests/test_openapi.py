"""The OpenAPI document tells the truth: real statuses with the one error schema, security
schemes, the enforced limits, and examples that match their own schemas."""

from __future__ import annotations

from typing import Any

import jsonschema_rs  # schemathesis's validator, so the test adds no dependency
import pytest

from chinwag.domain import limits as L
from chinwag.services.context import Context
from chinwag.storage.db import open_database
from chinwag.web.app import create_app


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    db = open_database("sqlite:///:memory:")
    document: dict[str, Any] = create_app(Context(db=db)).app.openapi()
    db.close()
    return document


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        if path.startswith("/v1/")
        for method, op in item.items()
    ]


def _valid(doc: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    root = {**schema, "components": doc["components"]}
    return [e.message for e in jsonschema_rs.validator_for(root).iter_errors(value)]


def test_no_operation_declares_422_and_every_error_has_the_one_schema(doc):
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for method, path, op in _operations(doc):
        statuses = set(op["responses"])
        assert "422" not in statuses, (method, path)
        assert {"200", "400", "401", "429", "503"} <= statuses, (method, path)
        assert statuses <= {"200", "400", "401", "403", "404", "409", "413", "429", "503"}
        for status, answer in op["responses"].items():
            if status != "200":
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)
        assert ("413" in statuses) == ("requestBody" in op), (method, path)
        assert "Retry-After" in op["responses"]["429"]["headers"]
        assert "Retry-After" in op["responses"]["503"]["headers"]


def test_the_error_schema_is_errorcode_and_reasons(doc):
    error = doc["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"errorCode", "reasons"}
    assert error["required"] == ["errorCode", "reasons"]
    assert not _valid(doc, error, {"errorCode": "USER_NOT_FOUND", "reasons": ["no user"]})
    assert _valid(doc, error, {"detail": "x"})


def test_security_is_declared_as_schemes_not_as_a_header_parameter(doc):
    schemes = doc["components"]["securitySchemes"]
    assert schemes["secretKey"]["scheme"] == "bearer"
    assert schemes["appToken"]["bearerFormat"] == "JWT"
    for method, path, op in _operations(doc):
        assert op["security"] == [{"secretKey": []}, {"appToken": []}], (method, path)
        assert all(p["name"].lower() != "authorization" for p in op["parameters"])


def test_the_limits_are_in_the_schemas(doc):
    schemas = doc["components"]["schemas"]
    text = schemas["UserMessageIn"]["properties"]["text"]
    assert (text["minLength"], text["maxLength"]) == (1, L.MAX_TEXT)
    custom = next(
        v for v in schemas["UserPut"]["properties"]["custom"]["anyOf"] if v["type"] == "object"
    )
    assert custom["maxProperties"] == L.MAX_CUSTOM_KEYS
    assert custom["propertyNames"]["maxLength"] == L.MAX_CUSTOM_KEY
    assert "pattern" in schemas["UserMessageIn"]["properties"]["sender"]
    post = doc["paths"]["/v1/{appId}/conversations/{conversationId}/messages"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["maxItems"] == L.MAX_MESSAGES_PER_POST
    limit = next(
        p
        for p in doc["paths"]["/v1/{appId}/users"]["get"]["parameters"]
        if p["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == L.MAX_PAGE
    assert str(L.MAX_BODY_BYTES) in doc["info"]["description"]


def test_every_example_matches_its_schema(doc):
    for method, path, op in _operations(doc):
        for status, answer in op["responses"].items():
            for media in answer["content"].values():
                if status == "200" and "json" not in next(iter(answer["content"])):
                    continue
                assert "example" in media, (method, path, status)
                assert not _valid(doc, media["schema"], media["example"]), (method, path, status)
        if "requestBody" in op:
            media = op["requestBody"]["content"]["application/json"]
            assert not _valid(doc, media["schema"], media["example"]), (method, path)
