"""The registry of official accounts: public reads, staff writes, posting privileges."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response

from services.policy_api.domain import registry
from services.policy_api.routers._common import DEFAULT_LIMIT, PUBLIC_MAX_AGE, RECORDS, LimitQ, OffsetQ, write_ctx
from services.policy_api.schemas import (
    AccountCreate,
    AccountUpdate,
    PrivilegeEventOut,
    PrivilegeGrant,
    PrivilegeOut,
)
from shared.auth import Principal, Role
from shared.caching import cached_json
from shared.schemas.page import Page
from shared.schemas.registry import (
    AccountPublic,
    AccountStatus,
    Platform,
    PrivilegeChangeResult,
    PrivilegeRevocation,
)
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["accounts"])

REVOKERS = (Role.svc_case, Role.records_manager, Role.admin)
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]


@router.get("/v1/accounts", operation_id="list_accounts", response_model=Page[AccountPublic],
            summary="The registry of official City social media accounts (public)")
def list_accounts(
    request: Request, db: DatabaseDep, status: AccountStatus | None = None, department: str | None = None,
    platform: Platform | None = None, limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0,
) -> Response:
    rows, total = registry.list_accounts(db, status=status, department=department, platform=platform,
                                         limit=limit, offset=offset)
    page = Page[AccountPublic].build([AccountPublic.model_validate(r) for r in rows], total=total, limit=limit,
                                     offset=offset)
    return cached_json(request, page, max_age=PUBLIC_MAX_AGE)


@router.get("/v1/accounts/{account_id}", operation_id="get_account", response_model=AccountPublic,
            responses=problem_responses(404), summary="One official account (public)")
def get_account(request: Request, account_id: str, db: DatabaseDep) -> Response:
    return cached_json(request, AccountPublic.model_validate(registry.account(db, account_id=account_id)),
                       max_age=PUBLIC_MAX_AGE)


def _fields(body: AccountCreate | AccountUpdate) -> registry.AccountFields:
    values: dict[str, Any] = {}
    for key in body.model_fields_set:
        value = getattr(body, key)
        if key == "profile_url" and value is not None:
            value = str(value)
        elif key in ("platform", "status") and value is not None:
            value = str(value.value if hasattr(value, "value") else value)
        values[key] = value
    return registry.AccountFields(given=frozenset(values), **values)


@router.post("/v1/accounts", operation_id="create_account", status_code=201, response_model=AccountPublic,
             responses=problem_responses(401, 403, 409), summary="Register an official account (records staff)")
def create_account(request: Request, body: AccountCreate, db: DatabaseDep, clock: ClockDep,
                   principal: Principal = Depends(require_roles(*RECORDS))) -> AccountPublic:
    account = registry.create_account(db, write_ctx(request, principal, clock), new=_fields(body))
    return AccountPublic.model_validate(account)


@router.patch("/v1/accounts/{account_id}", operation_id="update_account", response_model=AccountPublic,
              responses=problem_responses(401, 403, 404, 409), summary="Change an account (records staff)")
def update_account(request: Request, account_id: str, body: AccountUpdate, db: DatabaseDep, clock: ClockDep,
                   principal: Principal = Depends(require_roles(*RECORDS))) -> AccountPublic:
    account = registry.update_account(db, write_ctx(request, principal, clock), account_id=account_id,
                                      changes=_fields(body))
    return AccountPublic.model_validate(account)


@router.get("/v1/accounts/{account_id}/privileges", operation_id="list_privileges",
            response_model=Page[PrivilegeOut], responses=problem_responses(401, 403, 404),
            summary="Who holds posting privileges on the account (records staff)")
def list_privileges(account_id: str, db: DatabaseDep, include_inactive: bool = False,
                    limit: LimitQ = 100, offset: OffsetQ = 0,
                    principal: Principal = Depends(require_roles(*RECORDS, Role.svc_case))) -> Page[PrivilegeOut]:
    rows, total = registry.privileges(db, account_id=account_id, include_inactive=include_inactive, limit=limit,
                                      offset=offset)
    return Page[PrivilegeOut].build([PrivilegeOut.model_validate(r) for r in rows], total=total, limit=limit,
                                    offset=offset)


@router.get("/v1/accounts/{account_id}/privileges/history", operation_id="privilege_history",
            response_model=Page[PrivilegeEventOut], responses=problem_responses(401, 403, 404),
            summary="Every grant and revocation on the account, oldest first (records staff)")
def privilege_history(account_id: str, db: DatabaseDep, employee_id: str | None = None,
                      limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0,
                      principal: Principal = Depends(require_roles(*RECORDS, Role.svc_case))
                      ) -> Page[PrivilegeEventOut]:
    rows, total = registry.privilege_history(db, account_id=account_id, employee_id=employee_id, limit=limit,
                                             offset=offset)
    return Page[PrivilegeEventOut].build([PrivilegeEventOut.model_validate(r) for r in rows], total=total,
                                         limit=limit, offset=offset)


@router.post("/v1/accounts/{account_id}/privileges/grant", operation_id="grant_privilege",
             response_model=PrivilegeChangeResult, responses=problem_responses(401, 403, 404, 409, 422),
             summary="Grant an employee posting privileges on an active account (records staff); after a case's "
                     "revocation only with that case's reference and a reason")
def grant_privilege(request: Request, account_id: str, body: PrivilegeGrant, db: DatabaseDep, clock: ClockDep,
                    principal: Principal = Depends(require_roles(*RECORDS))) -> PrivilegeChangeResult:
    return registry.grant_privilege(db, write_ctx(request, principal, clock), account_id=account_id,
                                    employee_id=body.employee_id, reason=body.reason,
                                    case_reference=body.case_reference)


@router.post("/v1/accounts/{account_id}/privileges/revoke", operation_id="revoke_privilege",
             response_model=PrivilegeChangeResult, responses=problem_responses(401, 403, 404, 422),
             summary="Revoke an employee's posting privileges (case_api's outbox, records staff)",
             description="case_api sends an `Idempotency-Key`: a retried delivery gets the first answer again "
                         "(`Idempotent-Replayed: true`); the same key with another body is 422.")
def revoke_privilege(request: Request, response: Response, account_id: str, body: PrivilegeRevocation,
                     db: DatabaseDep, clock: ClockDep, idempotency_key: IdempotencyKeyHeader = None,
                     principal: Principal = Depends(require_roles(*REVOKERS))) -> PrivilegeChangeResult:
    outcome = registry.revoke_privilege(db, write_ctx(request, principal, clock), account_id=account_id,
                                        revocation=body, idempotency_key=idempotency_key, scope=principal.subject)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return outcome.result
