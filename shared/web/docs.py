"""API docs from assets the project ships: Swagger UI from the ``swagger-ui-py`` wheel (pinned
in pyproject.toml; it vendors swagger-ui-dist), served from the service's own origin under a
CSP that allows only them. FastAPI's default page loads an unpinned bundle from a CDN, which
the services' CSP blocks and which no page holding personnel data should load anyway.

In production the docs and ``/openapi.json`` are off unless ``SERVE_DOCS=true``; a service whose
spec must never be public in production (case_api) passes ``public_spec=False`` to the factory.
"""

from __future__ import annotations

import html
from pathlib import Path

import swagger_ui
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(swagger_ui.__file__).parent / "static"
INIT = Path(__file__).parent / "static"
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'")


def install_docs(app: FastAPI, *, title: str, openapi_url: str) -> None:
    app.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")
    app.mount("/docs/init", StaticFiles(directory=INIT), name="docs-init")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} - API docs</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" href="/docs/assets/favicon-32x32.png"></head>
<body><div id="swagger-ui" data-openapi-url="{html.escape(openapi_url)}"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init/docs-init.js"></script>
</body></html>"""

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"})
