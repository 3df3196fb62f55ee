"""The append-only change log, readable by staff."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from sqlalchemy import func
from sqlmodel import col, select

from services.policy_api.domain.models import ChangeLogEntry
from services.policy_api.routers._common import DEFAULT_LIMIT, STAFF, LimitQ, OffsetQ
from services.policy_api.schemas import ChangeOut
from shared.api import SessionDep
from shared.auth import Principal
from shared.schemas.page import Page
from shared.web import problem_responses, require_roles

router = APIRouter(tags=["change log"])


@router.get("/v1/changes", operation_id="list_changes", response_model=Page[ChangeOut],
            responses=problem_responses(401, 403),
            summary="Every write: who, what, when, before and after; oldest first (staff)")
def list_changes(session: SessionDep, entity_type: str | None = None, entity_id: str | None = None,
                 actor: str | None = None, since: datetime | None = None, limit: LimitQ = DEFAULT_LIMIT,
                 offset: OffsetQ = 0, principal: Principal = Depends(require_roles(*STAFF))) -> Page[ChangeOut]:
    query = select(ChangeLogEntry)
    if entity_type:
        query = query.where(ChangeLogEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(ChangeLogEntry.entity_id == entity_id)
    if actor:
        query = query.where(ChangeLogEntry.actor == actor)
    if since:
        query = query.where(col(ChangeLogEntry.at) >= since)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(ChangeLogEntry.at), col(ChangeLogEntry.id)).offset(offset).limit(limit))
    return Page[ChangeOut].build([ChangeOut.model_validate(r) for r in rows.all()], total=int(total), limit=limit,
                                 offset=offset)
