"""The append-only change log, readable by staff."""

from __future__ import annotations

from datetime import datetime

from fastapi import Depends

from services.policy_api.domain import changelog
from services.policy_api.routers._common import DEFAULT_LIMIT, STAFF, LimitQ, OffsetQ
from services.policy_api.schemas import ChangeOut
from shared.auth import Principal
from shared.schemas.page import Page
from shared.web import DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["change log"])


@router.get("/v1/changes", operation_id="list_changes", response_model=Page[ChangeOut],
            responses=problem_responses(401, 403),
            summary="Every write: who, what, when, before and after; oldest first (staff)")
def list_changes(db: DatabaseDep, entity_type: str | None = None, entity_id: str | None = None,
                 actor: str | None = None, since: datetime | None = None, limit: LimitQ = DEFAULT_LIMIT,
                 offset: OffsetQ = 0, principal: Principal = Depends(require_roles(*STAFF))) -> Page[ChangeOut]:
    rows, total = changelog.list_changes(db, entity_type=entity_type, entity_id=entity_id, actor=actor, since=since,
                                         limit=limit, offset=offset)
    return Page[ChangeOut].build([ChangeOut.model_validate(r) for r in rows], total=total, limit=limit,
                                 offset=offset)
