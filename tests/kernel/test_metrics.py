"""/metrics: request counts by route template, database pool, and who may read it."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry import SERVICES
from shared.settings import ServiceSettings
from shared.web import create_service_app


def _app(**settings):
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    values = {"database_url": "sqlite://", "auto_migrate": False, **settings}
    if values.get("mode") == "production":
        values["auth"] = {"jwks_file": "/nonexistent.json"}
    return create_service_app(settings=ServiceSettings(**values), title="t", description="t", version="0",
                              migrations_dir=SERVICES["case_api"].migrations_dir, routers=[router])


async def test_requests_are_counted_by_route_template_never_by_path(client):
    c = client(_app())
    await c.get("/things/emp-1101")
    await c.get("/things/emp-2202")
    text = (await c.get("/metrics")).text
    assert 'handler="/things/{thing_id}"' in text and 'status="200"' in text
    assert "emp-1101" not in text and "emp-2202" not in text
    assert "civicsocial_db_pool_size" in text


async def test_production_metrics_need_the_scraper_token(client):
    closed = client(_app(mode="production"))
    assert (await closed.get("/metrics")).status_code == 404
    scraped = client(_app(mode="production", metrics_token="s3cret-scraper-token"))
    assert (await scraped.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 404
    ok = await scraped.get("/metrics", headers={"Authorization": "Bearer s3cret-scraper-token"})
    assert ok.status_code == 200 and "http_requests_total" in ok.text
    public = client(_app(mode="production", metrics_public=True))
    assert (await public.get("/metrics")).status_code == 200
