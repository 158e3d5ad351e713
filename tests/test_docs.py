"""The docs stay true: every error code, setting and REST endpoint is documented."""

from __future__ import annotations

import re
from pathlib import Path

from chinwag.config import OPTIONS
from chinwag.errors import ERROR_CODES
from chinwag.services.context import Context
from chinwag.storage.db import open_database
from chinwag.web.app import create_app

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_error_code_is_in_the_api_doc():
    text = (DOCS / "api.md").read_text()
    missing = [code for code in ERROR_CODES if f"`{code}`" not in text]
    assert not missing, f"add these error codes to docs/api.md: {missing}"


def test_every_server_setting_is_in_the_settings_doc():
    text = (DOCS / "settings.md").read_text()
    missing = [var for var, _, _ in OPTIONS.values() if f"`{var}`" not in text]
    assert not missing, f"add these settings to docs/settings.md: {missing}"


def test_every_rest_endpoint_is_in_the_api_doc():
    db = open_database("sqlite:///:memory:")
    schema = create_app(Context(db=db)).app.openapi()
    db.close()
    text = (DOCS / "api.md").read_text()
    documented = set(re.findall(r"^\| (GET|PUT|POST|PATCH|DELETE) \| `([^`]+)` \|", text, re.M))
    missing = [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        if path.startswith("/v1/")
        for method in item
        if (method.upper(), path) not in documented
    ]
    assert not missing, f"add these endpoints to the table in docs/api.md: {missing}"
