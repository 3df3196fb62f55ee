"""Count the SQL statements a block of code sends: the query-shape tests use it to prove a
list or detail endpoint sends as many statements for 50 rows as for 1.

    with count_statements(app.state.db) as counted:
        await c.get("/v1/things")
    assert counted.n == ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from shared.db import Database

# Transaction control and pool pings are not the query shape.
_IGNORED = ("BEGIN", "COMMIT", "ROLLBACK", "SELECT 1", "PRAGMA")


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(db: Database) -> Iterator[Counted]:
    counted = Counted()

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(_IGNORED):
            counted.statements.append(statement)

    engines = {id(e): e for e in (db.reader, db.writer)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", before)
    try:
        yield counted
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", before)
