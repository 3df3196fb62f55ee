"""Cases: intake from feedback_api, staff creation, the workflow, findings, decisions, notes and
messages. Keyword-only functions taking a ``Session``; they ``flush``, never ``commit``.
Every change writes an audit entry in the same transaction; every change the reporter may
see writes an outbox event in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from services.case_api.domain import audit, ladder
from services.case_api.domain.access import ensure_visible, visible_departments
from services.case_api.domain.models import Case, CaseMessage, CaseNote, CaseReport, OutboxMessage
from services.case_api.domain.state_machine import OPEN, TERMINAL, CaseFacts, Finding, State, check, public_status
from shared.auth import Principal
from shared.errors import Conflict, NotFound, ValidationFailed, field_error
from shared.ids import new_id, new_reference
from shared.outbox import enqueue
from shared.schemas.intake import ReporterMessage, ReportForward

TOPIC_REPORT_EVENT = "report_event"
TOPIC_REVOKE = "privilege_revoke"


@dataclass(frozen=True)
class Sla:
    hours: dict[str, int]

    def due(self, state: State, entered: datetime) -> datetime | None:
        h = self.hours.get(state.value)
        if h is None or state in TERMINAL:
            return None
        return entered + timedelta(hours=h)


def _set_state(case: Case, state: State, now: datetime, sla: Sla) -> None:
    case.state = state.value
    case.state_entered_at = now
    case.due_at = sla.due(state, now)
    case.updated_at = now


def _report_ids(session: Session, case_id: str) -> list[str]:
    return list(session.exec(select(CaseReport.report_id).where(CaseReport.case_id == case_id)))


def emit_report_event(session: Session, case: Case, *, kind: str, now: datetime, status: str | None = None,
                      outcome_summary: str | None = None, message: str | None = None,
                      report_ids: list[str] | None = None) -> int:
    """Queue a ``ReportEvent`` for each report attached to the case (the reporter's view)."""
    targets = report_ids if report_ids is not None else _report_ids(session, case.id)
    for report_id in targets:
        event_id = new_id()
        payload: dict[str, Any] = {
            "report_id": report_id,
            "event": {"event_id": event_id, "kind": kind, "status": status, "outcome_summary": outcome_summary,
                      "message": message, "at": now.isoformat()},
        }
        enqueue(session, OutboxMessage, topic=TOPIC_REPORT_EVENT, payload=payload,
                idempotency_key=f"event-{event_id}", now=now)
    return len(targets)


# --- intake --------------------------------------------------------------------------


def _lock_incident(session: Session, incident_key: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": "incident:" + incident_key})


def intake_report(session: Session, *, report: ReportForward, actor: str, now: datetime,
                  sla: Sla) -> tuple[Case, bool]:
    """A forwarded report becomes a case, or attaches to the open case about the same post.
    Returns ``(case, created)``. The same report twice is one report on one case."""
    existing = session.exec(select(CaseReport).where(CaseReport.report_id == report.report_id)).first()
    if existing is not None:
        case = session.get(Case, existing.case_id)
        assert case is not None
        return case, False
    case: Case | None = None  # type: ignore[no-redef]
    if report.incident_key:
        _lock_incident(session, report.incident_key)
        case = session.exec(
            select(Case).where(Case.incident_key == report.incident_key, col(Case.state).in_([s.value for s in OPEN]))
            .order_by(col(Case.created_at))
        ).first()
        if case is not None and not audit.is_sealed(session, case):
            case = None  # never build on a record edited outside the application: open a new case
    created = case is None
    if case is None:
        case = Case(
            reference=new_reference("C"), source="report", state=State.received.value, state_entered_at=now,
            due_at=sla.due(State.received, now), department=report.department, account_id=report.account_id,
            account_text=report.account_text, platform=report.platform.value,
            categories=[c.value for c in report.categories], summary=report.description, links=list(report.links),
            evidence=[e.model_dump(mode="json") for e in report.evidence], incident_key=report.incident_key,
            seen_on=report.seen_on, created_at=now, updated_at=now,
        )
        session.add(case)
        session.flush()
    else:
        # Same post: keep the new report's categories, links and evidence with the case.
        case.categories = sorted(set(case.categories) | {c.value for c in report.categories})
        case.links = list(dict.fromkeys([*case.links, *report.links]))[:50]
        case.evidence = [*case.evidence, *[e.model_dump(mode="json") for e in report.evidence]][:100]
        case.updated_at = now
        session.add(case)
    session.add(CaseReport(case_id=case.id, report_id=report.report_id, reference=report.reference,
                           received_on=report.received_on, has_contact=report.has_contact, created_at=now))
    session.flush()
    audit.append(session, actor=actor, action="case.created" if created else "case.report_attached",
                 case_id=case.id, detail={"report_reference": report.reference, "source": "report"}, now=now,
                 seal=[case])
    if not created and case.state != State.received.value:
        emit_report_event(session, case, kind="status", status=public_status(State(case.state)), now=now,
                          report_ids=[report.report_id])
    return case, created


def add_reporter_message(session: Session, *, report_id: str, message: ReporterMessage, now: datetime) -> bool:
    """Store a message from the anonymous reporter. Returns False when it was already stored."""
    link = session.exec(select(CaseReport).where(CaseReport.report_id == report_id)).first()
    if link is None:
        raise NotFound("No case holds this report.")
    if session.exec(select(CaseMessage).where(CaseMessage.external_id == message.message_id)).first():
        return False
    session.add(CaseMessage(case_id=link.case_id, report_id=report_id, direction="from_reporter",
                            external_id=message.message_id, body=message.body, created_at=now))
    session.flush()
    audit.append(session, actor="reporter", action="message.received", case_id=link.case_id,
                 detail={"message_id": message.message_id}, now=now)
    return True


# --- staff ---------------------------------------------------------------------------


def create_case(session: Session, *, actor: str, now: datetime, sla: Sla, department: str | None,
                summary: str, categories: list[str], account_id: str | None = None,
                account_text: str | None = None, platform: str | None = None, links: list[str] | None = None,
                seen_on: date | None = None, source: str = "staff", incident_key: str | None = None,
                evidence: list[dict[str, Any]] | None = None) -> Case:
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


def get_case(session: Session, case_id: str, principal: Principal, *, for_update: bool = False) -> Case:
    case = session.get(Case, case_id, with_for_update=for_update) if len(case_id) <= 36 else None
    if case is None:
        raise NotFound("No such case.")
    ensure_visible(principal, case.department)
    if for_update:
        audit.ensure_sealed(session, case)
    return case


def list_cases(session: Session, principal: Principal, *, state: str | None = None,
               department: str | None = None, assignee: str | None = None, limit: int, offset: int,
               due_before: datetime | None = None, due_after: datetime | None = None) -> tuple[list[Case], int]:
    q = select(Case)
    deps = visible_departments(principal)
    if deps is not None:
        q = q.where(col(Case.department).in_(sorted(deps)))
    if state:
        q = q.where(Case.state == state)
    if department:
        q = q.where(Case.department == department)
    if assignee:
        q = q.where(Case.assignee == assignee)
    if due_before is not None:
        q = q.where(col(Case.due_at).is_not(None), col(Case.due_at) < due_before)
    if due_after is not None:
        q = q.where(col(Case.due_at) >= due_after)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    ordering: tuple[Any, ...]
    if due_before or due_after:
        ordering = (col(Case.due_at), col(Case.id))
    else:  # newest first, walking ix_cases_created_at_id backwards
        ordering = (col(Case.created_at).desc(), col(Case.id).desc())
    rows = list(session.exec(q.order_by(*ordering).limit(limit).offset(offset)))
    return rows, int(total)


def transition(session: Session, *, case: Case, target: State, actor: str, now: datetime, sla: Sla,
               reason: str | None = None, department: str | None = None,
               outcome_summary: str | None = None) -> Case:
    """Every state change except recording a finding (``record_finding``)."""
    current = State(case.state)
    if target == State.finding_recorded:
        raise ValidationFailed("Use the finding endpoint to record a finding.")
    facts = CaseFacts(state=current, finding=Finding(case.finding) if case.finding else None,
                      decision_recorded=case.decision is not None)
    check(facts, target, reason=reason)
    detail: dict[str, Any] = {"from": current.value, "to": target.value}
    if target == State.triaged and department:
        detail["department"] = {"from": case.department, "to": department}
        case.department = department
    if target == State.dismissed:
        case.dismissal_reason = reason
        detail["reason"] = reason
    if current in TERMINAL:  # reopen: the earlier finding and decision no longer stand
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


def assign(session: Session, *, case: Case, assignee: str | None, actor: str, now: datetime) -> Case:
    before = case.assignee
    case.assignee = assignee
    case.updated_at = now
    session.add(case)
    session.flush()
    audit.append(session, actor=actor, action="case.assigned", case_id=case.id,
                 detail={"from": before, "to": assignee}, now=now, seal=[case])
    return case


def identify_employee(session: Session, *, case: Case, employee_id: str | None, actor: str, now: datetime) -> Case:
    before = case.employee_id
    case.employee_id = employee_id
    case.updated_at = now
    session.add(case)
    session.flush()
    audit.append(session, actor=actor, action="case.employee_identified", case_id=case.id,
                 detail={"from": before, "to": employee_id}, now=now, seal=[case])
    return case


def priors(session: Session, *, employee_id: str, exclude_case_id: str, since: datetime,
           until: datetime) -> list[Case]:
    """Sustained findings for the same employee in ``[since, until)``, other than this case."""
    return list(session.exec(
        select(Case).where(
            Case.employee_id == employee_id, Case.finding == Finding.sustained.value, Case.id != exclude_case_id,
            col(Case.finding_at) >= since, col(Case.finding_at) < until,
        ).order_by(col(Case.finding_at))
    ))


def record_finding(session: Session, *, case: Case, finding: Finding, severity: int | None, summary: str | None,
                   actor: str, now: datetime, sla: Sla, matrix: ladder.Matrix,
                   acknowledgement: dict[str, Any] | None) -> Case:
    """investigating -> finding_recorded. A sustained finding needs the employee and a severity,
    and computes the ladder's recommendation, keeping what led to it."""
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


def decide(session: Session, *, case: Case, action: ladder.DisciplinaryAction, justification: str | None,
           actor: str, role: str, now: datetime, sla: Sla) -> Case:
    """The disciplinary decision by hr or the department director. It may differ from the
    recommendation only with a written justification. Moves finding_recorded -> actions."""
    if case.finding != Finding.sustained.value or case.recommendation is None:
        raise Conflict("Only a case with a sustained finding takes a disciplinary decision.",
                       current_state=case.state)
    if case.state not in (State.finding_recorded.value, State.actions.value):
        raise Conflict("The decision is taken after the finding and before closing.", current_state=case.state)
    recommended = ladder.DisciplinaryAction(case.recommendation["action"])
    problem = ladder.check_decision(recommended, action, justification)
    if problem:
        raise ValidationFailed(problem, errors=[field_error(["body", "justification"], "required when the "
                                                            "decision differs from the recommendation")])
    case.decision = {
        "action": action.value,
        "recommended": recommended.value,
        "differs": action != recommended,
        "heavier": ladder.ACTION_RANK[action] > ladder.ACTION_RANK[recommended],
        "justification": justification,
        "decided_by": actor,
        "role": role,
        "at": now.isoformat(),
    }
    if case.state == State.finding_recorded.value:
        _set_state(case, State.actions, now, sla)
    case.updated_at = now
    session.add(case)
    session.flush()
    audit.append(session, actor=actor, action="case.decision_recorded", case_id=case.id, detail=case.decision,
                 now=now, seal=[case])
    return case


def add_note(session: Session, *, case: Case, body: str, actor: str, now: datetime) -> CaseNote:
    note = CaseNote(case_id=case.id, author=actor, body=body, created_at=now)
    session.add(note)
    session.flush()
    audit.append(session, actor=actor, action="note.added", case_id=case.id, detail={"note_id": note.id}, now=now)
    return note


def notes(session: Session, *, case: Case, limit: int, offset: int) -> list[CaseNote]:
    return list(session.exec(select(CaseNote).where(CaseNote.case_id == case.id)
                             .order_by(col(CaseNote.created_at), col(CaseNote.id)).limit(limit).offset(offset)))


def message_reporter(session: Session, *, case: Case, body: str, actor: str, now: datetime) -> CaseMessage:
    reports = _report_ids(session, case.id)
    if not reports:
        raise Conflict("This case has no public report: there is no reporter to write to.")
    msg = CaseMessage(case_id=case.id, direction="to_reporter", author=actor, body=body, created_at=now)
    session.add(msg)
    session.flush()
    emit_report_event(session, case, kind="message", message=body, now=now, report_ids=reports)
    audit.append(session, actor=actor, action="message.sent", case_id=case.id,
                 detail={"message_id": msg.id, "reports": len(reports)}, now=now)
    return msg


def messages(session: Session, *, case: Case, limit: int, offset: int) -> list[CaseMessage]:
    return list(session.exec(select(CaseMessage).where(CaseMessage.case_id == case.id)
                             .order_by(col(CaseMessage.created_at), col(CaseMessage.id)).limit(limit).offset(offset)))


def reports(session: Session, *, case: Case) -> list[CaseReport]:
    return list(session.exec(select(CaseReport).where(CaseReport.case_id == case.id)
                             .order_by(col(CaseReport.created_at))))
