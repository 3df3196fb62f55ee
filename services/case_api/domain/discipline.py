"""Due-process use-cases (issue 14, item 3; rules in ``due_process.py``).

Staff side (through ``cases.visible_case``: department scope and recusal, refusals audited):
``propose_action`` gives the employee notice of the proposed action and a response date,
``proceedings`` lists a case's proceedings, ``decide_appeal`` records an appeal's outcome (HR, not
the final decider). The final decision is ``cases.record_decision``, which refuses to decide while
the response window is open. Employee side: ``my_notices``, ``respond`` and ``appeal`` act only on
proceedings of cases whose subject is the caller; they show the notice (reference, categories,
severity, proposed and final action, dates), never the reporter, notes, messages or evidence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from services.case_api.domain import access, audit, identity, ladder
from services.case_api.domain.cases import open_proceeding, recusal_audited, visible_case
from services.case_api.domain.due_process import Step, Windows, check
from services.case_api.domain.models import Case, CaseDecision, DueProcess
from services.case_api.domain.state_machine import Finding, State
from shared.auth import Principal, Role
from shared.db import Database
from shared.errors import Conflict, Forbidden, NotFound


@dataclass(frozen=True)
class Notice:
    """What the employee is told: the proceeding and the case's reference, categories and severity."""

    proceeding: DueProcess
    case_reference: str
    categories: list[str]
    severity: int | None


@recusal_audited("due_process.propose")
def propose_action(db: Database, *, case_id: str, principal: Principal, action: ladder.DisciplinaryAction,
                   reason: str | None, now: datetime, windows: Windows) -> DueProcess:
    with db.write() as s:
        case = visible_case(s, case_id, principal, for_update=True)
        access.ensure_acts_in_department(principal, case.department, access.DECIDE)
        if case.finding != Finding.sustained.value or case.state != State.finding_recorded.value:
            raise Conflict("An action is proposed after a sustained finding, before the decision.",
                           current_state=case.state)
        if open_proceeding(s, case.id) is not None:
            raise Conflict("An action is already proposed on this case.", current_state=case.state)
        proceeding = DueProcess(case_id=case.id, step=Step.noticed.value, proposed_action=action.value,
                                proposal_reason=reason, proposed_by=principal.subject, noticed_at=now,
                                response_due_on=windows.response_due(action.value, now.date()))
        s.add(proceeding)
        s.flush()
        audit.append(s, actor=principal.subject, action="due_process.noticed", case_id=case.id,
                     detail={"proceeding_id": proceeding.id, "proposed_action": action.value,
                             "response_due_on": proceeding.response_due_on.isoformat()}, now=now)
        return proceeding


@recusal_audited("due_process.read")
def proceedings(db: Database, *, case_id: str, principal: Principal, now: datetime) -> list[DueProcess]:
    with db.read() as s:
        case = visible_case(s, case_id, principal)
        if not access.visibility(principal, case.department).disciplinary:
            raise NotFound("No such case.")
        return list(s.exec(select(DueProcess).where(DueProcess.case_id == case.id)
                           .order_by(col(DueProcess.noticed_at), col(DueProcess.id))))


@recusal_audited("due_process.appeal_outcome")
def decide_appeal(db: Database, *, case_id: str, proceeding_id: str, principal: Principal, upheld: bool,
                  reason: str, now: datetime) -> DueProcess:
    with db.write() as s:
        case = visible_case(s, case_id, principal, for_update=True)
        proceeding = s.get(DueProcess, proceeding_id) if len(proceeding_id) <= 36 else None
        if proceeding is None or proceeding.case_id != case.id:
            raise NotFound("No such proceeding.")
        check(Step(proceeding.step), Step.upheld if upheld else Step.overturned, today=now.date())
        decision = s.get(CaseDecision, proceeding.decision_id) if proceeding.decision_id else None
        if not principal.has_any(Role.hr) or (decision is not None and identity.person_key(decision.decided_by)
                                               == identity.person_key(principal.subject)):
            raise Forbidden("An appeal is decided by HR, not by the one who took the decision.")
        proceeding.step = (Step.upheld if upheld else Step.overturned).value
        proceeding.appeal_outcome_reason = reason
        proceeding.appeal_decided_by = principal.subject
        proceeding.appeal_decided_at = now
        s.add(proceeding)
        if not upheld and decision is not None:  # the finding and its decision no longer stand
            decision.status = "withdrawn"
            s.add(decision)
            case.decision = {**(case.decision or {}), "overturned_on_appeal": True}
            case.updated_at = now
            s.add(case)
        s.flush()
        audit.append(s, actor=principal.subject, action="due_process.appeal_decided", case_id=case.id,
                     detail={"proceeding_id": proceeding.id, "outcome": proceeding.step}, now=now, seal=[case])
        return proceeding


# --- the employee's side -------------------------------------------------------------------


def my_notices(db: Database, *, principal: Principal) -> list[Notice]:
    me = identity.person_key(principal.subject)
    with db.read() as s:
        rows = s.exec(select(DueProcess, Case.reference, Case.categories, Case.severity)
                      .join(Case, col(Case.id) == col(DueProcess.case_id)).where(Case.employee_id == me)
                      .order_by(col(DueProcess.noticed_at), col(DueProcess.id))).all()
        return [Notice(proceeding=p, case_reference=ref, categories=list(cats), severity=sev)
                for p, ref, cats, sev in rows]


def _my_notice(session: Session, notice_id: str, principal: Principal) -> tuple[DueProcess, Case]:
    proceeding = session.get(DueProcess, notice_id) if len(notice_id) <= 36 else None
    case = session.get(Case, proceeding.case_id) if proceeding else None
    if proceeding is None or case is None or case.employee_id != identity.person_key(principal.subject):
        raise NotFound("No such notice.")
    return proceeding, case


def respond(db: Database, *, notice_id: str, principal: Principal, text: str, now: datetime) -> Notice:
    def record(p: DueProcess) -> None:
        p.response, p.responded_at = text, now

    return _employee_step(db, notice_id=notice_id, principal=principal, to=Step.responded, record=record,
                          action="due_process.responded", now=now)


def appeal(db: Database, *, notice_id: str, principal: Principal, grounds: str, now: datetime) -> Notice:
    def record(p: DueProcess) -> None:
        p.appeal_grounds, p.appealed_at = grounds, now

    return _employee_step(db, notice_id=notice_id, principal=principal, to=Step.appealed, record=record,
                          action="due_process.appealed", now=now)


def _employee_step(db: Database, *, notice_id: str, principal: Principal, to: Step,
                   record: Callable[[DueProcess], None], action: str, now: datetime) -> Notice:
    """The accused's own step on their notice (a response, an appeal): checked against its window,
    recorded and audited in one unit of work. ``record`` writes the step's own fields."""
    with db.write() as s:
        proceeding, case = _my_notice(s, notice_id, principal)
        due_on = proceeding.response_due_on if to is Step.responded else proceeding.appeal_due_on
        check(Step(proceeding.step), to, today=now.date(), due_on=due_on)
        record(proceeding)
        proceeding.step = to.value
        s.add(proceeding)
        s.flush()
        audit.append(s, actor=principal.subject, action=action, case_id=case.id,
                     detail={"proceeding_id": proceeding.id}, now=now)
        return Notice(proceeding=proceeding, case_reference=case.reference, categories=list(case.categories),
                      severity=case.severity)
