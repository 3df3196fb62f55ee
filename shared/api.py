"""TRANSITIONAL (issue 13): the old request-scoped session dependencies, kept only while the
services move to use-cases that open ``db.read()`` / ``db.write()`` themselves. Import from
``shared.web``; this module is deleted once nothing imports it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlmodel import Session

from shared.db import Database
from shared.web import *  # noqa: F403
from shared.web import __all__ as _web_all

__all__ = [*_web_all, "ReadSessionDep", "SessionDep"]


async def _session(request: Request) -> AsyncIterator[Session]:
    async with _unit_of_work(request, write=request.method not in ("GET", "HEAD", "OPTIONS")) as session:
        yield session


async def _read_session(request: Request) -> AsyncIterator[Session]:
    async with _unit_of_work(request, write=False) as session:
        yield session


@asynccontextmanager
async def _unit_of_work(request: Request, *, write: bool) -> AsyncIterator[Session]:
    db: Database = request.app.state.db
    session = Session(db.writer if write else db.reader, expire_on_commit=False)
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_discard, session, limiter=anyio.CapacityLimiter(1))
        raise
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(_commit, session, limiter=anyio.CapacityLimiter(1))


def _commit(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _discard(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(_read_session, scope="function")]
