"""The registry of official accounts: public reads, staff writes, posting privileges."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from services.policy_api.domain import registry
from services.policy_api.routers._common import DEFAULT_LIMIT, PUBLIC_MAX_AGE, RECORDS, LimitQ, OffsetQ, write_ctx
from services.policy_api.schemas import (
    AccountCreate,
    AccountUpdate,
    PrivilegeEventOut,
    PrivilegeGrant,
    PrivilegeOut,
)
from shared.api import SessionDep
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
from shared.web import ClockDep, problem_responses, require_roles

router = APIRouter(tags=["accounts"])

REVOKERS = (Role.svc_case, Role.records_manager, Role.admin)


@router.get("/v1/accounts", operation_id="list_accounts", response_model=Page[AccountPublic],
            summary="The registry of official City social media accounts (public)")
def list_accounts(
    request: Request, session: SessionDep, status: AccountStatus | None = None, department: str | None = None,
    platform: Platform | None = None, limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0,
) -> Response:
    rows, total = registry.list_accounts(session, status=status, department=department, platform=platform,
                                         limit=limit, offset=offset)
    page = Page[AccountPublic].build([AccountPublic.model_validate(r) for r in rows], total=total, limit=limit,
                                     offset=offset)
    return cached_json(request, page, max_age=PUBLIC_MAX_AGE)


@router.get("/v1/accounts/{account_id}", operation_id="get_account", response_model=AccountPublic,
            responses=problem_responses(404), summary="One official account (public)")
def get_account(request: Request, account_id: str, session: SessionDep) -> Response:
    return cached_json(request, AccountPublic.model_validate(registry.get_account(session, account_id)),
                       max_age=PUBLIC_MAX_AGE)


def _account_data(body: AccountCreate | AccountUpdate) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=True)
    if data.get("profile_url") is not None:
        data["profile_url"] = str(data["profile_url"])
    for key in ("platform", "status"):
        if data.get(key) is not None:
            data[key] = str(data[key].value if hasattr(data[key], "value") else data[key])
    return data


@router.post("/v1/accounts", operation_id="create_account", status_code=201, response_model=AccountPublic,
             responses=problem_responses(401, 403, 409), summary="Register an official account (records staff)")
def create_account(request: Request, body: AccountCreate, session: SessionDep, clock: ClockDep,
                   principal: Principal = Depends(require_roles(*RECORDS))) -> AccountPublic:
    account = registry.create_account(session, write_ctx(request, principal, clock), _account_data(body))
    return AccountPublic.model_validate(account)


@router.patch("/v1/accounts/{account_id}", operation_id="update_account", response_model=AccountPublic,
              responses=problem_responses(401, 403, 404, 409), summary="Change an account (records staff)")
def update_account(request: Request, account_id: str, body: AccountUpdate, session: SessionDep, clock: ClockDep,
                   principal: Principal = Depends(require_roles(*RECORDS))) -> AccountPublic:
    account = registry.update_account(session, write_ctx(request, principal, clock), account_id, _account_data(body))
    return AccountPublic.model_validate(account)


@router.get("/v1/accounts/{account_id}/privileges", operation_id="list_privileges",
            response_model=Page[PrivilegeOut], responses=problem_responses(401, 403, 404),
            summary="Who holds posting privileges on the account (records staff)")
def list_privileges(account_id: str, session: SessionDep, include_inactive: bool = False,
                    limit: LimitQ = 100, offset: OffsetQ = 0,
                    principal: Principal = Depends(require_roles(*RECORDS, Role.svc_case))) -> Page[PrivilegeOut]:
    rows = registry.privileges(session, account_id, include_inactive=include_inactive)
    return Page[PrivilegeOut].build([PrivilegeOut.model_validate(r) for r in rows[offset:offset + limit]],
                                    total=len(rows), limit=limit, offset=offset)


@router.get("/v1/accounts/{account_id}/privileges/history", operation_id="privilege_history",
            response_model=Page[PrivilegeEventOut], responses=problem_responses(401, 403, 404),
            summary="Every grant and revocation on the account, oldest first (records staff)")
def privilege_history(account_id: str, session: SessionDep, employee_id: str | None = None,
                      limit: LimitQ = DEFAULT_LIMIT, offset: OffsetQ = 0,
                      principal: Principal = Depends(require_roles(*RECORDS, Role.svc_case))
                      ) -> Page[PrivilegeEventOut]:
    rows, total = registry.privilege_history(session, account_id=account_id, employee_id=employee_id,
                                             limit=limit, offset=offset)
    return Page[PrivilegeEventOut].build([PrivilegeEventOut.model_validate(r) for r in rows], total=total,
                                         limit=limit, offset=offset)


def _result(privilege: Any, changed: bool, at: Any) -> PrivilegeChangeResult:
    return PrivilegeChangeResult(account_id=privilege.account_id, employee_id=privilege.employee_id,
                                 active=privilege.active, changed=changed, recorded_at=at)


@router.post("/v1/accounts/{account_id}/privileges/grant", operation_id="grant_privilege",
             response_model=PrivilegeChangeResult, responses=problem_responses(401, 403, 404),
             summary="Grant an employee posting privileges (records staff)")
def grant_privilege(request: Request, account_id: str, body: PrivilegeGrant, session: SessionDep, clock: ClockDep,
                    principal: Principal = Depends(require_roles(*RECORDS))) -> PrivilegeChangeResult:
    ctx = write_ctx(request, principal, clock)
    privilege, changed = registry.set_privilege(session, ctx, account_id=account_id, employee_id=body.employee_id,
                                                active=True, reason=body.reason, case_reference=body.case_reference)
    return _result(privilege, changed, ctx.now)


@router.post("/v1/accounts/{account_id}/privileges/revoke", operation_id="revoke_privilege",
             response_model=PrivilegeChangeResult, responses=problem_responses(401, 403, 404),
             summary="Revoke an employee's posting privileges (case_api, records staff)")
def revoke_privilege(request: Request, account_id: str, body: PrivilegeRevocation, session: SessionDep,
                     clock: ClockDep, principal: Principal = Depends(require_roles(*REVOKERS))
                     ) -> PrivilegeChangeResult:
    ctx = write_ctx(request, principal, clock)
    privilege, changed = registry.set_privilege(session, ctx, account_id=account_id, employee_id=body.employee_id,
                                                active=False, reason=body.reason, case_reference=body.case_reference)
    return _result(privilege, changed, ctx.now)
