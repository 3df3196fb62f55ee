"""Query shape: every list and detail endpoint sends as many SQL statements for 50 rows as for 1
(tests/support/sqlcount.py). Rows are made with the same use-cases the routers call, from
factories, at 1 row and then at 50, and the GET is counted each time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from polyfactory.factories.pydantic_factory import ModelFactory

from services.case_api.domain import cases, intake, monitoring, reporter_safety, restorative
from services.case_api.domain.cases import Sla
from services.case_api.domain.ladder import RestorativeKind
from services.case_api.domain.state_machine import Finding, State
from services.case_api.settings import DEFAULT_SLA_HOURS
from shared.auth import Principal, Role
from shared.db import Database
from shared.schemas.intake import ReportForward
from shared.schemas.registry import AccountPublic, Platform
from shared.timeutil import FrozenClock
from tests.case_api.helpers import forward
from tests.support.sqlcount import count_statements

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SLA = Sla(hours=dict(DEFAULT_SLA_HOURS))
INV = Principal(subject="inv-1", roles=frozenset({Role.investigator}))
HR = Principal(subject="hr-1", roles=frozenset({Role.hr}))


class AccountFactory(ModelFactory[AccountPublic]):
    __check_model__ = False
    platform = Platform.facebook
    department = "Police"
    status = "active"
    pio_name = None
    pio_title = None

    @classmethod
    def profile_url(cls) -> str:
        return "https://facebook.com/" + cls.__faker__.user_name()


class Seeder:
    """Adds rows of one kind to the database, through the domain's use-cases."""

    def __init__(self, db: Database, clock: FrozenClock) -> None:
        self.db, self.clock = db, clock
        self.n = 0

    def now(self) -> datetime:
        self.clock.advance(timedelta(seconds=1))
        return self.clock.now()

    def case(self, **over: Any) -> str:
        self.n += 1
        view = cases.create_case(self.db, principal=INV, now=self.now(), sla=SLA, department="Police",
                                 summary=f"case {self.n}", categories=["personal_attack", "other"], **over)
        return view.case.id

    def sustained(self) -> str:
        cid = self.case(account_id="acct-1")
        for to in (State.triaged, State.investigating):
            cases.transition_case(self.db, case_id=cid, principal=INV, target=to, now=self.now(), sla=SLA)
        cases.identify_employee(self.db, case_id=cid, principal=INV, employee_id="emp-1", now=self.now())
        from services.case_api.domain import ladder

        cases.record_finding(self.db, _NoPeers(), case_id=cid, principal=INV, finding=Finding.not_sustained,
                             severity=None, summary=None, now=self.now(), sla=SLA, matrix=ladder.load(),
                             acknowledgement_timeout=1)
        cases.transition_case(self.db, case_id=cid, principal=INV, target=State.closed, now=self.now(), sla=SLA)
        return cid

    def report(self, incident: str | None = None) -> str:
        body = ReportForward.model_validate(forward(incident_key=incident))
        answer = intake.intake_report(self.db, report=body, sender="service:feedback_api",
                                      idempotency_key=body.report_id, now=self.now(), sla=SLA)
        return str(answer.body["case_id"])


