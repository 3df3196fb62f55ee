"""The typed dependencies routers use: the database, the clock, the caller.

All of them are ``async def`` that do no I/O, so they cost no thread hop. The database
dependency hands the router a ``Database``; the use-case it calls opens ``db.read()`` or
``db.write()`` itself, inside the endpoint's own thread, so a transaction begins and ends in
one thread call and never waits for a thread token while it holds a connection or a lock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

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


def optional_principal(request: Request) -> Principal | None:
    token = _bearer(request)
    if token is None:
        return None
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(token)


def current_principal(request: Request) -> Principal:
    principal = optional_principal(request)
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
