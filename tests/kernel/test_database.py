"""shared.db.Database: read and write units of work. On SQLite, writers of one process queue
in a one-connection pool (in order, nothing to leak); readers never wait for them."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from shared.db import Database


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'w.db'}", pool_size=4)
    with database.write() as s:
        s.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
    yield database
    database.dispose()


def _write(db: Database, n: int) -> None:
    with db.write() as s:
        s.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})


def _all(db: Database) -> list[int]:
    with db.read() as s:
        return sorted(r[0] for r in s.execute(text("SELECT n FROM t")))


def test_write_commits_and_failures_roll_back(db):
    _write(db, 1)
    with pytest.raises(RuntimeError), db.write() as s:
        s.execute(text("INSERT INTO t (n) VALUES (2)"))
        raise RuntimeError("boom")
    with pytest.raises(Exception), db.write() as s:  # the statement itself fails
        s.execute(text("INSERT INTO t (n) VALUES (NULL)"))
    _write(db, 3)  # the writer connection went back to the pool each time
    assert _all(db) == [1, 3]


def test_read_never_commits(db):
    with db.read() as s:
        s.execute(text("INSERT INTO t (n) VALUES (7)"))
    assert _all(db) == []


def test_sqlite_has_one_writer_connection_and_a_reader_pool(db):
    assert db.writer is not db.reader
    assert db.writer.pool.size() == 1
    assert db.reader.pool.size() == 4


def test_concurrent_writers_all_land(db):
    errors: list[BaseException] = []

    def work(base: int) -> None:
        try:
            for i in range(25):
                _write(db, base + i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k * 100,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(_all(db)) == 400


def test_a_reader_does_not_wait_for_a_writer_holding_the_lock(db):
    _write(db, 1)
    inside = threading.Event()
    release = threading.Event()

    def long_writer() -> None:
        with db.write() as s:
            s.execute(text("INSERT INTO t (n) VALUES (2)"))
            inside.set()
            release.wait(10)

    t = threading.Thread(target=long_writer)
    t.start()
    try:
        assert inside.wait(5)
        assert _all(db) == [1]  # answered while the write lock is held; the open write is invisible
    finally:
        release.set()
        t.join()
    assert _all(db) == [1, 2]


def test_writers_wait_in_turn_instead_of_failing(db):
    """A second writer waits for the first's connection (the pool's queue), then lands."""
    order: list[str] = []
    inside = threading.Event()

    def first() -> None:
        with db.write() as s:
            s.execute(text("INSERT INTO t (n) VALUES (1)"))
            inside.set()
            time.sleep(0.3)
            order.append("first")

    t = threading.Thread(target=first)
    t.start()
    assert inside.wait(5)
    _write(db, 2)
    order.append("second")
    t.join()
    assert order == ["first", "second"] and _all(db) == [1, 2]


def test_postgresql_uses_one_engine(databases, db_backend):
    database = Database(databases["case_api"].url)
    try:
        assert (database.writer is database.reader) == (db_backend == "postgresql")
        database.ping()
    finally:
        database.dispose()


def test_rows_loaded_in_a_read_stay_readable_after_it(db, tmp_path):
    from sqlalchemy.orm import registry
    from sqlmodel import Field, SQLModel, select

    class _B(SQLModel, registry=registry()):
        pass

    class Row(_B, table=True):
        __tablename__ = "rows"
        id: int | None = Field(default=None, primary_key=True)
        name: str

    _B.metadata.create_all(db.writer)
    with db.write() as s:
        s.add(Row(name="kept"))
    with db.read() as s:
        row = s.exec(select(Row)).one()
    assert row.name == "kept"  # not expired by ending the read
    with db.write() as s:
        written = Row(name="new")
        s.add(written)
    assert written.id is not None and written.name == "new"
