"""The case record (issue 15): links and merges of cases about one incident, case file exports,
public-records exports, legal holds. Thin: parse, authorise, call one use-case."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from services.case_api.domain import casefile, linking
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


@router.get("/v1/cases/{case_id}/file", operation_id="export_case_file",
            summary="The whole case file as JSON or PDF, with the audit verification at export time (audited)",
            description="Timeline, every report's testimony, evidence with SHA-256, notes, messages, decisions and "
                        "amendments, restorative actions, linked cases. Fields your role may not see are left out "
                        "as in the case view. The export and the SHA-256 of the bytes are recorded in the audit "
                        "trail (`case.file_exported`).",
            responses={200: {"content": {"application/json": {}, "application/pdf": {}},
                             "description": "The case file"}, **problem_responses(401, 403, 404)})
def export_case_file(case_id: CaseId, db: DatabaseDep, clock: ClockDep,
                     principal: Annotated[Principal, Depends(require_roles(*casefile.EXPORT_ROLES))],
                     format: Annotated[Literal["json", "pdf"], Query()] = "json") -> Response:
    out = casefile.export_case_file(db, case_id=case_id, principal=principal, fmt=format, now=clock.now())
    return Response(out.content, media_type=out.media_type, headers={
        "Content-Disposition": f'attachment; filename="{out.filename}"',
        "X-Content-SHA256": out.sha256})
