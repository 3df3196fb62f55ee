"""The units of work the use-cases open: ``db.write()`` as the kernel gives it, and ``reading(db)``.

``reading`` is ``db.read()`` that keeps what the block loaded. ``db.read()`` ends with a
rollback, and a rollback expires every row in the session, so a row returned from the block
raised ``DetachedInstanceError`` on its first attribute. Detaching the rows first (``expunge_all``)
keeps their loaded columns. WORKAROUND until ``shared.db.Database.read`` does this itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from shared.db import Database


@contextmanager
def reading(db: Database) -> Iterator[Session]:
    with db.read() as session:
        yield session
        session.expunge_all()
