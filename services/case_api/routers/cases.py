"""Staff endpoints for cases: create, list, read, workflow, finding, decision, notes, messages.
Each parses, authorises (function-level roles) and calls one use-case in ``domain/cases.py``."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Path, Query
from fastapi.responses import Response

from services.case_api.deps import MatrixDep, PeersDep, RulesDep, SettingsDep, SlaDep, wake_relay
from services.case_api.domain import access, cases, reporter_safety
from services.case_api.domain.cases import CaseFilter, CaseView
from services.case_api.domain.state_machine import State, allowed
from services.case_api.schemas import (
    CASE_PAGE_NOTE,
    AssignIn,
    CaseCreate,
    CaseOut,
    CasePage,
    ConflictIn,
    ConflictOut,
    DecisionIn,
    DecisionOut,
    EmployeeIn,
    FindingIn,
    InvolvedIn,
    MessageIn,
    MessageOut,
    NoteIn,
    NoteOut,
    ReopenIn,
    ReportLinkOut,
    TransitionIn,
)
from shared.auth import Principal, Role
from shared.schemas.page import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(prefix="/v1/cases", tags=["cases"], dependencies=[Depends(wake_relay)])

CaseId = Annotated[str, Path(max_length=36)]
LimitQ = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
OffsetQ = Annotated[int, Query(ge=0, le=1_000_000)]
Staff = Annotated[Principal, Depends(require_roles(*access.STAFF))]
R404 = problem_responses(401, 403, 404)
R409 = problem_responses(401, 403, 404, 409)


def _out(view: CaseView) -> CaseOut:
    """The document ``access.shape_case`` built for this caller (the one place fields are hidden)."""
    out = CaseOut.model_validate(view.fields())
    out.reports = [ReportLinkOut.model_validate(r, from_attributes=True) for r in view.reports]
    out.allowed_transitions = sorted(s.value for s in allowed(State(view.case.state)))
    return out


@router.post("", status_code=201, response_model=CaseOut, operation_id="create_case",
             summary="Open a case by hand (e.g. from a phone call or an internal referral)",
             responses=problem_responses(401, 403))
def create_case(body: CaseCreate, db: DatabaseDep, clock: ClockDep, sla: SlaDep,
                principal: Annotated[Principal, Depends(require_roles(*access.CREATE_CASE))]) -> CaseOut:
    return _out(cases.create_case(
        db, principal=principal, now=clock.now(), sla=sla, department=body.department, summary=body.summary,
        categories=[c.value for c in body.categories], account_id=body.account_id, account_text=body.account_text,
        platform=body.platform.value if body.platform else None, links=body.links, seen_on=body.seen_on))


# GET /v1/cases (the filtered list) and GET /v1/cases/export: routers/search.py


@router.get("/due-soon", response_model=CasePage, operation_id="cases_due_soon",
            summary="Open cases whose current state's SLA ends within the window",
            description="Soonest deadline first." + CASE_PAGE_NOTE, responses=problem_responses(401))
def due_soon(db: DatabaseDep, principal: Staff, clock: ClockDep, settings: SettingsDep,
             within_hours: Annotated[int | None, Query(ge=1, le=24 * 90)] = None,
             limit: LimitQ = DEFAULT_PAGE_SIZE, offset: OffsetQ = 0) -> CasePage:
    now = clock.now()
    window = timedelta(hours=within_hours or settings.due_soon_hours)
    where = CaseFilter(due_after=now, due_before=now + window)
    return CasePage.of(cases.list_cases(db, principal=principal, where=where, limit=limit, offset=offset),
                       limit=limit, offset=offset)


@router.get("/overdue", response_model=CasePage, operation_id="cases_overdue",
            summary="Open cases past their current state's SLA", description="Oldest deadline first." + CASE_PAGE_NOTE,
            responses=problem_responses(401))
def overdue(db: DatabaseDep, principal: Staff, clock: ClockDep,
            limit: LimitQ = DEFAULT_PAGE_SIZE, offset: OffsetQ = 0) -> CasePage:
    where = CaseFilter(due_before=clock.now())
    return CasePage.of(cases.list_cases(db, principal=principal, where=where, limit=limit, offset=offset),
                       limit=limit, offset=offset)


@router.get("/{case_id}", response_model=CaseOut, operation_id="get_case",
            summary="One case; the employee concerned only for roles that need it (audited)", responses=R404)
def get_case(case_id: CaseId, db: DatabaseDep, principal: Staff, clock: ClockDep) -> CaseOut:
    return _out(cases.read_case(db, case_id=case_id, principal=principal, now=clock.now()))


@router.post("/{case_id}/transitions", response_model=CaseOut, operation_id="transition_case",
             summary="Move a case along the workflow (illegal moves: 409 InvalidTransition)", responses=R409)
def transition(case_id: CaseId, body: TransitionIn, db: DatabaseDep, principal: Staff, clock: ClockDep,
               sla: SlaDep) -> CaseOut:
    target = State(body.to)
    if target in (State.triaged, State.dismissed):
        principal.require(*access.TRIAGE)
    elif target in (State.investigating,):
        principal.require(*access.INVESTIGATE)
    else:
        principal.require(*access.CLOSE)
    return _out(cases.transition_case(db, case_id=case_id, principal=principal, target=target, now=clock.now(),
                                      sla=sla, reason=body.reason, department=body.department,
                                      outcome_summary=body.outcome_summary))


@router.post("/{case_id}/reopen", response_model=CaseOut, operation_id="reopen_case",
             summary="Reopen a closed or dismissed case, with a reason", responses=R409)
def reopen(case_id: CaseId, body: ReopenIn, db: DatabaseDep, clock: ClockDep, sla: SlaDep,
           principal: Annotated[Principal, Depends(require_roles(Role.investigator, Role.hr, Role.admin))]) -> CaseOut:
    return _out(cases.reopen_case(db, case_id=case_id, principal=principal, reason=body.reason, now=clock.now(),
                                  sla=sla))


@router.post("/{case_id}/assignee", response_model=CaseOut, operation_id="assign_case",
             summary="Assign the case to an investigator (null to unassign)", responses=R404)
def assign(case_id: CaseId, body: AssignIn, db: DatabaseDep, clock: ClockDep, settings: SettingsDep,
           principal: Annotated[Principal, Depends(require_roles(*access.ASSIGN))]) -> CaseOut:
    return _out(cases.assign_case(db, case_id=case_id, principal=principal, assignee=body.assignee, now=clock.now(),
                                  require_known=settings.require_known_employees))


@router.post("/{case_id}/employee", response_model=CaseOut, operation_id="identify_employee",
             summary="Record the employee who posted (confidential)", responses=R404)
def identify(case_id: CaseId, body: EmployeeIn, db: DatabaseDep, clock: ClockDep, settings: SettingsDep,
             principal: Annotated[Principal, Depends(require_roles(*access.IDENTIFY_EMPLOYEE))]) -> CaseOut:
    return _out(cases.identify_employee(db, case_id=case_id, principal=principal, employee_id=body.employee_id,
                                        now=clock.now(), require_known=settings.require_known_employees))


@router.post("/{case_id}/finding", response_model=CaseOut, operation_id="record_finding",
             summary="Record the finding; a sustained one gets the escalation ladder's recommendation",
             description="policy_api's acknowledgement check is made with no transaction open; if the case "
                         "changed meanwhile (state, employee, date seen), 409.", responses=R409)
def finding(case_id: CaseId, body: FindingIn, db: DatabaseDep, peers: PeersDep, clock: ClockDep, sla: SlaDep,
            matrix: MatrixDep, settings: SettingsDep,
            principal: Annotated[Principal, Depends(require_roles(*access.INVESTIGATE))]) -> CaseOut:
    return _out(cases.record_finding(
        db, peers, case_id=case_id, principal=principal, finding=body.finding, severity=body.severity,
        summary=body.summary, now=clock.now(), sla=sla, matrix=matrix,
        acknowledgement_timeout=settings.acknowledgement_timeout_seconds))


@router.post("/{case_id}/decision", response_model=CaseOut, operation_id="record_decision",
             summary="The disciplinary decision (hr or the department's director); differing from the "
                     "recommendation needs a written justification", responses=R409)
def decision(case_id: CaseId, body: DecisionIn, db: DatabaseDep, clock: ClockDep, sla: SlaDep, rules: RulesDep,
             principal: Annotated[Principal, Depends(require_roles(*access.DECIDE))]) -> CaseOut:
    return _out(cases.record_decision(db, case_id=case_id, principal=principal, action=body.action,
                                      justification=body.justification, amendment_reason=body.amendment_reason,
                                      now=clock.now(), sla=sla, rules=rules))


@router.get("/{case_id}/decisions", response_model=list[DecisionOut], operation_id="list_decisions",
            summary="Every decision and amendment of the case, oldest first, with approvers and status",
            responses=R404)
def list_decisions(case_id: CaseId, db: DatabaseDep, clock: ClockDep,
                   principal: Annotated[Principal, Depends(require_roles(*access.DECISION_HISTORY))]
                   ) -> list[DecisionOut]:
    return [DecisionOut.model_validate(d, from_attributes=True)
            for d in cases.list_decisions(db, case_id=case_id, principal=principal, now=clock.now())]


@router.post("/{case_id}/decisions/{decision_id}/approval", response_model=CaseOut, operation_id="approve_decision",
             summary="Second approval of a pending decision or amendment (not by its author nor the earlier "
                     "decider; from outside the department when the subject is its director)", responses=R409)
def approve_decision(case_id: CaseId, decision_id: CaseId, db: DatabaseDep, clock: ClockDep, sla: SlaDep,
                     principal: Annotated[Principal, Depends(require_roles(*access.APPROVE_DECISION))]) -> CaseOut:
    return _out(cases.approve_decision(db, case_id=case_id, decision_id=decision_id, principal=principal,
                                       now=clock.now(), sla=sla))


@router.post("/{case_id}/conflicts", status_code=201, response_model=ConflictOut, operation_id="declare_conflict",
             summary="Declare your own conflict of interest: you are recused from the case from now on",
             responses=R404)
def declare_conflict(case_id: CaseId, body: ConflictIn, db: DatabaseDep, clock: ClockDep,
                     principal: Annotated[Principal, Depends(require_roles(*access.DECLARE_CONFLICT))]) -> ConflictOut:
    party = cases.declare_conflict(db, case_id=case_id, principal=principal, reason=body.reason, now=clock.now())
    return ConflictOut(case_id=party.case_id, declared_at=party.created_at)


@router.post("/{case_id}/involved", response_model=CaseOut, operation_id="name_involved",
             summary="Name another employee the case involves (confidential); they are recused from it",
             responses=R404)
def name_involved(case_id: CaseId, body: InvolvedIn, db: DatabaseDep, clock: ClockDep, settings: SettingsDep,
                  principal: Annotated[Principal, Depends(require_roles(*access.NAME_INVOLVED))]) -> CaseOut:
    return _out(cases.name_involved(db, case_id=case_id, principal=principal, person_id=body.person_id,
                                    reason=body.reason, now=clock.now(),
                                    require_known=settings.require_known_employees))


@router.post("/{case_id}/notes", status_code=201, response_model=NoteOut, operation_id="add_note",
             summary="An internal note (never shown to the reporter)", responses=R404)
def add_note(case_id: CaseId, body: NoteIn, db: DatabaseDep, clock: ClockDep,
             principal: Annotated[Principal, Depends(require_roles(*access.NOTE))]) -> NoteOut:
    note = cases.add_note(db, case_id=case_id, principal=principal, body=body.body, now=clock.now())
    return NoteOut.model_validate(note, from_attributes=True)


@router.get("/{case_id}/notes", response_model=list[NoteOut], operation_id="list_notes", responses=R404)
def list_notes(case_id: CaseId, db: DatabaseDep, principal: Staff, clock: ClockDep, limit: LimitQ = MAX_PAGE_SIZE,
               offset: OffsetQ = 0) -> list[NoteOut]:
    return [NoteOut.model_validate(n, from_attributes=True)
            for n in cases.list_notes(db, case_id=case_id, principal=principal, limit=limit, offset=offset,
                                      now=clock.now())]


@router.post("/{case_id}/messages", status_code=201, response_model=MessageOut, operation_id="message_reporter",
             summary="Write to the anonymous reporter of one report (intake, investigators), relayed through "
                     "feedback_api", responses=problem_responses(401, 403, 404, 409, 422))
def message_reporter(case_id: CaseId, body: MessageIn, db: DatabaseDep, clock: ClockDep,
                     principal: Annotated[Principal, Depends(require_roles(*access.MESSAGE_REPORTER))]) -> MessageOut:
    msg = reporter_safety.message_reporter(db, case_id=case_id, principal=principal, body=body.body,
                                           report_id=body.report_id, now=clock.now())
    return MessageOut.model_validate(msg, from_attributes=True)


@router.get("/{case_id}/messages", response_model=list[MessageOut], operation_id="list_messages", responses=R404)
def list_messages(case_id: CaseId, db: DatabaseDep, principal: Staff, clock: ClockDep,
                  limit: LimitQ = MAX_PAGE_SIZE, offset: OffsetQ = 0) -> list[MessageOut]:
    return [MessageOut.model_validate(m, from_attributes=True)
            for m in cases.list_messages(db, case_id=case_id, principal=principal, limit=limit, offset=offset,
                                         now=clock.now())]


@router.get("/{case_id}/reports/{report_id}/contact", operation_id="reporter_contact",
            summary="The reporter's email, if they gave one (investigator/admin; every read is audited)",
            responses=problem_responses(401, 403, 404, 502))
def contact(case_id: CaseId, report_id: Annotated[str, Path(max_length=64)], db: DatabaseDep, peers: PeersDep,
            clock: ClockDep,
            principal: Annotated[Principal, Depends(require_roles(*access.CONTACT))]) -> dict[str, str]:
    email = cases.reporter_contact(db, peers, case_id=case_id, report_id=report_id, principal=principal,
                                   now=clock.now())
    return {"email": email}


@router.get("/{case_id}/evidence/{evidence_id}", operation_id="case_evidence",
            summary="An evidence file of this case, from feedback_api (metadata stripped; every read is audited)",
            responses={200: {"content": {"application/octet-stream": {}}}, **problem_responses(401, 403, 404, 502)})
def evidence(case_id: CaseId, evidence_id: Annotated[str, Path(max_length=64)], db: DatabaseDep, peers: PeersDep,
             clock: ClockDep, principal: Staff) -> Response:
    content, media_type = cases.evidence_file(db, peers, case_id=case_id, evidence_id=evidence_id,
                                              principal=principal, now=clock.now())
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="evidence-{evidence_id}"',
        "Content-Security-Policy": "default-src 'none'; sandbox", "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})
