"""Staff acknowledgements of published versions; who is bound; case_api's check."""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Query, Request, Response

from services.policy_api.domain import acknowledgements as acks
from services.policy_api.routers._common import DEFAULT_LIMIT, RECORDS, STAFF, LimitQ, OffsetQ, write_ctx
from services.policy_api.schemas import (
    AcknowledgementIn,
    AcknowledgementOut,
    BindingIn,
    BindingOut,
    BoundEmployeeOut,
    MissingAcknowledgements,
)
from shared.auth import Principal, Role
from shared.errors import Forbidden
from shared.schemas.page import Page
from shared.schemas.registry import AcknowledgementCheck
from shared.web import ClockDep, DatabaseDep, PrincipalDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["acknowledgements"])

CHECKERS = (Role.svc_case, Role.records_manager, Role.admin, Role.hr, Role.investigator)


@router.get("/v1/acknowledgements/check", operation_id="check_acknowledgement",
            response_model=AcknowledgementCheck, responses=problem_responses(401, 403),
            summary="Had this employee acknowledged the social media policy version in force on a date?")
def check_acknowledgement(db: DatabaseDep, employee_id: str = Query(min_length=1, max_length=100),
                          on: date = Query(description="YYYY-MM-DD"),
                          department: str | None = Query(
                              default=None, min_length=1, max_length=120,
                              description="The employee's department. A policy that is not citywide is in force "
                                          "only for its own department's employees (this one, or the departments of "
                                          "accounts they had posting privileges on by that day)."),
                          principal: Principal = Depends(require_roles(*CHECKERS))) -> AcknowledgementCheck:
    result = acks.check(db, employee_id=employee_id, on=on, department=department)
    return AcknowledgementCheck(employee_id=employee_id, on=on, policy_id=result.policy_id,
                                version_id=result.version_id, version_label=result.version_label,
                                acknowledged=result.acknowledged, acknowledged_at=result.acknowledged_at)


@router.post("/v1/policies/{policy_id}/versions/{version_id}/acknowledgements",
             operation_id="acknowledge_version", response_model=AcknowledgementOut, status_code=201,
             responses={200: {"description": "Already acknowledged", "model": AcknowledgementOut},
                        **problem_responses(401, 403, 404, 409)},
             summary="Record that a staff member read the published version (their own, or records staff for others)")
def acknowledge_version(request: Request, response: Response, policy_id: str, version_id: str,
                        db: DatabaseDep, clock: ClockDep, principal: PrincipalDep,
                        body: AcknowledgementIn | None = None) -> AcknowledgementOut:
    if principal.is_service:
        raise Forbidden("Acknowledgements are made by staff.")
    employee_id = (body.employee_id if body else None) or principal.subject
    if employee_id != principal.subject and not principal.has_any(*RECORDS):
        raise Forbidden("Only records staff may record an acknowledgement for someone else.")
    ack, created = acks.record(db, write_ctx(request, principal, clock), policy_id=policy_id,
                               version_id=version_id, employee_id=employee_id)
    if not created:
        response.status_code = 200
    return AcknowledgementOut.model_validate(ack)


@router.get("/v1/policies/{policy_id}/versions/{version_id}/acknowledgements",
            operation_id="list_acknowledgements", response_model=Page[AcknowledgementOut],
            responses=problem_responses(401, 403, 404), summary="Who acknowledged this version (staff)")
def list_acknowledgements(policy_id: str, version_id: str, db: DatabaseDep, limit: LimitQ = DEFAULT_LIMIT,
                          offset: OffsetQ = 0, principal: Principal = Depends(require_roles(*STAFF))
                          ) -> Page[AcknowledgementOut]:
    rows, total = acks.list_for_version(db, policy_id=policy_id, version_id=version_id, limit=limit, offset=offset)
    return Page[AcknowledgementOut].build([AcknowledgementOut.model_validate(r) for r in rows], total=total,
                                          limit=limit, offset=offset)


def _page(page: acks.BoundPage, *, limit: int, offset: int) -> Page[BoundEmployeeOut]:
    items = [BoundEmployeeOut(employee_id=b.employee_id, via_binding=b.via_binding, via_privilege=b.via_privilege)
             for b in page.rows]
    return Page[BoundEmployeeOut].build(items, total=page.total, limit=limit, offset=offset)


@router.get("/v1/policies/{policy_id}/acknowledgements/missing", operation_id="missing_acknowledgements",
            response_model=MissingAcknowledgements, responses=problem_responses(401, 403, 404, 409),
            summary="Staff bound by the policy who have not acknowledged its current version (staff)")
def missing_acknowledgements(policy_id: str, db: DatabaseDep, limit: LimitQ = 100, offset: OffsetQ = 0,
                             principal: Principal = Depends(require_roles(*STAFF))) -> MissingAcknowledgements:
    result = acks.missing(db, policy_id=policy_id, limit=limit, offset=offset)
    return MissingAcknowledgements(
        policy_id=result.policy.id, version_id=result.version.id, version_label=result.version.label,
        bound=result.bound, missing=_page(result.missing, limit=limit, offset=offset),
    )


@router.get("/v1/policies/{policy_id}/bound", operation_id="list_bound_staff",
            response_model=Page[BoundEmployeeOut], responses=problem_responses(401, 403, 404),
            summary="Everyone bound by the policy, and why (staff)")
def list_bound(policy_id: str, db: DatabaseDep, limit: LimitQ = 100, offset: OffsetQ = 0,
               principal: Principal = Depends(require_roles(*STAFF))) -> Page[BoundEmployeeOut]:
    return _page(acks.bound_staff(db, policy_id=policy_id, limit=limit, offset=offset), limit=limit, offset=offset)


@router.post("/v1/policies/{policy_id}/bindings", operation_id="bind_employee", response_model=BindingOut,
             status_code=201, responses=problem_responses(401, 403, 404),
             summary="Bind an employee to the policy explicitly (records staff)")
def bind_employee(request: Request, policy_id: str, body: BindingIn, db: DatabaseDep, clock: ClockDep,
                  principal: Principal = Depends(require_roles(*RECORDS))) -> BindingOut:
    row, _ = acks.bind(db, write_ctx(request, principal, clock), policy_id=policy_id, employee_id=body.employee_id)
    return BindingOut.model_validate(row)


@router.delete("/v1/policies/{policy_id}/bindings/{employee_id}", operation_id="unbind_employee",
               status_code=204, responses=problem_responses(401, 403, 404),
               summary="Remove an explicit binding (records staff)")
def unbind_employee(request: Request, policy_id: str, employee_id: str, db: DatabaseDep, clock: ClockDep,
                    principal: Principal = Depends(require_roles(*RECORDS))) -> Response:
    acks.unbind(db, write_ctx(request, principal, clock), policy_id=policy_id, employee_id=employee_id)
    return Response(status_code=204)
