"""Restorative actions (R-24-89 §1.A.7) on a case."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from services.case_api.deps import wake_relay
from services.case_api.domain import access, restorative
from services.case_api.schemas import RestorativeCreate, RestorativeOut, RestorativeUpdate
from shared.auth import Principal
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["restorative actions"], dependencies=[Depends(wake_relay)])
Id36 = Annotated[str, Path(max_length=36)]
Staff = Annotated[Principal, Depends(require_roles(*access.STAFF))]
Manager = Annotated[Principal, Depends(require_roles(*access.RESTORATIVE_MANAGE))]
Updater = Annotated[Principal, Depends(require_roles(*access.RESTORATIVE_UPDATE))]


@router.post("/v1/cases/{case_id}/restorative-actions", status_code=201, response_model=RestorativeOut,
             operation_id="create_restorative_action",
             summary="Plan a restorative action; a privilege revocation is sent to policy_api's registry",
             responses=problem_responses(401, 403, 404, 409))
def create_action(case_id: Id36, body: RestorativeCreate, db: DatabaseDep, clock: ClockDep,
                  principal: Manager) -> RestorativeOut:
    action = restorative.plan_action(db, case_id=case_id, principal=principal, kind=body.kind, owner=body.owner,
                                     due_on=body.due_on, description=body.description, account_id=body.account_id,
                                     now=clock.now())
    return RestorativeOut.model_validate(action, from_attributes=True)


@router.get("/v1/cases/{case_id}/restorative-actions", response_model=list[RestorativeOut],
            operation_id="list_restorative_actions", responses=problem_responses(401, 403, 404))
def list_actions(case_id: Id36, db: DatabaseDep, principal: Staff, clock: ClockDep) -> list[RestorativeOut]:
    return [RestorativeOut.model_validate(a, from_attributes=True)
            for a in restorative.list_actions(db, case_id=case_id, principal=principal, now=clock.now())]


@router.post("/v1/restorative-actions/{action_id}/status", response_model=RestorativeOut,
             operation_id="update_restorative_action",
             summary="Start, complete (with evidence) or cancel a restorative action",
             responses=problem_responses(401, 403, 404, 409))
def update_action(action_id: Id36, body: RestorativeUpdate, db: DatabaseDep, clock: ClockDep,
                  principal: Updater) -> RestorativeOut:
    action = restorative.update_action(db, action_id=action_id, principal=principal, status=body.status,
                                       evidence=body.evidence, now=clock.now())
    return RestorativeOut.model_validate(action, from_attributes=True)
