"""shared.web.routing: a ``def`` endpoint costs one thread hop, not two, and every app's routes
are ``ServiceRoute``s."""

# No ``from __future__ import annotations``: the probe endpoints below are defined inside functions,
# and FastAPI resolves string annotations in the module's globals only.

import inspect
import threading
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.routing import APIRoute
from pydantic import BaseModel, field_validator

from services.registry import SERVICES
from services.staff_console.main import create_app as create_console
from shared.web.routing import APIRouter, ServiceRoute


def _routes(routes: list[Any]) -> list[APIRoute]:
    out: list[APIRoute] = []
    for r in routes:
        if isinstance(r, APIRoute):
            out.append(r)
        elif hasattr(r, "original_router"):  # FastAPI's included router
            out.extend(_routes(r.original_router.routes))
    return out


def _app(name: str, make_app: Any) -> FastAPI:
    return create_console() if name == "staff_console" else make_app(name)


@pytest.mark.parametrize("name", [*SERVICES, "staff_console"])
def test_every_route_of_every_app_is_a_service_route(name, make_app):
    routes = _routes(_app(name, make_app).routes)
    assert routes
    plain = [r.path for r in routes if not isinstance(r, ServiceRoute)]
    assert plain == [], f"{name}: routes not built by shared.web.routing.APIRouter: {plain}"
    for r in routes:
        original = inspect.unwrap(r.endpoint)
        if not inspect.iscoroutinefunction(original):
            assert getattr(r.endpoint, "runs_in_thread", False), r.path


class _Out(BaseModel):
    value: int
    validated_on: str = ""

    @field_validator("validated_on", mode="after")
    @classmethod
    def _where(cls, v: str) -> str:
        return threading.current_thread().name


def _probe_app(router_class: type) -> tuple[FastAPI, dict[str, str]]:
    seen: dict[str, str] = {}
    router = router_class()

    async def dep(n: Annotated[int, Query(ge=1)] = 2) -> int:
        return n

    @router.get("/probe", response_model=_Out)
    def probe(n: Annotated[int, Depends(dep)], extra: str = "x") -> dict[str, Any]:
        seen["endpoint"] = threading.current_thread().name
        return {"value": n * 10, "validated_on": extra}

    app = FastAPI()
    app.include_router(router)
    return app, seen


async def test_a_def_endpoint_runs_in_a_worker_and_its_response_is_validated_on_the_loop():
    app, seen = _probe_app(APIRouter)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/probe", params={"n": 3})
        bad = await c.get("/probe", params={"n": 0})
    assert r.status_code == 200 and r.json()["value"] == 30
    assert seen["endpoint"] != threading.current_thread().name  # a worker thread, as before
    assert r.json()["validated_on"] == threading.current_thread().name  # no second hop
    assert bad.status_code == 422  # the endpoint's own parameters still apply


async def test_fastapi_alone_validates_in_a_second_hop():
    """What ServiceRoute removes: with FastAPI's own router the validation runs in a worker."""
    from fastapi import APIRouter as FastAPIRouter

    app, _ = _probe_app(FastAPIRouter)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/probe")
    assert r.json()["validated_on"] != threading.current_thread().name


def test_the_openapi_document_is_the_same_as_fastapis():
    from fastapi import APIRouter as FastAPIRouter

    ours, _ = _probe_app(APIRouter)
    theirs, _ = _probe_app(FastAPIRouter)
    assert ours.openapi() == theirs.openapi()
