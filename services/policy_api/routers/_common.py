"""Helpers every policy_api router uses: who may do what, write contexts, pagination, seeding."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Query, Request

from services.policy_api.domain import elements
from services.policy_api.domain.context import WriteContext
from shared.auth import Principal, Role
from shared.schemas.page import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from shared.timeutil import Clock
from shared.web import OptionalPrincipalDep

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


OptionalPrincipal = OptionalPrincipalDep  # shared.web verifies on the loop when no key fetch is needed


async def ensure_catalogue(request: Request) -> None:
    """Seed the element catalogue once per app if its table is empty (``elements.ensure_seeded``).
    After the first request this is a flag check on the event loop: no thread hop, no query."""
    state = request.app.state
    if getattr(state, "catalogue_ready", False):
        return
    await anyio.to_thread.run_sync(elements.ensure_seeded, state.db)
    state.catalogue_ready = True


CatalogueReady = Depends(ensure_catalogue)
