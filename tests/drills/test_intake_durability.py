"""Nothing lost, nothing doubled: reports accepted while case_api is down, a feedback_api
killed with SIGKILL in the middle of a burst, and a SIGTERM (graceful shutdown) under load.

Every check reads the databases directly: feedback_api's ``submissions`` and ``outbox``, and
case_api's ``cases`` and ``case_reports`` (``report_id`` is unique there)."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from sqlalchemy import text

from shared.db import make_engine
from tests.drills.support import FAST_FEEDBACK, NO_LIMITS, scalar, submit_reports, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

FEEDBACK_ENV = {**FAST_FEEDBACK, **NO_LIMITS}
REPORTS = "SELECT count(*) FROM submissions WHERE kind = 'violation_report'"
UNDELIVERED = "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND NOT dead"
DEAD = "SELECT count(*) FROM outbox WHERE dead"


def ids(database_url: str, sql: str) -> set[str]:
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            return {str(r[0]) for r in conn.execute(text(sql))}
    finally:
        engine.dispose()


def case_counts(case_db: str) -> tuple[int, int, int]:
    cases = scalar(case_db, "SELECT count(*) FROM cases")
    links = scalar(case_db, "SELECT count(*) FROM case_reports")
    distinct = scalar(case_db, "SELECT count(DISTINCT report_id) FROM case_reports")
    return int(cases), int(links), int(distinct)


def assert_consistent(feedback_db: str, case_db: str, *, accepted_refs: set[str], timeout: float = 60) -> int:
    """Every accepted report is stored; the outbox drains with nothing parked as dead (feedback_api
    purges delivered rows); case_api then holds exactly one case link per stored report, and
    no link to a report feedback_api does not have (nothing half-written on either side)."""
    stored_refs = ids(feedback_db, "SELECT reference FROM submissions WHERE kind = 'violation_report'")
    missing = accepted_refs - stored_refs
    assert not missing, f"{len(missing)} acknowledged reports are not in the database, e.g. {sorted(missing)[:3]}"
    assert wait_for(lambda: int(scalar(feedback_db, UNDELIVERED)) == 0, timeout, 0.5), (
        f"outbox not drained: {scalar(feedback_db, UNDELIVERED)} undelivered")
    assert int(scalar(feedback_db, DEAD)) == 0
    reports = ids(feedback_db, "SELECT id FROM submissions WHERE kind = 'violation_report'")
    linked = ids(case_db, "SELECT report_id FROM case_reports")
    assert linked == reports, (f"{len(reports - linked)} reports never reached case_api; "
                               f"{len(linked - reports)} case links to unknown reports")
    cases, links, distinct = case_counts(case_db)
    assert links == distinct == len(reports), (cases, links, distinct, len(reports))
    assert cases == len(reports)  # every drill report names a different post: one case each
    return len(reports)


def test_1000_reports_while_case_api_is_down(procs):
    feedback = procs.make("feedback_api", env=FEEDBACK_ENV).start(ready="/readyz")
    outcomes = asyncio.run(submit_reports(feedback.url, range(1000), concurrency=16, tag="down"))
    statuses = {o.status for o in outcomes}
    assert statuses == {201}, f"statuses {statuses}; errors {[o.error for o in outcomes if o.error][:5]}"
    fdb, cdb = procs.db_url("feedback_api"), procs.db_url("case_api")
    assert int(scalar(fdb, REPORTS)) == 1000
    time.sleep(1.0)  # the relay has been failing against the closed port meanwhile
    assert int(scalar(fdb, UNDELIVERED)) == 1000

    procs.make("case_api").start(ready="/readyz")
    assert wait_for(lambda: int(scalar(fdb, UNDELIVERED)) == 0, 90, 0.5), scalar(fdb, UNDELIVERED)
    assert assert_consistent(fdb, cdb, accepted_refs={o.reference for o in outcomes if o.reference}) == 1000
    assert case_counts(cdb) == (1000, 1000, 1000)


def _burst_with_signal(procs, sig: int, *, n: int, after: int, tag: str):
    """Start a burst of ``n`` reports; once ``after`` have been answered, send ``sig``."""
    feedback = procs.make("feedback_api", env=FEEDBACK_ENV)
    feedback.start(ready="/readyz")
    procs.make("case_api").start(ready="/readyz")
    fdb = procs.db_url("feedback_api")

    async def run():
        task = asyncio.create_task(submit_reports(feedback.url, range(n), concurrency=32, tag=tag,
                                                  request_timeout=20))
        while not task.done():
            answered = int(await asyncio.to_thread(scalar, fdb, REPORTS))
            if answered >= after:
                feedback.signal(sig)
                break
            await asyncio.sleep(0.02)
        return await task

    outcomes = asyncio.run(run())
    return feedback, outcomes


def test_sigkill_mid_burst_loses_nothing(procs):
    feedback, outcomes = _burst_with_signal(procs, signal.SIGKILL, n=600, after=150, tag="kill")
    assert feedback.wait(10) == -signal.SIGKILL
    accepted = {o.reference for o in outcomes if o.status in (200, 201) and o.reference}
    failed = [o for o in outcomes if o.status not in (200, 201)]
    assert accepted, "nothing was accepted before the kill"
    assert failed, "the kill landed after the burst; the drill proved nothing"
    assert all(o.status is None or o.status < 500 or o.status == 503 for o in failed), \
        {o.status for o in failed}
    # restart on the same port and database: the relay picks up whatever was committed
    feedback.start(ready="/readyz")
    total = assert_consistent(procs.db_url("feedback_api"), procs.db_url("case_api"), accepted_refs=accepted)
    # requests that got an error are either wholly there (committed just before the kill) or wholly absent
    assert len(accepted) <= total <= len(accepted) + len(failed)


def test_sigterm_under_load_finishes_in_flight(procs):
    feedback, outcomes = _burst_with_signal(procs, signal.SIGTERM, n=600, after=150, tag="term")
    code = feedback.wait(20)
    # uvicorn re-raises the captured SIGTERM after its graceful shutdown, hence -15 and not 0
    assert code in (0, -signal.SIGTERM), f"graceful shutdown exit code {code}"
    assert "Finished server process" in feedback.log(), feedback.log()[-2000:]
    statuses = [o.status for o in outcomes]
    assert 500 not in statuses and not any(s and s >= 500 and s != 503 for s in statuses)
    accepted = {o.reference for o in outcomes if o.status in (200, 201) and o.reference}
    assert accepted
    assert "Traceback" not in feedback.log(), feedback.log()[-3000:]
    feedback.start(ready="/readyz")
    total = assert_consistent(procs.db_url("feedback_api"), procs.db_url("case_api"), accepted_refs=accepted)
    # graceful: every request the server accepted before the signal was answered, so every
    # stored report was acknowledged to its sender
    assert total == len(accepted), (total, len(accepted))
