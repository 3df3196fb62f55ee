"""The case record (issue 15): links and merges of cases about one incident, case file exports,
public-records exports, legal holds. Thin: parse, authorise, call one use-case."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from services.case_api.domain import linking
from services.case_api.schemas_records import LinkIn, LinkOut
from shared.auth import Principal
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles

router = APIRouter(tags=["records"])

CaseId = Annotated[str, Path(max_length=36)]
Linker = Annotated[Principal, Depends(require_roles(*linking.LINK))]


@router.post("/v1/cases/{case_id}/links", status_code=201, response_model=LinkOut, operation_id="link_cases",
             summary="Link another case about the same incident (related), or merge it into this one (merged)",
             description="Merged: the other case's reports keep their own testimony and evidence and move here; "
                         "the other case is closed as merged. Both cases are audited.",
             responses=problem_responses(401, 403, 404, 409, 422))
def link_cases(case_id: CaseId, body: LinkIn, db: DatabaseDep, clock: ClockDep, principal: Linker) -> LinkOut:
    return LinkOut.model_validate(asdict(linking.link_cases(
        db, case_id=case_id, other_case_id=body.other_case_id, kind=body.kind, reason=body.reason,
        principal=principal, now=clock.now())))


@router.get("/v1/cases/{case_id}/links", response_model=list[LinkOut], operation_id="list_case_links",
            summary="Cases linked to or merged with this one, oldest first", responses=problem_responses(401, 403, 404))
def list_links(case_id: CaseId, db: DatabaseDep, clock: ClockDep,
               principal: Annotated[Principal, Depends(require_roles(*linking.READ))]) -> list[LinkOut]:
    return [LinkOut.model_validate(asdict(v))
            for v in linking.list_links(db, case_id=case_id, principal=principal, now=clock.now())]
