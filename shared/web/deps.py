"""The typed dependencies routers use: the database, the clock, the caller.

All of them are ``async def`` and do no blocking I/O on the loop, so they cost no thread hop. The database
dependency hands the router a ``Database``; the use-case it calls opens ``db.read()`` or
``db.write()`` itself, inside the endpoint's own thread, so a transaction begins and ends in
one thread call and never waits for a thread token while it holds a connection or a lock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from shared.auth import Principal, TokenVerifier
from shared.db import Database
from shared.errors import Unauthorized
from shared.timeutil import Clock


async def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


DatabaseDep = Annotated[Database, Depends(_database)]


async def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


ClockDep = Annotated[Clock, Depends(_clock)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Use 'Authorization: Bearer <token>'.")
    return token.strip()


async def optional_principal(request: Request) -> Principal | None:
    """The caller, from a bearer token, or None. Verifying is CPU only once the IdP's keys are
    loaded, so it runs on the event loop (no thread hop on every request); only when it might
    fetch keys (the first load, an unknown kid) does it move to a thread."""
    token = _bearer(request)
    if token is None:
        return None
    verifier: TokenVerifier = request.app.state.verifier
    if verifier.verifies_without_io(token):
        return verifier.verify(token)
    return await run_in_threadpool(verifier.verify, token)


async def current_principal(request: Request) -> Principal:
    principal = await optional_principal(request)
    if principal is None:
        raise Unauthorized("This endpoint needs a staff or service token.")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that authenticates and checks function-level authorisation."""

    async def dependency(principal: PrincipalDep) -> Principal:  # no I/O: no thread hop
        return principal.require(*roles)

    return dependency
