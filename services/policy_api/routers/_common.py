"""Helpers every policy_api router uses: who may do what, write contexts, pagination, seeding."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.exc import IntegrityError

from services.policy_api.domain import elements
from services.policy_api.domain.context import WriteContext
from shared.auth import Principal, Role
from shared.db import unit_of_work
from shared.schemas.page import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from shared.timeutil import Clock

EDITORS = (Role.policy_editor, Role.policy_approver, Role.records_manager, Role.admin)
APPROVERS = (Role.policy_approver, Role.admin)
PUBLISHERS = (Role.policy_approver, Role.records_manager, Role.admin)
REVIEWERS = (Role.policy_approver, Role.records_manager, Role.admin)
RECORDS = (Role.records_manager, Role.admin)
STAFF = (Role.policy_editor, Role.policy_approver, Role.records_manager, Role.admin)

PUBLIC_MAX_AGE = 60


def is_staff(principal: Principal | None) -> bool:
    return principal is not None and principal.has_any(*STAFF)


def write_ctx(request: Request, principal: Principal, clock: Clock) -> WriteContext:
    return WriteContext(actor=principal.subject, now=clock.now(),
                        request_id=getattr(request.state, "request_id", None))


LimitQ = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
OffsetQ = Annotated[int, Query(ge=0, le=1_000_000)]
DEFAULT_LIMIT = DEFAULT_PAGE_SIZE


def ensure_catalogue(request: Request) -> None:
    """Seed the element catalogue once per app if its table is empty (the migration seeds it too;
    this covers databases emptied after migrating, as the tests do)."""
    state: Any = request.app.state
    if getattr(state, "catalogue_ready", False):
        return
    with unit_of_work(state.engine, write=False) as session:
        empty = not elements.catalogue(session)
    if empty:
        try:
            with unit_of_work(state.engine) as session:
                elements.seed_if_empty(session)
        except IntegrityError:  # a concurrent first request seeded it
            pass
    state.catalogue_ready = True


CatalogueReady = Depends(ensure_catalogue)
