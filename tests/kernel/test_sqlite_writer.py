"""SQLite writers of one engine queue on an in-process lock (shared/db.py): it must always be
released, whatever way the transaction ends, and must not change what is written."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from shared.db import make_engine, unit_of_work, writer


@pytest.fixture
def engine(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with e.begin() as c:
        c.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
    yield e
    e.dispose()


def _fast_write(engine, n: int) -> float:
    t0 = time.monotonic()
    with unit_of_work(engine) as s:
        s.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
    return time.monotonic() - t0


def test_the_lock_is_free_after_commit_rollback_and_a_failed_statement(engine):
    _fast_write(engine, 1)  # commit
    with pytest.raises(RuntimeError), unit_of_work(engine) as s:  # rollback
        s.execute(text("INSERT INTO t (n) VALUES (2)"))
        raise RuntimeError("boom")
    with pytest.raises(Exception), unit_of_work(engine) as s:  # the statement itself fails
        s.execute(text("INSERT INTO t (n) VALUES (NULL)"))
    assert _fast_write(engine, 3) < 1  # not the 10 s lock timeout
    with engine.connect() as c:
        assert sorted(r[0] for r in c.execute(text("SELECT n FROM t"))) == [1, 3]


def test_one_connection_can_run_write_transactions_back_to_back(engine):
    with writer(engine).connect() as c:
        for n in range(3):
            with c.begin():
                c.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
    assert _fast_write(engine, 9) < 1


def test_concurrent_writers_all_land(engine):
    errors: list[BaseException] = []

    def work(base: int) -> None:
        try:
            for i in range(25):
                _fast_write(engine, base + i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k * 100,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM t")).scalar_one() == 400


def test_a_reader_never_waits_for_the_lock(engine):
    hold = writer(engine).connect()
    hold.begin()
    hold.execute(text("INSERT INTO t (n) VALUES (1)"))
    try:
        t0 = time.monotonic()
        with unit_of_work(engine, write=False) as s:
            assert s.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        assert time.monotonic() - t0 < 1
    finally:
        hold.rollback()
        hold.close()
    assert _fast_write(engine, 2) < 1
