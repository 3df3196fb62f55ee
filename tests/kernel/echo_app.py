"""A kernel app that echoes what it sees of the client, run by test_edges.py under uvicorn with
the exact flags the services use."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.registry import SERVICES
from shared.settings import ServiceSettings
from shared.web import create_service_app

router = APIRouter()


@router.get("/echo")
async def echo(request: Request) -> dict[str, str | None]:
    return {"client": request.client.host if request.client else None, "scheme": request.url.scheme}


app = create_service_app(
    settings=ServiceSettings(database_url="sqlite://", auto_migrate=False),
    title="echo", description="echo", version="0", migrations_dir=SERVICES["case_api"].migrations_dir,
    routers=[router],
)
