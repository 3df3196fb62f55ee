"""Returning ORM rows from ``db.read()``.

``db.read()`` ends with a rollback, and a rollback expires every instance still in the session
(``expire_on_commit=False`` covers commits only), so a row returned from a read unit of work
would try to lazy-load outside it. ``detached`` takes the rows out of the session first, with
the columns they loaded. (Asked of the kernel: ``Database.read()`` could ``expunge_all()``
before its rollback; until then every read use-case here returns through this.)"""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session

T = TypeVar("T")


def detached(session: Session, value: T) -> T:
    session.expunge_all()
    return value
