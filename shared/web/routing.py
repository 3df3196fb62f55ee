"""One thread hop per request for a ``def`` endpoint: ``APIRouter`` with ``ServiceRoute``.

FastAPI runs a ``def`` endpoint in a worker thread, as ADR 1 wants (the use-case's unit of work
begins and ends in that thread). But for a ``def`` endpoint it also runs the *response
validation* in a second worker thread (``fastapi.routing.serialize_response``, ``is_coroutine``
false), after the endpoint's thread has returned. That validation is CPU work on a model that is
already built; the second hop costs a thread token, two GIL hand-offs and a wake-up of the event
loop, and under load it waits behind every other request's endpoint for a token. A no-op hop
measured 85-92 µs pinned to one core on this VM, as the bench pins its servers (200-280 µs
unpinned; a loop of 2,000 ``run_in_threadpool`` calls), and ``GET /v1/cases`` took three of them
(a ``def`` dependency, the endpoint, the validation).

``ServiceRoute`` hands FastAPI an ``async`` wrapper around a ``def`` endpoint that awaits the
endpoint in AnyIO's thread pool (the same pool and limiter FastAPI uses): the endpoint still runs
in a worker thread, exactly once, and FastAPI, seeing a coroutine, validates the response on the
event loop. The wrapper carries the endpoint as ``__wrapped__``, so FastAPI reads the endpoint's
own signature and annotations (``inspect.signature`` and ``get_typed_signature`` unwrap it), and
OpenAPI is unchanged. FastAPI has no setting for this, hence the route class (its documented
extension point, ``APIRouter(route_class=...)``).

Every router in the services is a ``shared.web.routing.APIRouter`` (``tests/kernel/test_routing.py``
holds every app to it). Dependencies should be ``async def`` when they do no blocking I/O: FastAPI
runs each ``def`` dependency in a thread hop of its own.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter as FastAPIRouter
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


def in_worker_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """An ``async`` endpoint that runs the ``def`` ``endpoint`` in AnyIO's worker threads."""

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    run.runs_in_thread = True  # type: ignore[attr-defined]  # for tests and readers
    return run


def _is_plain_def(endpoint: Callable[..., Any]) -> bool:
    return (inspect.isfunction(endpoint) or inspect.ismethod(endpoint)) and not (
        inspect.iscoroutinefunction(endpoint) or inspect.isgeneratorfunction(endpoint)
        or inspect.isasyncgenfunction(endpoint))


class ServiceRoute(APIRoute):
    """An ``APIRoute`` whose ``def`` endpoint costs one thread hop, not two (module docstring)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if _is_plain_def(endpoint):
            endpoint = in_worker_thread(endpoint)
        super().__init__(path, endpoint, **kwargs)


class APIRouter(FastAPIRouter):
    """``fastapi.APIRouter`` whose routes are ``ServiceRoute``s. Use it for every service router."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", ServiceRoute)
        super().__init__(*args, **kwargs)


__all__ = ["APIRouter", "ServiceRoute", "in_worker_thread"]
