"""Staff search and export of cases: ``GET /v1/cases`` (filtered, paged) and ``GET /v1/cases/export``
(the whole filtered list, streamed as CSV or JSON). Unknown query parameters are 422 (``StrictQuery``).
Included before ``routers/cases.py`` so ``/export`` is not read as a case id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from fastapi.responses import StreamingResponse

from services.case_api.deps import wake_relay
from services.case_api.domain import access, search
from services.case_api.domain.search import CaseSearch
from services.case_api.domain.state_machine import State
from services.case_api.schemas import CASE_PAGE_NOTE, CasePage
from shared import csvsafe
from shared.auth import Principal
from shared.schemas.intake import ViolationCategory
from shared.schemas.page import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.query import StrictQuery
from shared.web.routing import APIRouter

router = APIRouter(prefix="/v1/cases", tags=["cases"], dependencies=[Depends(wake_relay), StrictQuery])
Staff = Annotated[Principal, Depends(require_roles(*access.STAFF))]
FILTERS_NOTE = (" Filters combine (all must match); an unknown query parameter is 422. `employee` needs a role that "
                "sees the employee (403 otherwise) and is audited. `q`: words matched as prefixes in the reference, "
                "summary, account text and public outcome (all words required).")


async def case_search(
    employee: Annotated[str | None, Query(max_length=100, description="Employee id (any spelling)")] = None,
    account: Annotated[str | None, Query(max_length=64, description="Registry account id")] = None,
    category: ViolationCategory | None = None,
    source: Literal["report", "staff", "monitoring"] | None = None,
    state: State | None = None,
    department: Annotated[str | None, Query(max_length=120)] = None,
    assignee: Annotated[str | None, Query(max_length=100)] = None,
    created_from: Annotated[date | None, Query(description="First day (UTC) the case was opened")] = None,
    created_to: Annotated[date | None, Query(description="Last day (UTC), inclusive")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Free text")] = None,
) -> CaseSearch:
    return CaseSearch(employee=employee, account=account, category=category.value if category else None,
                      source=source, state=state.value if state else None, department=department,
                      assignee=assignee, created_from=created_from, created_to=created_to, text=q)


SearchDep = Annotated[CaseSearch, Depends(case_search)]


@router.get("", response_model=CasePage, operation_id="list_cases",
            summary="Cases you may see, filtered (department directors and PIOs: their department only)",
            description="Newest first." + CASE_PAGE_NOTE + FILTERS_NOTE, responses=problem_responses(401, 403, 422))
def list_cases(db: DatabaseDep, principal: Staff, clock: ClockDep, where: SearchDep,
               limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> CasePage:
    listing = search.search_cases(db, principal=principal, where=where, limit=limit, offset=offset, now=clock.now())
    return CasePage.of(listing, limit=limit, offset=offset)


def _csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    return csvsafe.lines(search.EXPORT_COLUMNS, ([r[c] for c in search.EXPORT_COLUMNS] for r in rows))


def _json(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for i, row in enumerate(rows):
        yield ("," if i else "") + "\n" + json.dumps(row, ensure_ascii=False, default=str)
    yield "\n]\n"


@router.get("/export", operation_id="export_cases",
            summary="Every case of the filtered list, streamed as CSV or JSON (no row cap); audited",
            description="Same filters and access as the list, newest first. CSV cells that a spreadsheet would "
                        "run as a formula (leading = + - @) are prefixed with '." + FILTERS_NOTE,
            responses={200: {"content": {"text/csv": {}, "application/json": {}}},
                       **problem_responses(401, 403, 422)})
def export_cases(db: DatabaseDep, principal: Staff, clock: ClockDep, where: SearchDep,
                 fmt: Annotated[Literal["csv", "json"], Query(alias="format")] = "csv") -> StreamingResponse:
    query = search.start_export(db, principal=principal, where=where, fmt=fmt, now=clock.now())
    rows = search.export_rows(db, query)
    body, media = (_csv(rows), "text/csv; charset=utf-8") if fmt == "csv" else (_json(rows), "application/json")
    return StreamingResponse(body, media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="cases.{fmt}"',
                                      "Cache-Control": "no-store"})
