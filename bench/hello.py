"""The bare baseline: a Starlette JSON hello-world, served exactly like the services."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/", hello), Route("/healthz", healthz), Route("/readyz", healthz)])


def _fastapi_apps() -> tuple[object, object]:
    """Reference points between the bare baseline and the services: FastAPI with a response
    model, the endpoint ``async def`` (event loop) or plain ``def`` (threadpool, as our DB
    endpoints are)."""
    from fastapi import FastAPI
    from pydantic import BaseModel

    class Hello(BaseModel):
        hello: str

    fa_async = FastAPI()
    fa_sync = FastAPI()

    @fa_async.get("/", response_model=Hello)
    async def hello_async() -> Hello:
        return Hello(hello="world")

    @fa_sync.get("/", response_model=Hello)
    def hello_sync() -> Hello:
        return Hello(hello="world")

    for a in (fa_async, fa_sync):
        a.add_api_route("/healthz", lambda: {"status": "ok"})
        a.add_api_route("/readyz", lambda: {"status": "ok"})
    return fa_async, fa_sync


fastapi_async, fastapi_sync = _fastapi_apps()
