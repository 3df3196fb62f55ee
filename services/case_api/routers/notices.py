"""Due process (issue 14): the staff side on a case, and the employee's own notices.

The employee concerned is recused from their case (every case endpoint is 404 for them); their
channel is ``/v1/notices``: the proposed action and its dates, their response, their appeal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from services.case_api.deps import RulesDep
from services.case_api.domain import access, discipline
from services.case_api.domain.discipline import Notice
from services.case_api.schemas import (
    AppealIn,
    AppealOutcomeIn,
    NoticeOut,
    NoticeResponseIn,
    ProceedingOut,
    ProposalIn,
)
from shared.auth import Principal, Role
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["due process"])
Id36 = Annotated[str, Path(max_length=36)]
Staff = Annotated[Principal, Depends(require_roles(*access.STAFF))]
R404 = problem_responses(401, 403, 404)
R409 = problem_responses(401, 403, 404, 409)


def _notice(n: Notice) -> NoticeOut:
    p = n.proceeding
    return NoticeOut(id=p.id, case_reference=n.case_reference, categories=n.categories, severity=n.severity,
                     step=p.step, proposed_action=p.proposed_action, proposal_reason=p.proposal_reason,
                     noticed_at=p.noticed_at, response_due_on=p.response_due_on, response=p.response,
                     final_action=p.final_action, appeal_due_on=p.appeal_due_on, appeal_grounds=p.appeal_grounds)


@router.post("/v1/cases/{case_id}/proposed-action", status_code=201, response_model=ProceedingOut,
             operation_id="propose_action",
             summary="Propose a disciplinary action with notice to the employee and a response date", responses=R409)
def propose(case_id: Id36, body: ProposalIn, db: DatabaseDep, clock: ClockDep, rules: RulesDep,
            principal: Annotated[Principal, Depends(require_roles(*access.DECIDE))]) -> ProceedingOut:
    p = discipline.propose_action(db, case_id=case_id, principal=principal, action=body.action, reason=body.reason,
                                  now=clock.now(), windows=rules.windows)
    return ProceedingOut.model_validate(p, from_attributes=True)


@router.get("/v1/cases/{case_id}/due-process", response_model=list[ProceedingOut], operation_id="list_proceedings",
            summary="The case's due-process proceedings", responses=R404)
def list_proceedings(case_id: Id36, db: DatabaseDep, clock: ClockDep,
                     principal: Annotated[Principal, Depends(require_roles(*access.DECISION_HISTORY))]
                     ) -> list[ProceedingOut]:
    return [ProceedingOut.model_validate(p, from_attributes=True)
            for p in discipline.proceedings(db, case_id=case_id, principal=principal, now=clock.now())]


@router.post("/v1/cases/{case_id}/due-process/{proceeding_id}/appeal-outcome", response_model=ProceedingOut,
             operation_id="decide_appeal",
             summary="The outcome of the employee's appeal (HR, not the final decider); overturned: the finding "
                     "no longer counts as a prior", responses=R409)
def decide_appeal(case_id: Id36, proceeding_id: Id36, body: AppealOutcomeIn, db: DatabaseDep, clock: ClockDep,
                  principal: Annotated[Principal, Depends(require_roles(Role.hr))]) -> ProceedingOut:
    p = discipline.decide_appeal(db, case_id=case_id, proceeding_id=proceeding_id, principal=principal,
                                 upheld=body.outcome == "upheld", reason=body.reason, now=clock.now())
    return ProceedingOut.model_validate(p, from_attributes=True)


@router.get("/v1/notices", response_model=list[NoticeOut], operation_id="my_notices",
            summary="Proposed actions against you, with their dates (any staff token: its subject)",
            responses=problem_responses(401, 403))
def my_notices(db: DatabaseDep, principal: Staff) -> list[NoticeOut]:
    return [_notice(n) for n in discipline.my_notices(db, principal=principal)]


@router.post("/v1/notices/{notice_id}/response", response_model=NoticeOut, operation_id="respond_to_notice",
             summary="Your response to a proposed action, by its due date", responses=R409)
def respond(notice_id: Id36, body: NoticeResponseIn, db: DatabaseDep, clock: ClockDep, principal: Staff) -> NoticeOut:
    return _notice(discipline.respond(db, notice_id=notice_id, principal=principal, text=body.text, now=clock.now()))


@router.post("/v1/notices/{notice_id}/appeal", response_model=NoticeOut, operation_id="appeal_decision",
             summary="Appeal the final decision, within the appeal window", responses=R409)
def appeal(notice_id: Id36, body: AppealIn, db: DatabaseDep, clock: ClockDep, principal: Staff) -> NoticeOut:
    return _notice(discipline.appeal(db, notice_id=notice_id, principal=principal, grounds=body.grounds,
                                     now=clock.now()))
