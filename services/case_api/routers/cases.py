"""Staff endpoints for cases: create, list, read, workflow, finding, decision, notes, messages."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from services.case_api.clients import acknowledgement_for, evidence_file, reporter_contact
from services.case_api.deps import MatrixDep, SettingsDep, SlaDep, wake_relay
from services.case_api.domain import access, audit, cases
from services.case_api.domain.models import Case
from services.case_api.domain.state_machine import State, allowed
from services.case_api.schemas import (
    AssignIn,
    CaseCreate,
    CaseOut,
    CaseSummaryOut,
    DecisionIn,
    EmployeeIn,
    FindingIn,
    MessageIn,
    MessageOut,
    NoteIn,
    NoteOut,
    ReopenIn,
    ReportLinkOut,
    TransitionIn,
)
from shared.api import SessionDep
from shared.auth import Principal, Role
from shared.db import unit_of_work
from shared.errors import NotFound
from shared.schemas.page import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from shared.timeutil import Clock
from shared.web import ClockDep, problem_responses, require_roles

router = APIRouter(prefix="/v1/cases", tags=["cases"], dependencies=[Depends(wake_relay)])

CaseId = Annotated[str, Path(max_length=36)]
LimitQ = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
OffsetQ = Annotated[int, Query(ge=0, le=1_000_000)]
Staff = Annotated[Principal, Depends(require_roles(*access.STAFF))]
R404 = problem_responses(401, 403, 404)
R409 = problem_responses(401, 403, 404, 409)


def _out(session: Any, case: Case, principal: Principal, request: Request, clock: Clock) -> CaseOut:
    out = CaseOut.model_validate(case, from_attributes=True)
    out.reports = [ReportLinkOut.model_validate(r, from_attributes=True) for r in cases.reports(session, case=case)]
    out.allowed_transitions = sorted(s.value for s in allowed(State(case.state)))
    visible = access.can_see_employee(principal, case.department)
    out.employee_visible = visible
    out.employee_id = case.employee_id if visible else None
    if not visible and case.recommendation:
        rec = dict(case.recommendation)
        rec.pop("priors", None)  # other cases of the same employee would identify them
        rec.pop("policy", None)
        out.recommendation = rec
    if visible and case.employee_id and request.method == "GET":
        _audit_read(request, principal, clock, case.id, "case.confidential_read", {"fields": ["employee_id"]})
    return out


def _audit_read(request: Request, principal: Principal, clock: Clock, case_id: str, action: str,
                detail: dict[str, Any]) -> None:
    """A confidential read, audited in its own transaction (GETs run on a read-only unit of work)."""
    with unit_of_work(request.app.state.engine) as s:
        audit.append(s, actor=principal.subject, action=action, case_id=case_id, detail=detail, now=clock.now())


def _visible_case(session: Any, case_id: str, principal: Principal) -> Case:
    return cases.get_case(session, case_id, principal, for_update=True)


@router.post("", status_code=201, response_model=CaseOut, operation_id="create_case",
             summary="Open a case by hand (e.g. from a phone call or an internal referral)",
             responses=problem_responses(401, 403))
def create_case(body: CaseCreate, session: SessionDep, clock: ClockDep, sla: SlaDep, request: Request,
                principal: Annotated[Principal, Depends(require_roles(*access.CREATE_CASE))]) -> CaseOut:
    case = cases.create_case(
        session, actor=principal.subject, now=clock.now(), sla=sla, department=body.department,
        summary=body.summary, categories=[c.value for c in body.categories], account_id=body.account_id,
        account_text=body.account_text, platform=body.platform.value if body.platform else None,
        links=body.links, seen_on=body.seen_on,
    )
    return _out(session, case, principal, request, clock)


@router.get("", response_model=Page[CaseSummaryOut], operation_id="list_cases",
            summary="Cases you may see (department directors and PIOs: their department only)",
            responses=problem_responses(401, 403))
def list_cases(session: SessionDep, principal: Staff, state: State | None = None,
               department: Annotated[str | None, Query(max_length=120)] = None,
               assignee: Annotated[str | None, Query(max_length=100)] = None,
               limit: LimitQ = DEFAULT_PAGE_SIZE, offset: OffsetQ = 0) -> Page[CaseSummaryOut]:
    rows, total = cases.list_cases(session, principal, state=state.value if state else None, department=department,
                                   assignee=assignee, limit=limit, offset=offset)
    items = [CaseSummaryOut.model_validate(r, from_attributes=True) for r in rows]
    return Page[CaseSummaryOut].build(items, total=total, limit=limit, offset=offset)


@router.get("/due-soon", response_model=Page[CaseSummaryOut], operation_id="cases_due_soon",
            summary="Open cases whose current state's SLA ends within the window", responses=problem_responses(401))
def due_soon(session: SessionDep, principal: Staff, clock: ClockDep, settings: SettingsDep,
             within_hours: Annotated[int | None, Query(ge=1, le=24 * 90)] = None,
             limit: LimitQ = DEFAULT_PAGE_SIZE, offset: OffsetQ = 0) -> Page[CaseSummaryOut]:
    now = clock.now()
    window = timedelta(hours=within_hours or settings.due_soon_hours)
    rows, total = cases.list_cases(session, principal, due_after=now, due_before=now + window, limit=limit,
                                   offset=offset)
    items = [CaseSummaryOut.model_validate(r, from_attributes=True) for r in rows]
    return Page[CaseSummaryOut].build(items, total=total, limit=limit, offset=offset)


@router.get("/overdue", response_model=Page[CaseSummaryOut], operation_id="cases_overdue",
            summary="Open cases past their current state's SLA", responses=problem_responses(401))
def overdue(session: SessionDep, principal: Staff, clock: ClockDep,
            limit: LimitQ = DEFAULT_PAGE_SIZE, offset: OffsetQ = 0) -> Page[CaseSummaryOut]:
    rows, total = cases.list_cases(session, principal, due_before=clock.now(), limit=limit, offset=offset)
    items = [CaseSummaryOut.model_validate(r, from_attributes=True) for r in rows]
    return Page[CaseSummaryOut].build(items, total=total, limit=limit, offset=offset)


@router.get("/{case_id}", response_model=CaseOut, operation_id="get_case",
            summary="One case; the employee concerned only for roles that need it (audited)", responses=R404)
def get_case(case_id: CaseId, session: SessionDep, principal: Staff, request: Request, clock: ClockDep) -> CaseOut:
    case = cases.get_case(session, case_id, principal)
    return _out(session, case, principal, request, clock)


@router.post("/{case_id}/transitions", response_model=CaseOut, operation_id="transition_case",
             summary="Move a case along the workflow (illegal moves: 409 InvalidTransition)", responses=R409)
def transition(case_id: CaseId, body: TransitionIn, session: SessionDep, principal: Staff, clock: ClockDep,
               sla: SlaDep, request: Request) -> CaseOut:
    target = State(body.to)
    if target in (State.triaged, State.dismissed):
        principal.require(*access.TRIAGE)
    elif target in (State.investigating,):
        principal.require(*access.INVESTIGATE)
    else:
        principal.require(*access.CLOSE)
    case = _visible_case(session, case_id, principal)
    if principal.has_any(Role.department_director) and not access.unscoped(principal):
        access.ensure_acts_in_department(principal, case.department, access.CLOSE)
    cases.transition(session, case=case, target=target, actor=principal.subject, now=clock.now(), sla=sla,
                     reason=body.reason, department=body.department, outcome_summary=body.outcome_summary)
    return _out(session, case, principal, request, clock)


@router.post("/{case_id}/reopen", response_model=CaseOut, operation_id="reopen_case",
             summary="Reopen a closed or dismissed case, with a reason", responses=R409)
def reopen(case_id: CaseId, body: ReopenIn, session: SessionDep, clock: ClockDep, sla: SlaDep, request: Request,
           principal: Annotated[Principal, Depends(require_roles(Role.investigator, Role.hr, Role.admin))]) -> CaseOut:
    case = _visible_case(session, case_id, principal)
    cases.transition(session, case=case, target=State.triaged, actor=principal.subject, now=clock.now(), sla=sla,
                     reason=body.reason)
    return _out(session, case, principal, request, clock)


@router.post("/{case_id}/assignee", response_model=CaseOut, operation_id="assign_case",
             summary="Assign the case to an investigator (null to unassign)", responses=R404)
def assign(case_id: CaseId, body: AssignIn, session: SessionDep, clock: ClockDep, request: Request,
           principal: Annotated[Principal, Depends(require_roles(*access.ASSIGN))]) -> CaseOut:
    case = _visible_case(session, case_id, principal)
    cases.assign(session, case=case, assignee=body.assignee, actor=principal.subject, now=clock.now())
    return _out(session, case, principal, request, clock)


@router.post("/{case_id}/employee", response_model=CaseOut, operation_id="identify_employee",
             summary="Record the employee who posted (confidential)", responses=R404)
def identify(case_id: CaseId, body: EmployeeIn, session: SessionDep, clock: ClockDep, request: Request,
             principal: Annotated[Principal, Depends(require_roles(*access.IDENTIFY_EMPLOYEE))]) -> CaseOut:
    case = _visible_case(session, case_id, principal)
    cases.identify_employee(session, case=case, employee_id=body.employee_id, actor=principal.subject,
                            now=clock.now())
    return _out(session, case, principal, request, clock)


@router.post("/{case_id}/finding", response_model=CaseOut, operation_id="record_finding",
             summary="Record the finding; a sustained one gets the escalation ladder's recommendation",
             responses=R409)
def finding(case_id: CaseId, body: FindingIn, session: SessionDep, clock: ClockDep, sla: SlaDep, request: Request,
            matrix: MatrixDep, settings: SettingsDep,
            principal: Annotated[Principal, Depends(require_roles(*access.INVESTIGATE))]) -> CaseOut:
    case = _visible_case(session, case_id, principal)
    ack = None
    if body.finding.value == "sustained" and case.employee_id:
        on = case.seen_on or clock.now().date()
        ack = acknowledgement_for(settings, employee_id=case.employee_id, on=on)
    cases.record_finding(session, case=case, finding=body.finding, severity=body.severity, summary=body.summary,
                         actor=principal.subject, now=clock.now(), sla=sla, matrix=matrix, acknowledgement=ack)
    return _out(session, case, principal, request, clock)


@router.post("/{case_id}/decision", response_model=CaseOut, operation_id="record_decision",
             summary="The disciplinary decision (hr or the department's director); differing from the "
                     "recommendation needs a written justification", responses=R409)
def decision(case_id: CaseId, body: DecisionIn, session: SessionDep, clock: ClockDep, sla: SlaDep, request: Request,
             principal: Annotated[Principal, Depends(require_roles(*access.DECIDE))]) -> CaseOut:
    case = _visible_case(session, case_id, principal)
    access.ensure_acts_in_department(principal, case.department, access.DECIDE)
    role = Role.hr.value if principal.has_any(Role.hr) else Role.department_director.value
    cases.decide(session, case=case, action=body.action, justification=body.justification, actor=principal.subject,
                 role=role, now=clock.now(), sla=sla)
    return _out(session, case, principal, request, clock)


@router.post("/{case_id}/notes", status_code=201, response_model=NoteOut, operation_id="add_note",
             summary="An internal note (never shown to the reporter)", responses=R404)
def add_note(case_id: CaseId, body: NoteIn, session: SessionDep, clock: ClockDep,
             principal: Annotated[Principal, Depends(require_roles(*access.NOTE))]) -> NoteOut:
    case = _visible_case(session, case_id, principal)
    note = cases.add_note(session, case=case, body=body.body, actor=principal.subject, now=clock.now())
    return NoteOut.model_validate(note, from_attributes=True)


@router.get("/{case_id}/notes", response_model=list[NoteOut], operation_id="list_notes", responses=R404)
def list_notes(case_id: CaseId, session: SessionDep, principal: Staff, limit: LimitQ = MAX_PAGE_SIZE,
               offset: OffsetQ = 0) -> list[NoteOut]:
    case = cases.get_case(session, case_id, principal)
    return [NoteOut.model_validate(n, from_attributes=True)
            for n in cases.notes(session, case=case, limit=limit, offset=offset)]


@router.post("/{case_id}/messages", status_code=201, response_model=MessageOut, operation_id="message_reporter",
             summary="Write to the anonymous reporter(s), relayed through feedback_api", responses=R409)
def message_reporter(case_id: CaseId, body: MessageIn, session: SessionDep, clock: ClockDep,
                     principal: Annotated[Principal, Depends(require_roles(*access.MESSAGE_REPORTER))]) -> MessageOut:
    case = _visible_case(session, case_id, principal)
    msg = cases.message_reporter(session, case=case, body=body.body, actor=principal.subject, now=clock.now())
    return MessageOut.model_validate(msg, from_attributes=True)


@router.get("/{case_id}/messages", response_model=list[MessageOut], operation_id="list_messages", responses=R404)
def list_messages(case_id: CaseId, session: SessionDep, principal: Staff, limit: LimitQ = MAX_PAGE_SIZE,
                  offset: OffsetQ = 0) -> list[MessageOut]:
    case = cases.get_case(session, case_id, principal)
    return [MessageOut.model_validate(m, from_attributes=True)
            for m in cases.messages(session, case=case, limit=limit, offset=offset)]


@router.get("/{case_id}/reports/{report_id}/contact", operation_id="reporter_contact",
            summary="The reporter's email, if they gave one (investigator/admin; every read is audited)",
            responses=problem_responses(401, 403, 404, 502))
def contact(case_id: CaseId, report_id: Annotated[str, Path(max_length=64)], session: SessionDep,
            request: Request, clock: ClockDep, settings: SettingsDep,
            principal: Annotated[Principal, Depends(require_roles(Role.investigator, Role.admin))]) -> dict[str, str]:
    case = cases.get_case(session, case_id, principal)
    if report_id not in {r.report_id for r in cases.reports(session, case=case)}:
        raise NotFound("No such report on this case.")
    email = reporter_contact(settings, report_id=report_id)
    _audit_read(request, principal, clock, case.id, "case.contact_read", {"report_id": report_id,
                                                                          "found": email is not None})
    if email is None:
        raise NotFound("The reporter gave no contact, or has erased it.")
    return {"email": email}


@router.get("/{case_id}/evidence/{evidence_id}", operation_id="case_evidence",
            summary="An evidence file of this case, from feedback_api (metadata stripped; every read is audited)",
            responses={200: {"content": {"application/octet-stream": {}}}, **problem_responses(401, 403, 404, 502)})
def evidence(case_id: CaseId, evidence_id: Annotated[str, Path(max_length=64)], session: SessionDep,
             request: Request, clock: ClockDep, settings: SettingsDep, principal: Staff) -> Response:
    case = cases.get_case(session, case_id, principal)
    if evidence_id not in {str(e.get("id")) for e in case.evidence}:
        raise NotFound("No such evidence on this case.")
    found = evidence_file(settings, evidence_id=evidence_id)
    _audit_read(request, principal, clock, case.id, "case.evidence_read", {"evidence_id": evidence_id,
                                                                           "found": found is not None})
    if found is None:
        raise NotFound("The evidence file is no longer held.")
    content, media_type = found
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="evidence-{evidence_id}"',
        "Content-Security-Policy": "default-src 'none'; sandbox", "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})
