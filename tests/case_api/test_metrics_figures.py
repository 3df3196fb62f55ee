"""The staff figures are aggregated in SQL: checked here against cases with known durations,
restorative actions due on known days and one overdue case, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.case_api.domain import cases, ladder, restorative
from services.case_api.domain.cases import Sla
from services.case_api.domain.ladder import RestorativeKind
from services.case_api.domain.metrics import percentile
from services.case_api.domain.state_machine import Finding, State
from services.case_api.settings import DEFAULT_SLA_HOURS
from shared.auth import Principal, Role
from shared.errors import UpstreamFailed
from shared.timeutil import FrozenClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SLA = Sla(hours=dict(DEFAULT_SLA_HOURS))
INV = Principal(subject="inv-1", roles=frozenset({Role.investigator}))
HR = Principal(subject="hr-1", roles=frozenset({Role.hr}))


class _PolicyDown:
    def get(self, *_a: object, **_k: object) -> object:
        raise UpstreamFailed("policy_api is not part of this test")


async def test_staff_figures_from_sql(make_app, client, token):
    clock = FrozenClock(T0)
    app = make_app("case_api", clock=clock, relay_enabled=False, monitoring_sync_seconds=0)
    db = app.state.db

    def new(department: str, categories: list[str]) -> str:
        return cases.create_case(db, principal=INV, now=clock.now(), sla=SLA, department=department,
                                 summary="s", categories=categories, account_id="acct-1").case.id

    durations = [1.0, 2.0, 3.5, 4.0, 10.0]
    resolved = []
    for i, days in enumerate(durations):  # dismissed after `days`
        cid = new("Police" if i % 2 else "Parks", ["personal_attack", "other"])
        clock.advance(timedelta(days=days))
        cases.transition_case(db, case_id=cid, principal=INV, target=State.dismissed, now=clock.now(), sla=SLA,
                              reason="not an official account", outcome_summary="Not a City account.")
        resolved.append(cid)

    sustained = new("Police", ["personal_attack"])
    start = clock.now()
    for to in (State.triaged, State.investigating):
        cases.transition_case(db, case_id=sustained, principal=INV, target=to, now=clock.now(), sla=SLA)
    cases.identify_employee(db, case_id=sustained, principal=INV, employee_id="emp-1", now=clock.now())
    cases.record_finding(db, _PolicyDown(), case_id=sustained, principal=INV,  # type: ignore[arg-type]
                         finding=Finding.sustained, severity=2, summary=None, now=clock.now(), sla=SLA,
                         matrix=ladder.load(), acknowledgement_timeout=1)
    day = start.date()

    def action(due_in: int) -> str:
        return restorative.plan_action(db, case_id=sustained, principal=HR, kind=RestorativeKind.public_correction,
                                       owner="pio", due_on=day + timedelta(days=due_in), description=None,
                                       account_id=None, now=clock.now()).id

    on_time, late, missed, cancelled, future = action(5), action(1), action(2), action(3), action(400)
    clock.advance(timedelta(days=3))
    restorative.update_action(db, action_id=on_time, principal=HR, status="completed", evidence="done",
                              now=clock.now())
    restorative.update_action(db, action_id=late, principal=HR, status="completed", evidence="done", now=clock.now())
    restorative.update_action(db, action_id=cancelled, principal=HR, status="cancelled", evidence=None,
                              now=clock.now())
    assert missed and future
    overdue = new("Transit", ["other", "other"])  # received, SLA 48 h; a category twice counts once
    clock.advance(timedelta(days=3))

    c = client(app)
    m = (await c.get("/v1/metrics", headers=token("auditor"))).json()
    assert m["cases_total"] == 7
    assert m["by_category"] == {"personal_attack": 6, "other": 6}
    assert m["by_department"] == {"Parks and Recreation": 3, "Police": 3, "Transit": 1}
    assert m["by_state"] == {"dismissed": 5, "finding_recorded": 1, "received": 1}
    assert m["by_outcome"] == {"dismissed": 5}
    assert m["resolved"] == 5
    # each dismissed case was created at the clock of its turn and dismissed `days` later
    assert m["median_days_to_resolution"] == round(percentile(durations, 0.5) or 0, 2)
    assert m["p90_days_to_resolution"] == round(percentile(durations, 0.9) or 0, 2)
    # due: on_time (completed by its day), late (completed after), missed (past due); not cancelled/future
    assert m["restorative_actions_due"] == 3 and m["restorative_actions_on_time"] == 1
    assert m["restorative_actions_on_time_share"] == round(1 / 3, 4)
    # the received case is past its 48 h; the sustained one is within its 10 days
    assert m["overdue_cases"] == 1 and overdue

    police = (await c.get("/v1/metrics", headers=token("pio", department="Police"))).json()
    assert police["cases_total"] == 3 and police["by_department"] == {"Police": 3}
    assert police["restorative_actions_due"] == 3 and police["resolved"] == 2
    assert police["median_days_to_resolution"] == round(percentile([2.0, 4.0], 0.5) or 0, 2)
