"""The API docs page, ``/docs``: Swagger UI served from this server, never from a CDN.

Rules kept:

- Every file the page loads comes from this server: the HTML from :func:`docs_page`, Swagger UI's
  script, stylesheet and icon from the ``swagger-ui-bundle-v2`` distribution (installed with
  Chinwag, Apache-2.0, its licence in the distribution's metadata) under :data:`ASSETS`, the
  schema from ``/openapi.json``. So the page renders on a machine with no internet access.
- Only the three files the page needs are served, not the whole directory of the distribution.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

from chinwag.errors import NotFound

#: Where Swagger UI's files are served.
ASSETS = "/docs/assets"
#: The files of the distribution the page loads, by the name they are served under.
FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def install(api: FastAPI, docs_url: str = "/docs") -> None:
    """Add the docs page and its assets to ``api`` (made with ``docs_url=None``)."""
    openapi_url = api.openapi_url or "/openapi.json"
    redirect_url = f"{docs_url}/oauth2-redirect"

    @api.get(docs_url, include_in_schema=False)
    def docs_page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{api.title} API",
            oauth2_redirect_url=root + redirect_url,
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        )

    @api.get(redirect_url, include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @api.get(ASSETS + "/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        media_type = FILES.get(name)
        if media_type is None:
            raise NotFound(f"no such file of the API docs page: {name}")
        path = Path(str(swagger_ui_path)) / name
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=86400"})
