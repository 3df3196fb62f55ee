"""The witness of case_api's audit chain: case_api posts signed checkpoints of its chain head; the
public reads them back (issue 15 item 3)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, Request, Response

from services.policy_api.domain import checkpoints
from services.policy_api.routers._common import LimitQ, OffsetQ
from shared import signing
from shared.auth import Principal, Role
from shared.caching import cached_json
from shared.errors import NotFound
from shared.schemas.checkpoints import ChainCheckpoint, CheckpointOut
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["checkpoints"])
CaseApi = Annotated[Principal, Depends(require_roles(Role.svc_case))]


@lru_cache(maxsize=4)
def _public_key(configured: str | None) -> Ed25519PublicKey | None:
    return signing.load_public_key(configured) if configured else None


def public_key_of(request: Request) -> Ed25519PublicKey | None:
    return _public_key(getattr(request.app.state.settings, "checkpoint_public_key", None))


@router.post("/v1/internal/checkpoints", status_code=201, response_model=CheckpointOut,
             operation_id="witness_checkpoint",
             summary="case_api's signed checkpoint of its audit chain head (service:case_api, via its outbox)",
             responses=problem_responses(401, 403, 422, 503))
def witness_checkpoint(body: ChainCheckpoint, request: Request, response: Response, db: DatabaseDep,
                       clock: ClockDep, principal: CaseApi) -> CheckpointOut:
    held = checkpoints.witness(db, checkpoint=body, public_key=public_key_of(request), now=clock.now())
    if not held.created:
        response.status_code = 200
    return CheckpointOut.model_validate(held.checkpoint, from_attributes=True)


@router.get("/v1/public/checkpoints/latest", response_model=CheckpointOut, operation_id="latest_checkpoint",
            summary="The latest witnessed checkpoint of case_api's audit chain (public)",
            responses=problem_responses(404))
def latest_checkpoint(request: Request, db: DatabaseDep) -> Response:
    found = checkpoints.latest(db)
    if found is None:
        raise NotFound("No checkpoint has been witnessed yet.")
    return cached_json(request, CheckpointOut.model_validate(found, from_attributes=True), max_age=30)


@router.get("/v1/public/checkpoints", response_model=list[CheckpointOut], operation_id="list_checkpoints",
            summary="Witnessed checkpoints, newest first (public)")
def list_checkpoints(request: Request, db: DatabaseDep, limit: LimitQ = 20, offset: OffsetQ = 0) -> Response:
    rows = checkpoints.recent(db, limit=limit, offset=offset)
    return cached_json(request, [CheckpointOut.model_validate(r, from_attributes=True) for r in rows], max_age=30)
