"""A pending two-person retirement request can be withdrawn by its requester (issue 20)."""

from __future__ import annotations

from fastapi import Depends, Request
from pydantic import Field

from services.policy_api import views
from services.policy_api.domain import retirements
from services.policy_api.routers._common import PUBLISHERS, CatalogueReady, write_ctx
from services.policy_api.schemas import VersionOut
from shared.auth import Principal
from shared.schemas.base import InputModel
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["policies (staff)"], dependencies=[CatalogueReady])


class WithdrawIn(InputModel):
    reason: str | None = Field(default=None, max_length=2000, description="Why the request is withdrawn.")


@router.post("/v1/policies/{policy_id}/versions/{version_id}/retire/withdraw", operation_id="withdraw_retirement",
             response_model=VersionOut, responses=problem_responses(401, 403, 404, 409),
             summary="Withdraw your pending retirement request: the version stays published (change-logged)")
def withdraw_retirement(request: Request, policy_id: str, version_id: str, db: DatabaseDep, clock: ClockDep,
                        body: WithdrawIn | None = None,
                        principal: Principal = Depends(require_roles(*PUBLISHERS))) -> VersionOut:
    item = retirements.withdraw_retirement(db, write_ctx(request, principal, clock), policy_id=policy_id,
                                           version_id=version_id, reason=body.reason if body else None)
    return views.version_out(item, staff=True)
