"""Cases: staff creation, the workflow, findings, decisions, notes and messages.

The public functions are the use-cases routers, the CLI and the demo call: typed, keyword-only,
each opening its own unit of work (``db.read()`` or ``db.write()``) and returning rows with
their columns loaded or a frozen ``CaseView``. Reads of other services (policy_api's
acknowledgement check, feedback_api's contact and evidence) happen before ``db.write()`` opens.
The ``_``-prefixed functions and ``new_case`` work inside a caller's session: they ``flush``,
never ``commit``. Every change writes an audit entry in the same transaction; every change the
reporter may see writes an outbox event in the same transaction."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, ParamSpec, TypeVar

from sqlalchemy import Row, text
from sqlmodel import Session, col, select

from services.case_api import clients
from services.case_api.domain import access, audit, due_process, employees, identity, ladder
from services.case_api.domain.case_list import NEWEST_FIRST, SOONEST_DUE, summary_page, visible_cases
from services.case_api.domain.models import (
    AuditEntry,
    Case,
    CaseDecision,
    CaseMessage,
    CaseNote,
    CaseParty,
    CaseReport,
    DueProcess,
    OutboxMessage,
)
from services.case_api.domain.paging import Listing
from services.case_api.domain.state_machine import OPEN, TERMINAL, CaseFacts, Finding, State, check, public_status
from services.case_api.domain.topics import REPORT_EVENT
from shared.auth import Principal, Role
from shared.db import Database
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from shared.http import ServiceClient
from shared.ids import new_id, new_reference
from shared.outbox import enqueue
from shared.schemas.intake import PublicStatus, ReportEvent
from shared.schemas.messages import ReportEventMessage
from shared.timeutil import utcnow

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R", CaseNote, CaseMessage)


@dataclass(frozen=True)
class Sla:
    hours: dict[str, int]

    def due(self, state: State, entered: datetime) -> datetime | None:
        h = self.hours.get(state.value)
        if h is None or state in TERMINAL:
            return None
        return entered + timedelta(hours=h)


@dataclass(frozen=True)
class CaseView:
    """A case as one caller may see it: the row, its reports, its parties and what the caller's
    roles let them see (``access.visibility``); ``fields()`` is the document ``access`` shaped."""

    case: Case
    reports: list[CaseReport]
    seen: access.Visibility
    parties: list[tuple[str, str]] = field(default_factory=list)

    @property
    def employee_visible(self) -> bool:
        return self.seen.employee

    def fields(self) -> dict[str, Any]:
        raw = {c: getattr(self.case, c) for c in Case.model_fields}
        raw["involved"] = sorted(k for k, kind in self.parties if kind == "involved")
        return access.shape_case(raw, self.seen)


def recusal_audited(attempted: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Wrap a use-case ``(db, ..., principal=, now=)``: a recusal refusal raised inside it (its unit
    of work already rolled back) is audited as ``case.recusal_refused`` in a unit of its own, then
    answered as the 404 (or the 422 for a recused assignee) it is."""

    def wrap(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return fn(*args, **kwargs)
            except (access.Recused, access.RecusedAssignee) as refusal:
                db = args[0]
                principal = kwargs["principal"]
                now = kwargs.get("now")
                assert isinstance(db, Database) and isinstance(principal, Principal)
                with db.write() as s:
                    audit.append(s, actor=principal.subject, action="case.recusal_refused", case_id=refusal.case_id,
                                 detail={"attempted": attempted, "reason": refusal.reason},
                                 now=now if isinstance(now, datetime) else utcnow())
                raise
        return inner
    return wrap


@dataclass(frozen=True)
class CaseFilter:
    state: str | None = None
    department: str | None = None
    assignee: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None


# --- inside a session ------------------------------------------------------------------


def _set_state(case: Case, state: State, now: datetime, sla: Sla) -> None:
    case.state = state.value
    case.state_entered_at = now
    case.due_at = sla.due(state, now)
    case.updated_at = now


def _report_ids(session: Session, case_id: str) -> list[str]:
    return list(session.exec(select(CaseReport.report_id).where(CaseReport.case_id == case_id)))


def emit_report_event(session: Session, case: Case, *, kind: Literal["status", "message"], now: datetime,
                      status: str | None = None, outcome_summary: str | None = None, message: str | None = None,
                      report_ids: list[str] | None = None) -> int:
    """Queue a ``ReportEvent`` for each report attached to the case (the reporter's view)."""
    targets = report_ids if report_ids is not None else _report_ids(session, case.id)
    public = access.public_view(status=status, outcome_summary=outcome_summary)  # all the reporter gets
    for report_id in targets:
        event = ReportEvent(event_id=new_id(), kind=kind,
                            status=PublicStatus(public["status"]) if public["status"] else None,
                            outcome_summary=public["outcome_summary"], message=message, at=now)
        enqueue(session, OutboxMessage, REPORT_EVENT, ReportEventMessage(report_id=report_id, event=event),
                idempotency_key=f"event-{event.event_id}", now=now)
    return len(targets)


def lock_incident(session: Session, incident_key: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": "incident:" + incident_key})


def open_case_for_incident(session: Session, incident_key: str) -> Case | None:
    """The open case about the same post, unless its row was edited outside the application."""
    lock_incident(session, incident_key)
    case = session.exec(
        select(Case).where(Case.incident_key == incident_key, col(Case.state).in_([s.value for s in OPEN]))
        .order_by(col(Case.created_at))
    ).first()
    if case is not None and not audit.is_sealed(session, case):
        return None  # never build on a record edited outside the application: open a new case
    return case


def new_case(session: Session, *, actor: str, now: datetime, sla: Sla, department: str | None,
             summary: str, categories: list[str], account_id: str | None = None,
             account_text: str | None = None, platform: str | None = None, links: list[str] | None = None,
             seen_on: date | None = None, source: str = "staff", incident_key: str | None = None,
             evidence: list[dict[str, Any]] | None = None) -> Case:
    department = identity.department(department)
    case = Case(
        reference=new_reference("C"), source=source, state=State.received.value, state_entered_at=now,
        due_at=sla.due(State.received, now), department=department, account_id=account_id,
        account_text=account_text, platform=platform, categories=categories, summary=summary,
        links=links or [], evidence=evidence or [], incident_key=incident_key, seen_on=seen_on,
        created_at=now, updated_at=now,
    )
    session.add(case)
    session.flush()
    audit.append(session, actor=actor, action="case.created", case_id=case.id,
                 detail={"source": source, "department": department}, now=now, seal=[case])
    return case


def parties_of(session: Session, case_id: str) -> list[tuple[str, str]]:
    """(person_key, kind) of the case's involved persons and declared conflicts."""
    return [(k, kind) for k, kind in session.exec(
        select(CaseParty.person_key, CaseParty.kind).where(CaseParty.case_id == case_id)
        .order_by(col(CaseParty.created_at), col(CaseParty.id)))]


def visible_case_and_parties(session: Session, case_id: str, principal: Principal, *, for_update: bool = False,
                             what: str = "case") -> tuple[Case, list[tuple[str, str]]]:
    """The case if the principal may see it and is not recused from it, else ``NotFound``
    (``access.Recused`` when recused: the same 404, audited by ``recusal_audited``). ``for_update``:
    locked, and refused (409) when its row no longer matches its audit seal."""
    case = session.get(Case, case_id, with_for_update=for_update) if len(case_id) <= 36 else None
    if case is None:
        raise NotFound(f"No such {what}.")
    access.ensure_visible(principal, case.department, what)
    parties = parties_of(session, case.id)
    reason = access.recusal_reason(person=principal.subject, employee_id=case.employee_id, parties=parties)
    if reason is not None:
        raise access.Recused(case_id=case.id, reason=reason, what=what)
    if for_update:
        audit.ensure_sealed(session, case)
    return case, parties


def visible_case(session: Session, case_id: str, principal: Principal, *, for_update: bool = False,
                 what: str = "case") -> Case:
    return visible_case_and_parties(session, case_id, principal, for_update=for_update, what=what)[0]


def _reports(session: Session, case_id: str) -> list[CaseReport]:
    return list(session.exec(select(CaseReport).where(CaseReport.case_id == case_id)
                             .order_by(col(CaseReport.created_at), col(CaseReport.id))))


def _view(session: Session, case: Case, principal: Principal,
          parties: list[tuple[str, str]] | None = None) -> CaseView:
    return CaseView(case=case, reports=_reports(session, case.id),
                    seen=access.visibility(principal, case.department),
                    parties=parties if parties is not None else parties_of(session, case.id))


# --- use-cases: reading ------------------------------------------------------------------


@recusal_audited("case.read")
def read_case(db: Database, *, case_id: str, principal: Principal, now: datetime) -> CaseView:
    """One case. A caller who may see the employee reads it in a write unit of work that also
    appends the ``case.confidential_read`` audit entry (the read and its audit commit together);
    everyone else reads without taking the write lock."""
    if not access.may_read_employee(principal):
        with db.read() as s:
            return _view(s, *_case_and_parties(s, case_id, principal))
    with db.write() as s:
        view = _view(s, *_case_and_parties(s, case_id, principal))
        involved = [k for k, kind in view.parties if kind == "involved"]
        if view.employee_visible and (view.case.employee_id or involved):
            fields = (["employee_id"] if view.case.employee_id else []) + (["involved"] if involved else [])
            audit.append(s, actor=principal.subject, action="case.confidential_read", case_id=view.case.id,
                         detail={"fields": fields}, now=now)
        return view


def _case_and_parties(session: Session, case_id: str,
                      principal: Principal) -> tuple[Case, Principal, list[tuple[str, str]]]:
    case, parties = visible_case_and_parties(session, case_id, principal)
    return case, principal, parties


def list_cases(db: Database, *, principal: Principal, where: CaseFilter, limit: int,
               offset: int) -> Listing[Row[Any]]:
    """Summaries of the cases the principal may see, newest first (deadline first for the due
    lists). Two statements for any page size: a bounded count and the page."""
    q = visible_cases(principal)
    if where.state:
        q = q.where(Case.state == where.state)
    if where.department:
        q = q.where(Case.department == identity.department(where.department))
    if where.assignee:
        q = q.where(Case.assignee == identity.person_key(where.assignee))
    if where.due_before is not None:
        q = q.where(col(Case.due_at).is_not(None), col(Case.due_at) < where.due_before)
    if where.due_after is not None:
        q = q.where(col(Case.due_at) >= where.due_after)
    ordering = SOONEST_DUE if where.due_before or where.due_after else NEWEST_FIRST
    with db.read() as s:
        return summary_page(s, q, ordering=ordering, limit=limit, offset=offset)


def _oldest_first(db: Database, model: type[R], *, case_id: str, principal: Principal, limit: int,
                  offset: int) -> list[R]:
    """A page of a visible case's notes or messages, oldest first."""
    with db.read() as s:
        visible_case(s, case_id, principal)
        table: Any = model
        return list(s.exec(select(model).where(table.case_id == case_id)
                           .order_by(col(table.created_at), col(table.id)).limit(limit).offset(offset)))


@recusal_audited("notes.read")
def list_notes(db: Database, *, case_id: str, principal: Principal, limit: int, offset: int,
               now: datetime) -> list[CaseNote]:
    return _oldest_first(db, CaseNote, case_id=case_id, principal=principal, limit=limit, offset=offset)


@recusal_audited("messages.read")
def list_messages(db: Database, *, case_id: str, principal: Principal, limit: int,
                  offset: int, now: datetime) -> list[CaseMessage]:
    return _oldest_first(db, CaseMessage, case_id=case_id, principal=principal, limit=limit, offset=offset)


@recusal_audited("contact.read")
def reporter_contact(db: Database, peers: ServiceClient, *, case_id: str, report_id: str, principal: Principal,
                     now: datetime) -> str:
    """The reporter's email (feedback_api), every read audited. NotFound when none was given."""
    with db.read() as s:
        visible_case(s, case_id, principal)
        if report_id not in _report_ids(s, case_id):
            raise NotFound("No such report on this case.")
    email = clients.reporter_contact(peers, report_id=report_id)  # no transaction open
    with db.write() as s:
        audit.append(s, actor=principal.subject, action="case.contact_read", case_id=case_id,
                     detail={"report_id": report_id, "found": email is not None}, now=now)
    if email is None:
        raise NotFound("The reporter gave no contact, or has erased it.")
    return email


@recusal_audited("evidence.read")
def evidence_file(db: Database, peers: ServiceClient, *, case_id: str, evidence_id: str, principal: Principal,
                  now: datetime) -> tuple[bytes, str]:
    """An evidence file of the case as feedback_api holds it, every read audited."""
    with db.read() as s:
        case = visible_case(s, case_id, principal)
        if evidence_id not in {str(e.get("id")) for e in case.evidence}:
            raise NotFound("No such evidence on this case.")
    found = clients.evidence_file(peers, evidence_id=evidence_id)  # no transaction open
    with db.write() as s:
        audit.append(s, actor=principal.subject, action="case.evidence_read", case_id=case_id,
                     detail={"evidence_id": evidence_id, "found": found is not None}, now=now)
    if found is None:
        raise NotFound("The evidence file is no longer held.")
    return found


# --- use-cases: changing -------------------------------------------------------------------


def create_case(db: Database, *, principal: Principal, now: datetime, sla: Sla, department: str | None,
                summary: str, categories: list[str], account_id: str | None = None,
                account_text: str | None = None, platform: str | None = None, links: list[str] | None = None,
                seen_on: date | None = None) -> CaseView:
    with db.write() as s:
        case = new_case(s, actor=principal.subject, now=now, sla=sla, department=department, summary=summary,
                        categories=categories, account_id=account_id, account_text=account_text,
                        platform=platform, links=links, seen_on=seen_on)
        return CaseView(case=case, reports=[], seen=access.visibility(principal, case.department))


@recusal_audited("case.transition")
def transition_case(db: Database, *, case_id: str, principal: Principal, target: State, now: datetime, sla: Sla,
                    reason: str | None = None, department: str | None = None,
                    outcome_summary: str | None = None) -> CaseView:
    """Every state change except recording a finding (``record_finding``); reopening included."""
    with db.write() as s:
        case = visible_case(s, case_id, principal, for_update=True)
        if principal.has_any(Role.department_director) and not access.unscoped(principal):
            access.ensure_acts_in_department(principal, case.department, access.CLOSE)
        if target == State.dismissed:
            access.require_public_outcome(outcome_summary)
        _transition(s, case=case, target=target, actor=principal.subject, now=now, sla=sla, reason=reason,
                    department=department, outcome_summary=outcome_summary)
        return _view(s, case, principal)


@recusal_audited("case.reopen")
def reopen_case(db: Database, *, case_id: str, principal: Principal, reason: str, now: datetime,
                sla: Sla) -> CaseView:
    with db.write() as s:
        case = visible_case(s, case_id, principal, for_update=True)
        _transition(s, case=case, target=State.triaged, actor=principal.subject, now=now, sla=sla, reason=reason)
        return _view(s, case, principal)


def _transition(session: Session, *, case: Case, target: State, actor: str, now: datetime, sla: Sla,
                reason: str | None = None, department: str | None = None,
                outcome_summary: str | None = None) -> Case:
    current = State(case.state)
    if target == State.finding_recorded:
        raise ValidationFailed("Use the finding endpoint to record a finding.")
    facts = CaseFacts(state=current, finding=Finding(case.finding) if case.finding else None,
                      decision_recorded=case.decision is not None)
    check(facts, target, reason=reason)
    detail: dict[str, Any] = {"from": current.value, "to": target.value}
    if target == State.triaged and department:
        department = identity.department(department)
        detail["department"] = {"from": case.department, "to": department}
        case.department = department
    if target == State.dismissed:
        case.dismissal_reason = reason
        detail["reason"] = reason
    if current in TERMINAL:  # reopen: the earlier finding and decision no longer stand
        for record in decisions_of(session, case.id):
            if record.status in ("pending", "in_force"):
                record.status = "withdrawn"
                session.add(record)
        case.reopen_reason = reason
        detail["reason"] = reason
        detail["previous"] = {"finding": case.finding, "decision": case.decision, "closed_at":
                              case.closed_at.isoformat() if case.closed_at else None}
        case.finding = None
        case.finding_at = None
        case.severity = None
        case.recommendation = None
        case.decision = None
        case.closed_at = None
        case.outcome_summary = None
        case.dismissal_reason = None
    if target in TERMINAL:
        case.closed_at = now
        if outcome_summary:
            case.outcome_summary = outcome_summary
            detail["outcome_summary"] = outcome_summary
    _set_state(case, target, now, sla)
    session.add(case)
    session.flush()
    audit.append(session, actor=actor, action="case.transition", case_id=case.id, detail=detail, now=now,
                 seal=[case])
    if public_status(current) != public_status(target) or (target in TERMINAL and outcome_summary):
        emit_report_event(session, case, kind="status", status=public_status(target),
                          outcome_summary=case.outcome_summary if target in TERMINAL else None, now=now)
    return case


@recusal_audited("case.assign")
def assign_case(db: Database, *, case_id: str, principal: Principal, assignee: str | None,
                now: datetime, require_known: bool = False) -> CaseView:
    with db.write() as s:
        case, parties = visible_case_and_parties(s, case_id, principal, for_update=True)
        assignee = identity.person_key(assignee)
        if require_known:
            employees.ensure_known(s, assignee, field="assignee")
        if access.recusal_reason(person=assignee, employee_id=case.employee_id, parties=parties):
            raise access.RecusedAssignee(case_id=case.id)
        before = case.assignee
        case.assignee = assignee
        case.updated_at = now
        s.add(case)
        s.flush()
        audit.append(s, actor=principal.subject, action="case.assigned", case_id=case.id,
                     detail={"from": before, "to": assignee}, now=now, seal=[case])
        return _view(s, case, principal)


@recusal_audited("case.identify_employee")
def identify_employee(db: Database, *, case_id: str, principal: Principal, employee_id: str | None,
                      now: datetime, require_known: bool = False) -> CaseView:
    with db.write() as s:
        case = visible_case(s, case_id, principal, for_update=True)
        before = case.employee_id
        employee_id = identity.person_key(employee_id)
        if require_known:
            employees.ensure_known(s, employee_id, field="employee_id")
        if employee_id is not None and employee_id == identity.person_key(case.assignee):
            raise Conflict("The employee is this case's assignee: assign the case to someone else first.")
        case.employee_id = employee_id
        case.updated_at = now
        s.add(case)
        s.flush()
        audit.append(s, actor=principal.subject, action="case.employee_identified", case_id=case.id,
                     detail={"from": before, "to": employee_id}, now=now, seal=[case])
        return _view(s, case, principal)


def priors(session: Session, *, employee_id: str, exclude_case_id: str, since: datetime,
           until: datetime) -> list[Case]:
    """Sustained findings for the same employee in ``[since, until)``, other than this case."""
    return list(session.exec(
        select(Case).where(
            Case.employee_id == identity.person_key(employee_id), Case.finding == Finding.sustained.value,
            Case.id != exclude_case_id,
            col(Case.id).not_in(select(DueProcess.case_id).where(DueProcess.step == due_process.Step.overturned.value)),
            col(Case.finding_at) >= since, col(Case.finding_at) < until,
        ).order_by(col(Case.finding_at))
    ))


@dataclass(frozen=True)
class _FindingInputs:
    state: str
    employee_id: str | None
    seen_on: date | None
    department: str | None


@recusal_audited("case.finding")
def record_finding(db: Database, peers: ServiceClient, *, case_id: str, principal: Principal, finding: Finding,
                   severity: int | None, summary: str | None, now: datetime, sla: Sla, matrix: ladder.Matrix,
                   acknowledgement_timeout: float) -> CaseView:
    """investigating -> finding_recorded. A sustained finding needs the employee and a severity,
    and computes the ladder's recommendation, keeping what led to it, with policy_api's answer
    on the acknowledgement. policy_api is asked with no transaction open (read, ask, write); if
    the case changed in between in a way that matters (state, employee, date seen, department), 409.
    The case's department goes with the question: a department's own policy is in force for the
    employees of that department, whether or not they held posting privileges there."""
    with db.read() as s:
        case = visible_case(s, case_id, principal)
        seen = _FindingInputs(state=case.state, employee_id=case.employee_id, seen_on=case.seen_on,
                              department=case.department)
    check(CaseFacts(state=State(seen.state)), State.finding_recorded, finding=finding)
    ack: dict[str, object] | None = None
    if finding == Finding.sustained and seen.employee_id and severity is not None:
        ack = clients.acknowledgement_for(peers, employee_id=seen.employee_id, on=seen.seen_on or now.date(),
                                          department=seen.department, timeout=acknowledgement_timeout)
    with db.write() as s:
        case = visible_case(s, case_id, principal, for_update=True)
        if _FindingInputs(state=case.state, employee_id=case.employee_id, seen_on=case.seen_on,
                          department=case.department) != seen:
            raise Conflict("The case changed while the finding was being prepared; reload it and try again.",
                           current_state=case.state)
        _record_finding(s, case=case, finding=finding, severity=severity, summary=summary, actor=principal.subject,
                        now=now, sla=sla, matrix=matrix, acknowledgement=ack)
        return _view(s, case, principal)


def _record_finding(session: Session, *, case: Case, finding: Finding, severity: int | None, summary: str | None,
                    actor: str, now: datetime, sla: Sla, matrix: ladder.Matrix,
                    acknowledgement: dict[str, object] | None) -> Case:
    facts = CaseFacts(state=State(case.state))
    check(facts, State.finding_recorded, finding=finding)
    if finding == Finding.sustained:
        errs = []
        if severity is None:
            errs.append(field_error(["body", "severity"], "required for a sustained finding"))
        if not case.employee_id:
            errs.append(field_error(["body", "employee_id"], "identify the employee before a sustained finding"))
        if errs:
            raise ValidationFailed("A sustained finding needs a severity and the employee concerned.", errors=errs)
        assert severity is not None and case.employee_id is not None
        since = ladder.lookback_start(now, matrix.lookback_months)
        prior_cases = priors(session, employee_id=case.employee_id, exclude_case_id=case.id, since=since, until=now)
        rec = ladder.recommend(matrix, severity=severity, prior_count=len(prior_cases))
        case.recommendation = {
            "matrix_version": rec.matrix_version,
            "severity": severity,
            "prior_count": rec.prior_count,
            "priors": [{"case_id": p.id, "reference": p.reference,
                        "finding_at": p.finding_at.isoformat() if p.finding_at else None} for p in prior_cases],
            "lookback_months": rec.lookback_months,
            "lookback_from": since.isoformat(),
            "action": rec.action.value,
            "restorative": [r.value for r in rec.restorative],
            "policy": acknowledgement or {"status": "unknown"},
            "computed_at": now.isoformat(),
        }
    case.finding = finding.value
    case.finding_at = now
    case.severity = severity
    if summary:
        case.outcome_summary = summary
    _set_state(case, State.finding_recorded, now, sla)
    session.add(case)
    session.flush()
    audit.append(session, actor=actor, action="case.finding_recorded", case_id=case.id,
                 detail={"finding": finding.value, "severity": severity, "recommendation": case.recommendation},
                 now=now, seal=[case])
    return case


@dataclass(frozen=True)
class DecisionRules:
    """Where the resolution leaves room (settings ``CASE_API_DEPARTMENT_DIRECTORS``,
    ``CASE_API_AMENDMENT_REASON_MIN_CHARS``): who directs each department, and how long an
    amendment's reason must be."""

    directors: dict[str, str] = field(default_factory=dict)
    amendment_reason_min_chars: int = 20
    windows: due_process.Windows = field(default_factory=due_process.Windows)

    def director_is_subject(self, case: Case) -> bool:
        director = {identity.department(d): identity.person_key(e) for d, e in self.directors.items()}
        return case.employee_id is not None and director.get(case.department) == case.employee_id


def open_proceeding(session: Session, case_id: str) -> DueProcess | None:
    return session.exec(select(DueProcess).where(DueProcess.case_id == case_id,
                                                 col(DueProcess.step).in_([x.value for x in due_process.OPEN]))).first()


def _mark_decided(session: Session, *, case: Case, record: CaseDecision, now: datetime,
                  windows: due_process.Windows) -> None:
    """The open due-process proceeding, if any, is decided (refused while its response window is
    open); with ``windows.required`` one must exist."""
    proceeding = open_proceeding(session, case.id)
    if proceeding is None:
        if windows.required:
            raise Conflict("Propose the action with notice to the employee first (POST /proposed-action).",
                           current_state=case.state)
        return
    step = due_process.Step(proceeding.step)
    due_process.check(step, due_process.Step.decided, today=now.date(),
                      due_on=proceeding.response_due_on if step == due_process.Step.noticed else None)
    proceeding.step = due_process.Step.decided.value
    proceeding.decision_id = record.id
    proceeding.final_action = record.action
    proceeding.decided_at = now
    proceeding.appeal_due_on = windows.appeal_due(now.date())
    session.add(proceeding)


def decisions_of(session: Session, case_id: str) -> list[CaseDecision]:
    return list(session.exec(select(CaseDecision).where(CaseDecision.case_id == case_id)
                             .order_by(col(CaseDecision.version))))


def _decision_detail(record: CaseDecision) -> dict[str, Any]:
    return {"decision_id": record.id, "version": record.version, "amends": record.amends, "action": record.action,
            "recommended": record.recommended, "differs": record.differs, "heavier": record.heavier,
            "justification": record.justification, "amendment_reason": record.amendment_reason,
            "decided_by": record.decided_by, "role": record.role, "at": record.decided_at.isoformat(),
            "approval_rule": record.approval_rule, "approved_by": record.approved_by, "status": record.status}


def _put_in_force(session: Session, *, case: Case, record: CaseDecision, previous: CaseDecision | None,
                  now: datetime, sla: Sla) -> None:
    if previous is not None:
        previous.status = "superseded"
        session.add(previous)
    record.status = "in_force"
    session.add(record)
    case.decision = {k: v for k, v in _decision_detail(record).items() if k != "status"}
    if case.state == State.finding_recorded.value:
        _set_state(case, State.actions, now, sla)
    case.updated_at = now
    session.add(case)
    session.flush()


@recusal_audited("case.decision")
def record_decision(db: Database, *, case_id: str, principal: Principal, action: ladder.DisciplinaryAction,
                    justification: str | None, now: datetime, sla: Sla, rules: DecisionRules,
                    amendment_reason: str | None = None) -> CaseView:
    """The disciplinary decision by hr or the department director: a record (``case_decisions``),
    never an overwritten field. It may differ from the recommendation only with a written
    justification. The first decision is in force at once and moves finding_recorded -> actions,
    unless the subject is the department's director: then only HR decides, and a second approver
    from outside the department puts it in force. A later decision is an *amendment*: it needs a
    reason and a second approver who is neither its author nor the decider of the one it amends;
    until approved the decision in force stays, and both stay in the history."""
    actor = principal.subject
    with db.write() as s:
        case, parties = visible_case_and_parties(s, case_id, principal, for_update=True)
        access.ensure_acts_in_department(principal, case.department, access.DECIDE)
        if case.finding != Finding.sustained.value or case.recommendation is None:
            raise Conflict("Only a case with a sustained finding takes a disciplinary decision.",
                           current_state=case.state)
        if case.state not in (State.finding_recorded.value, State.actions.value):
            raise Conflict("The decision is taken after the finding and before closing.", current_state=case.state)
        director_subject = rules.director_is_subject(case)
        if director_subject and not principal.has_any(Role.hr):
            raise Conflict("The subject of this case directs its department: HR decides, with a second approver "
                           "from outside the department.", current_state=case.state)
        role = Role.hr.value if principal.has_any(Role.hr) else Role.department_director.value
        recommended = ladder.DisciplinaryAction(case.recommendation["action"])
        problem = ladder.check_decision(recommended, action, justification)
        if problem:
            raise ValidationFailed(problem, errors=[field_error(["body", "justification"], "required when the "
                                                                "decision differs from the recommendation")])
        history = decisions_of(s, case.id)
        if any(d.status == "pending" for d in history):
            raise Conflict("A decision on this case awaits its second approver.", current_state=case.state)
        in_force = next((d for d in history if d.status == "in_force"), None)
        rule: str | None = None
        if in_force is not None:
            if len((amendment_reason or "").strip()) < rules.amendment_reason_min_chars:
                raise ValidationFailed(
                    "Changing a decision is an amendment: it needs a reason.",
                    errors=[field_error(["body", "amendment_reason"],
                                        f"at least {rules.amendment_reason_min_chars} characters")])
            rule = "amendment"
        elif director_subject:
            rule = "director_is_subject"
        record = CaseDecision(
            case_id=case.id, version=len(history) + 1, amends=in_force.id if in_force else None,
            action=action.value, recommended=recommended.value, differs=action != recommended,
            heavier=ladder.ACTION_RANK[action] > ladder.ACTION_RANK[recommended], justification=justification,
            amendment_reason=amendment_reason if in_force else None, decided_by=actor, role=role, decided_at=now,
            approval_rule=rule, status="pending")
        s.add(record)
        s.flush()
        if in_force is None:
            _mark_decided(s, case=case, record=record, now=now, windows=rules.windows)
        if rule is None:
            _put_in_force(s, case=case, record=record, previous=None, now=now, sla=sla)
        audit.append(s, actor=actor, action="case.decision_recorded" if rule is None else "case.decision_proposed",
                     case_id=case.id, detail=_decision_detail(record), now=now, seal=[case])
        return _view(s, case, principal, parties)


@recusal_audited("case.decision_approve")
def approve_decision(db: Database, *, case_id: str, decision_id: str, principal: Principal, now: datetime,
                     sla: Sla) -> CaseView:
    """The second approver of a pending decision or amendment puts it in force."""
    with db.write() as s:
        case, parties = visible_case_and_parties(s, case_id, principal, for_update=True)
        record = s.get(CaseDecision, decision_id) if len(decision_id) <= 36 else None
        if record is None or record.case_id != case.id:
            raise NotFound("No such decision.")
        if record.status != "pending":
            raise Conflict(f"The decision is {record.status}, not awaiting approval.", current_state=case.state)
        history = decisions_of(s, case.id)
        previous = next((d for d in history if d.id == record.amends), None)
        deciders = {identity.person_key(record.decided_by)}
        if previous is not None:
            deciders.add(identity.person_key(previous.decided_by))
        if identity.person_key(principal.subject) in deciders:
            raise Forbidden("The second approver must be someone other than the decider(s).")
        if record.approval_rule == "director_is_subject":
            if not principal.has_any(Role.hr) or access.department_of(principal) == case.department:
                raise Forbidden("This decision needs a second approver from HR outside the department.")
        else:
            access.ensure_acts_in_department(principal, case.department, access.APPROVE_DECISION)
        record.approved_by = principal.subject
        record.approved_at = now
        in_force = next((d for d in history if d.status == "in_force"), None)
        _put_in_force(s, case=case, record=record, previous=in_force, now=now, sla=sla)
        audit.append(s, actor=principal.subject, action="case.decision_approved", case_id=case.id,
                     detail=_decision_detail(record), now=now, seal=[case])
        return _view(s, case, principal, parties)


@recusal_audited("decisions.read")
def list_decisions(db: Database, *, case_id: str, principal: Principal, now: datetime) -> list[CaseDecision]:
    """The case's decision history, oldest first: every version, its approver and its status."""
    with db.read() as s:
        case = visible_case(s, case_id, principal)
        if not access.visibility(principal, case.department).disciplinary:
            raise NotFound("No such case.")
        return decisions_of(s, case.id)


@recusal_audited("conflict.declare")
def declare_conflict(db: Database, *, case_id: str, principal: Principal, reason: str, now: datetime) -> CaseParty:
    """The caller declares a conflict of interest: from now on they are recused from the case (and
    unassigned from it if they held it)."""
    with db.write() as s:
        case = visible_case(s, case_id, principal, for_update=True)
        return _add_party(s, case=case, person=principal.subject, kind="conflict", reason=reason,
                          actor=principal.subject, now=now)


@recusal_audited("case.name_involved")
def name_involved(db: Database, *, case_id: str, principal: Principal, person_id: str, reason: str | None,
                  now: datetime, require_known: bool = False) -> CaseView:
    """Name another employee as involved in the case: they are recused from it like its subject."""
    with db.write() as s:
        case = visible_case(s, case_id, principal, for_update=True)
        if require_known:
            employees.ensure_known(s, person_id, field="person_id")
        _add_party(s, case=case, person=person_id, kind="involved", reason=reason, actor=principal.subject, now=now)
        return _view(s, case, principal)


def _add_party(session: Session, *, case: Case, person: str, kind: str, reason: str | None, actor: str,
               now: datetime) -> CaseParty:
    key = identity.person_key(person)
    if key is None:
        raise ValidationFailed("A person is needed.", errors=[field_error(["body", "person_id"], "required")])
    existing = session.exec(select(CaseParty).where(CaseParty.case_id == case.id, CaseParty.person_key == key,
                                                    CaseParty.kind == kind)).first()
    if existing is not None:
        return existing
    party = CaseParty(case_id=case.id, person_key=key, kind=kind, reason=reason, declared_by=actor, created_at=now)
    session.add(party)
    unassigned = identity.person_key(case.assignee) == key
    if unassigned:
        case.assignee = None
        case.updated_at = now
        session.add(case)
    session.flush()
    audit.append(session, actor=actor, action=f"case.{kind}_recorded", case_id=case.id,
                 detail={"party_id": party.id, "person": key, "unassigned": unassigned}, now=now, seal=[case])
    return party


@recusal_audited("audit.read")
def audit_entries(db: Database, *, case_id: str, principal: Principal, limit: int, offset: int,
                  now: datetime) -> list[dict[str, Any]]:
    """The audit entries of one case, in chain order (ix_audit_entries_case_id_seq), as the caller's
    roles may read them (``access.shape_audit_entry``: an auditor never reads the employee)."""
    unit = db.write if access.may_read_employee(principal) else db.read
    with unit() as s:
        case, parties = visible_case_and_parties(s, case_id, principal)
        rows = list(s.exec(select(AuditEntry).where(col(AuditEntry.case_id) == case.id)
                           .order_by(col(AuditEntry.seq)).limit(limit).offset(offset)))
        seen = access.visibility(principal, case.department)
        identities = [case.employee_id, *(k for k, kind in parties if kind == "involved")]
        shaped = [access.shape_audit_entry(r.model_dump(), seen=seen, identities=identities) for r in rows]
        if seen.employee and any(identities):  # the trail names the employee: this read is audited too
            audit.append(s, actor=principal.subject, action="case.confidential_read", case_id=case.id,
                         detail={"fields": ["audit_trail"]}, now=now)
        return shaped


@recusal_audited("note.add")
def add_note(db: Database, *, case_id: str, principal: Principal, body: str, now: datetime) -> CaseNote:
    with db.write() as s:
        case = visible_case(s, case_id, principal, for_update=True)
        note = CaseNote(case_id=case.id, author=principal.subject, body=body, created_at=now)
        s.add(note)
        s.flush()
        audit.append(s, actor=principal.subject, action="note.added", case_id=case.id,
                     detail={"note_id": note.id}, now=now)
        return note

# Messages to a reporter: domain/reporter_safety.py (one report at a time, intake and investigators only).
