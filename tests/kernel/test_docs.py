"""/docs: Swagger UI from assets we ship, nothing from another origin; off in production unless
a setting turns it on, and never for a service whose spec must stay private."""

from __future__ import annotations

import re

from services.registry import SERVICES
from shared.settings import ServiceSettings
from shared.web import create_service_app


def _app(public_spec: bool = True, **settings):
    values = {"database_url": "sqlite://", "auto_migrate": False, **settings}
    if values.get("mode") == "production":
        values["auth"] = {"jwks_file": "/nonexistent.json"}
    return create_service_app(settings=ServiceSettings(**values), title="t", description="t", version="0",
                              migrations_dir=SERVICES["case_api"].migrations_dir, routers=[], public_spec=public_spec)


async def test_dev_docs_load_only_our_own_assets(client):
    c = client(_app())
    page = await c.get("/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "http" not in csp
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs and all(ref.startswith("/") for ref in refs), refs  # no other origin
    for ref in refs:
        assert (await c.get(ref)).status_code == 200, ref
    assert (await c.get("/openapi.json")).status_code == 200


async def test_production_docs_are_off_unless_asked_and_never_for_a_private_spec(client):
    off = client(_app(mode="production"))
    assert (await off.get("/docs")).status_code == 404
    assert (await off.get("/openapi.json")).status_code == 404
    on = client(_app(mode="production", serve_docs=True))
    assert (await on.get("/docs")).status_code == 200
    private = client(_app(public_spec=False, mode="production", serve_docs=True))
    assert (await private.get("/docs")).status_code == 404
    assert (await private.get("/openapi.json")).status_code == 404