class _NoPeers:
    """A not-sustained finding never asks policy_api; any call would be a bug in the use-case."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected peer call {name}")


Counter = Callable[[str, dict[str, str]], Awaitable[int]]


@pytest.fixture
def shape(make_app, client):
    clock = FrozenClock(T0)
    app = make_app("case_api", clock=clock, relay_enabled=False, monitoring_sync_seconds=0)
    c = client(app)
    seeder = Seeder(app.state.db, clock)

    async def count(url: str, headers: dict[str, str]) -> int:
        with count_statements(app.state.db) as counted:
            r = await c.get(url, headers=headers)
        assert r.status_code == 200, r.text
        return counted.n

    return seeder, count, app


async def _one_then_fifty(count: Counter, url: str, headers: dict[str, str], add: Callable[[], Any]) -> None:
    add()
    one = await count(url, headers)
    for _ in range(49):
        add()
    fifty = await count(url, headers)
    assert one == fifty, f"{url}: {one} statements for 1 row, {fifty} for 50"


@pytest.mark.parametrize("path", ["/v1/cases?limit=100", "/v1/cases?state=received&limit=100",
                                  "/v1/cases/due-soon?within_hours=72&limit=100", "/v1/cases/overdue?limit=100"])
async def test_case_lists(shape, token, path):
    seeder, count, _app = shape
    if "overdue" in path:
        def add() -> None:
            seeder.case()
            seeder.clock.advance(timedelta(hours=49))  # past the received SLA (48 h)
    else:
        add = seeder.case  # type: ignore[assignment]
    await _one_then_fifty(count, path, token("investigator"), add)


async def test_case_detail_with_reports(shape, token, client):
    seeder, count, app = shape
    first = seeder.report(incident="post-1")
    cases.identify_employee(seeder.db, case_id=first, principal=INV, employee_id="emp-1", now=seeder.now())
    hdr = token("investigator")  # sees the employee: a confidential read, audited in the same unit
    await _one_then_fifty(count, f"/v1/cases/{first}", hdr, lambda: seeder.report(incident="post-1"))
    await _one_then_fifty(count, f"/v1/cases/{first}", token("intake"), lambda: seeder.report(incident="post-1"))
    entries = (await client(app).get(f"/v1/audit/cases/{first}?limit=100", headers=token("auditor"))).json()
    assert sum(e["action"] == "case.confidential_read" for e in entries) == 2  # one per investigator read



async def test_notes_messages_and_audit_of_a_case(shape, token):
    seeder, count, _app = shape
    cid = seeder.report()
    await _one_then_fifty(count, f"/v1/cases/{cid}/notes", token("intake"), lambda: cases.add_note(
        seeder.db, case_id=cid, principal=INV, body="note", now=seeder.now()))
    await _one_then_fifty(count, f"/v1/cases/{cid}/messages", token("intake"), lambda: reporter_safety.message_reporter(
        seeder.db, case_id=cid, principal=INV, body="hello", report_id=None, now=seeder.now()))
    await _one_then_fifty(count, f"/v1/audit/cases/{cid}?limit=100", token("auditor"), lambda: cases.add_note(
        seeder.db, case_id=cid, principal=INV, body="note", now=seeder.now()))


async def test_restorative_actions_of_a_case(shape, token):
    seeder, count, _app = shape
    cid = seeder.case(account_id="acct-1")
    for to in (State.triaged, State.investigating):
        cases.transition_case(seeder.db, case_id=cid, principal=INV, target=to, now=seeder.now(), sla=SLA)
    cases.identify_employee(seeder.db, case_id=cid, principal=INV, employee_id="emp-1", now=seeder.now())
    from services.case_api.domain import ladder

    class _Unknown:
        def get(self, *_a: Any, **_k: Any) -> Any:
            from shared.errors import UpstreamFailed
            raise UpstreamFailed("no policy_api in this test")

    cases.record_finding(seeder.db, _Unknown(), case_id=cid, principal=INV,  # type: ignore[arg-type]
                         finding=Finding.sustained, severity=2, summary=None, now=seeder.now(), sla=SLA,
                         matrix=ladder.load(), acknowledgement_timeout=1)
    await _one_then_fifty(count, f"/v1/cases/{cid}/restorative-actions", token("hr"), lambda: restorative.plan_action(
        seeder.db, case_id=cid, principal=HR, kind=RestorativeKind.public_correction, owner="pio",
        due_on=T0.date(), description=None, account_id=None, now=seeder.now()))


async def test_metrics(shape, token):
    seeder, count, _app = shape
    for url, hdr in [("/v1/metrics", token("auditor")), ("/v1/metrics", token("pio", department="Police")),
                     ("/v1/metrics.csv", token("auditor")), ("/v1/public/metrics", {})]:
        await _one_then_fifty(count, url, hdr, seeder.sustained)


def _sync(seeder: Seeder, accounts: list[AccountPublic]) -> None:
    with seeder.db.write() as s:
        monitoring.sync_registry(s, accounts=accounts, now=seeder.now(), cadence=monitoring.Cadence(),
                                 actor="test", elements=None)


async def test_monitoring_lists(shape, token):
    seeder, count, _app = shape
    accounts: list[AccountPublic] = []

    def add() -> None:
        accounts.append(AccountFactory.build(department="Police" if len(accounts) % 2 else "Parks"))
        _sync(seeder, accounts)

    mon = token("monitor")
    director = token("department_director", department="Police")
    add()
    urls = ["/v1/monitoring/reviews?limit=100", "/v1/monitoring/reviews/due?within_days=366&limit=100",
            "/v1/monitoring/coverage", "/v1/monitoring/findings-by-element"]
    ones = {(u, h): await count(u, hdr) for u in urls for h, hdr in (("mon", mon), ("dir", director))}
    for _ in range(49):
        add()
    fifties = {(u, h): await count(u, hdr) for u in urls for h, hdr in (("mon", mon), ("dir", director))}
    assert ones == fifties
    # overdue: every review is past due once the clock passes the period and the grace days
    one = await count("/v1/monitoring/reviews/overdue?limit=100", mon)
    seeder.clock.advance(timedelta(days=200))
    assert await count("/v1/monitoring/reviews/overdue?limit=100", mon) == one


async def test_a_review_and_its_findings(shape, token):
    seeder, count, _app = shape
    account = AccountFactory.build()
    _sync(seeder, [account])
    posts = [{"url": f"https://facebook.com/{account.handle}/posts/{i}", "account_id": account.id,
              "posted_at": (T0 + timedelta(days=1, minutes=i)).isoformat(), "text": f"post {i}"} for i in range(50)]
    seeder.clock.advance(timedelta(days=91))  # a review looks back over its closed period
    monitoring.import_posts(seeder.db, rows=posts, source="json", now=seeder.now(), actor="test")
    review_id = monitoring.list_reviews(seeder.db, principal=INV, where=monitoring.ReviewFilter(), limit=1,
                                        offset=0).items[0].id
    review = monitoring.start_review(seeder.db, review_id=review_id, reviewer="mon", sample_size=50,
                                     now=seeder.now(), actor="mon")
    sample = iter(review.sample)
    mon = token("monitor")
    urls = [f"/v1/monitoring/reviews/{review_id}/findings", f"/v1/monitoring/reviews/{review_id}"]

    def add() -> None:
        monitoring.record_finding(seeder.db, review_id=review_id, post_id=next(sample), item_key="no_personal_attacks",
                                  result="pass", note=None, actor="mon", now=seeder.now(), sla=SLA)

    add()
    ones = [await count(u, mon) for u in urls]
    for _ in range(49):
        add()
    assert [await count(u, mon) for u in urls] == ones
