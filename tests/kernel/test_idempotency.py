"""Idempotency keys: replay, reuse with another body, concurrent duplicates."""

from __future__ import annotations

import asyncio
from typing import Annotated

import pytest
from fastapi import APIRouter, Body, Header
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from services.case_api.domain.models import IdempotencyKey
from services.registry import SERVICES
from shared import idempotency
from shared.settings import ServiceSettings
from shared.web import DatabaseDep, create_service_app
from tests.kernel.conftest import ScratchBase, Thing


def _router() -> APIRouter:
    r = APIRouter()

    @r.post("/effects", status_code=201)
    def effect(body: Annotated[dict, Body()], db: DatabaseDep,
               idempotency_key: Annotated[str | None, Header()] = None):
        with db.write() as session:
            claim = idempotency.begin(session, IdempotencyKey, scope="tester", key=idempotency_key, body=body)
            if claim.replay:
                return JSONResponse(claim.replay.body, claim.replay.status_code,
                                    headers={"Idempotent-Replayed": "true"})
            session.add(Thing(name=f"effect-{idempotency_key}", count=body["n"]))
            out = {"done": body["n"]}
            claim.finish(status=201, body=out)
            return out

    return r


@pytest.fixture
def app(databases, dev_key):
    engine = databases["case_api"].engine
    ScratchBase.metadata.drop_all(engine)
    ScratchBase.metadata.create_all(engine)
    settings = ServiceSettings(database_url=databases["case_api"].url, auth={"dev_key_file": str(dev_key)},
                               auto_migrate=False)
    yield create_service_app(settings=settings, title="t", description="t", version="0",
                             migrations_dir=SERVICES["case_api"].migrations_dir, routers=[_router()])
    ScratchBase.metadata.drop_all(engine)


def _effects(databases) -> int:
    with databases["case_api"].engine.connect() as c:
        return c.execute(select(func.count()).select_from(Thing)).scalar_one()


async def test_replay_same_body(app, client, databases):
    c = client(app)
    first = await c.post("/effects", json={"n": 1}, headers={"Idempotency-Key": "k1"})
    again = await c.post("/effects", json={"n": 1}, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert _effects(databases) == 1


async def test_same_key_other_body_refused(app, client, databases):
    c = client(app)
    await c.post("/effects", json={"n": 1}, headers={"Idempotency-Key": "k2"})
    r = await c.post("/effects", json={"n": 2}, headers={"Idempotency-Key": "k2"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert _effects(databases) == 1


async def test_missing_key_refused(app, client):
    r = await client(app).post("/effects", json={"n": 1})
    assert r.status_code == 422


async def test_concurrent_duplicates_make_one_effect(app, client, databases):
    c = client(app)
    results = await asyncio.gather(
        *[c.post("/effects", json={"n": 3}, headers={"Idempotency-Key": "k3"}) for _ in range(8)]
    )
    assert {r.status_code for r in results} == {201}
    assert _effects(databases) == 1
