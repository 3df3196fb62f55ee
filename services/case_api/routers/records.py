"""The case record (issue 15): links and merges of cases about one incident, case file exports,
public-records exports, legal holds. Thin: parse, authorise, call one use-case."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import BackgroundTasks, Depends, Path, Query
from fastapi.responses import Response

from services.case_api import casefile_render
from services.case_api.deps import SettingsDep
from services.case_api.domain import casefile, linking, records_export, retention
from services.case_api.schemas_records import (
    ExportIn,
    ExportOut,
    HoldIn,
    HoldOut,
    LinkIn,
    LinkOut,
    PurgeOut,
    ReleaseIn,
    RetentionPeriodOut,
)
from shared.auth import Principal
from shared.schemas.page import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["records"])

CaseId = Annotated[str, Path(max_length=36)]
Linker = Annotated[Principal, Depends(require_roles(*linking.LINK))]
RecordsManager = Annotated[Principal, Depends(require_roles(*records_export.ROLES))]


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


@router.post("/v1/records/exports", status_code=202, response_model=ExportOut, operation_id="request_records_export",
             summary="A public-records (IPRA) export: cases opened in a date range (and a department or state), "
                     "redacted, one PDF per case and a manifest with SHA-256 per file, built in the background",
             description="The request is logged and kept four years (1.21.2.519 NMAC). Poll "
                         "`GET /v1/records/exports/{id}` for progress (`done` of `total`); download the ZIP when "
                         "`status` is `done`. Redaction rules: docs/records.md.",
             responses=problem_responses(401, 403, 422))
def request_export(body: ExportIn, db: DatabaseDep, clock: ClockDep, principal: RecordsManager,
                   background: BackgroundTasks) -> ExportOut:
    job = records_export.request_export(
        db, principal=principal, request_reference=body.request_reference, description=body.description,
        criteria=records_export.Criteria(opened_from=body.opened_from, opened_to=body.opened_to,
                                         department=body.department, state=body.state.value if body.state else None),
        now=clock.now())
    background.add_task(records_export.run_export, db, export_id=job.id, clock=clock.now, render=casefile_render.pdf)
    return ExportOut.model_validate(job, from_attributes=True)


@router.get("/v1/records/exports", response_model=Page[ExportOut], operation_id="list_records_exports",
            summary="The log of public-records export requests, newest first", responses=problem_responses(401, 403))
def list_exports(db: DatabaseDep, principal: RecordsManager,
                 limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
                 offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Page[ExportOut]:
    rows, total = records_export.list_exports(db, limit=limit, offset=offset)
    return Page[ExportOut](items=[ExportOut.model_validate(r, from_attributes=True) for r in rows], total=total,
                           limit=limit, offset=offset,
                           next_offset=offset + limit if offset + limit < total else None)


@router.get("/v1/records/exports/{export_id}", response_model=ExportOut, operation_id="get_records_export",
            summary="One export request: its status and progress", responses=problem_responses(401, 403, 404))
def get_export(export_id: CaseId, db: DatabaseDep, principal: RecordsManager) -> ExportOut:
    return ExportOut.model_validate(records_export.get_export(db, export_id=export_id), from_attributes=True)


@router.get("/v1/records/exports/{export_id}/download", operation_id="download_records_export",
            summary="The finished export as a ZIP (audited)",
            responses={200: {"content": {"application/zip": {}}, "description": "The ZIP"},
                       **problem_responses(401, 403, 404, 409)})
def download_export(export_id: CaseId, db: DatabaseDep, clock: ClockDep, principal: RecordsManager) -> Response:
    job, content = records_export.download(db, export_id=export_id, principal=principal, now=clock.now())
    name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in job.request_reference)[:64]
    return Response(content, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="ipra-{name}.zip"', "X-Content-SHA256": job.result_sha256 or ""})


Holder = Annotated[Principal, Depends(require_roles(*retention.HOLD_ROLES))]


@router.post("/v1/legal-holds", status_code=201, response_model=HoldOut, operation_id="place_legal_hold",
             summary="A legal hold on a case, or on every case about an employee: nothing of it is destroyed "
                     "until it is released (audited)", responses=problem_responses(401, 403, 404, 422))
def place_hold(body: HoldIn, db: DatabaseDep, clock: ClockDep, principal: Holder) -> HoldOut:
    return HoldOut.model_validate(retention.place_hold(db, principal=principal, case_id=body.case_id,
                                                       employee_id=body.employee_id, reason=body.reason,
                                                       now=clock.now()), from_attributes=True)


@router.post("/v1/legal-holds/{hold_id}/release", response_model=HoldOut, operation_id="release_legal_hold",
             summary="Release a legal hold, with a reason (audited)", responses=problem_responses(401, 403, 404, 409))
def release_hold(hold_id: CaseId, body: ReleaseIn, db: DatabaseDep, clock: ClockDep, principal: Holder) -> HoldOut:
    return HoldOut.model_validate(retention.release_hold(db, principal=principal, hold_id=hold_id, reason=body.reason,
                                                         now=clock.now()), from_attributes=True)


@router.get("/v1/legal-holds", response_model=list[HoldOut], operation_id="list_legal_holds",
            summary="Legal holds, newest first (active=true: only those in force)",
            responses=problem_responses(401, 403))
def list_holds(db: DatabaseDep, principal: Holder, active: bool | None = None,
               limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[HoldOut]:
    return [HoldOut.model_validate(h, from_attributes=True)
            for h in retention.list_holds(db, active=active, limit=limit, offset=offset)]


@router.get("/v1/retention/schedule", response_model=list[RetentionPeriodOut], operation_id="retention_schedule",
            summary="The retention schedule in force: each record class, its period and the source of its default",
            responses=problem_responses(401, 403))
def retention_schedule(settings: SettingsDep, principal: Holder) -> list[RetentionPeriodOut]:
    schedule = retention.Schedule.from_overrides(settings.retention_days)
    return [RetentionPeriodOut.model_validate(x) for x in retention.schedule_table(schedule)]


@router.post("/v1/retention/purge", response_model=PurgeOut, operation_id="retention_purge",
             summary="Destroy now what the schedule says has expired (also run daily); each destruction is "
                     "recorded in the audit chain, and verification reports it as destroyed, not missing",
             responses=problem_responses(401, 403))
def retention_purge(db: DatabaseDep, clock: ClockDep, settings: SettingsDep,
                    principal: Annotated[Principal, Depends(require_roles(*retention.PURGE_ROLES))]) -> PurgeOut:
    report = retention.purge(db, schedule=retention.Schedule.from_overrides(settings.retention_days),
                             now=clock.now(), actor=principal.subject)
    return PurgeOut.model_validate(report.as_dict())
