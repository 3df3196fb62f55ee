"""Audit verification, the escalation ladder and staff metrics (with CSV export)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import Body, Depends, Path, Query
from fastapi.responses import Response

from services.case_api.deps import MatrixDep, PeersDep, SettingsDep
from services.case_api.domain import access, audit, cases, checkpoints, ladder, metrics, resealing
from services.case_api.schemas import AuditEntryOut, StaffMetrics
from services.case_api.schemas_audit import (
    AuditVerifyOut,
    CaseIntegrityOut,
    ResealConfirmIn,
    ResealProposalIn,
    ResealProposalOut,
)
from shared.auth import Principal
from shared.schemas.page import MAX_PAGE_SIZE
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

router = APIRouter(tags=["oversight"])
Auditor = Annotated[Principal, Depends(require_roles(*access.AUDIT))]
Staff = Annotated[Principal, Depends(require_roles(*access.STAFF))]
CaseId = Annotated[str, Path(max_length=36)]


@router.get("/v1/audit/verify", response_model=AuditVerifyOut, operation_id="audit_verify",
            summary="Recompute the whole audit chain, compare every sealed row with its seal and the chain with "
                    "the latest checkpoint published to the witness",
            responses=problem_responses(401, 403))
def audit_verify(db: DatabaseDep, peers: PeersDep, settings: SettingsDep, principal: Auditor) -> AuditVerifyOut:
    result = audit.verify_with_witness(db, peers, public_key=checkpoints.public_key_of(settings.checkpoint_key_file))
    return AuditVerifyOut.model_validate(audit.document(result))


@router.get("/v1/audit/cases/{case_id}", response_model=list[AuditEntryOut], operation_id="audit_case_entries",
            summary="The audit entries of one case (auditors: identities redacted)",
            responses=problem_responses(401, 403, 404))
def audit_case(case_id: Annotated[str, Path(max_length=36)], db: DatabaseDep, principal: Auditor,
               clock: ClockDep,
               limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = MAX_PAGE_SIZE,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[AuditEntryOut]:
    return [AuditEntryOut.model_validate(e)
            for e in cases.audit_entries(db, case_id=case_id, principal=principal, limit=limit, offset=offset,
                                         now=clock.now())]


@router.get("/v1/audit/cases/{case_id}/integrity", response_model=CaseIntegrityOut, operation_id="audit_case_integrity",
            summary="Every row of a case's file compared with its last seal: which table, which row, what differs",
            responses=problem_responses(401, 403, 404))
def case_integrity(case_id: CaseId, db: DatabaseDep, principal: Auditor, clock: ClockDep) -> CaseIntegrityOut:
    report = resealing.case_integrity(db, case_id=case_id, principal=principal, now=clock.now())
    return CaseIntegrityOut.model_validate({"case_id": case_id, "ok": not report.problems,
                                            "rows_checked": report.rows_checked, "row_problems": report.problems,
                                            "destroyed": report.destroyed})


@router.post("/v1/audit/cases/{case_id}/reseal", status_code=201, response_model=ResealProposalOut,
             operation_id="audit_propose_reseal",
             summary="Propose re-sealing a case whose rows differ from their seals (auditor or admin; the other "
                     "role confirms)", responses=problem_responses(401, 403, 404, 409, 422))
def propose_reseal(case_id: CaseId, body: ResealProposalIn, db: DatabaseDep, principal: Auditor,
                   clock: ClockDep) -> ResealProposalOut:
    proposal = resealing.propose(db, case_id=case_id, principal=principal, reason=body.reason, now=clock.now())
    return ResealProposalOut.model_validate(proposal, from_attributes=True)


@router.get("/v1/audit/cases/{case_id}/reseal", response_model=list[ResealProposalOut],
            operation_id="audit_reseal_proposals", summary="The case's re-seal proposals, oldest first",
            responses=problem_responses(401, 403, 404))
def reseal_proposals(case_id: CaseId, db: DatabaseDep, principal: Auditor,
                     clock: ClockDep) -> list[ResealProposalOut]:
    return [ResealProposalOut.model_validate(p, from_attributes=True)
            for p in resealing.proposals(db, case_id=case_id, principal=principal, now=clock.now())]


@router.post("/v1/audit/reseal/{proposal_id}/confirm", response_model=ResealProposalOut,
             operation_id="audit_confirm_reseal",
             summary="Confirm a re-seal: the other role (auditor / admin), another person, with a written reason",
             responses=problem_responses(401, 403, 404, 409, 422))
def confirm_reseal(proposal_id: CaseId, db: DatabaseDep, principal: Auditor, clock: ClockDep,
                   body: Annotated[ResealConfirmIn, Body()]) -> ResealProposalOut:
    proposal = resealing.confirm(db, proposal_id=proposal_id, principal=principal, reason=body.reason,
                                 now=clock.now())
    return ResealProposalOut.model_validate(proposal, from_attributes=True)


@router.get("/v1/ladder", operation_id="ladder_matrix",
            summary="The escalation ladder in force: severity criteria and the matrix (§1.A.6)",
            responses=problem_responses(401, 403))
async def ladder_matrix(matrix: MatrixDep, principal: Staff) -> dict[str, Any]:
    return {**matrix.as_dict(), "available_versions": ladder.available_versions(),
            "actions": [a.value for a in ladder.DisciplinaryAction],
            "restorative_kinds": [k.value for k in ladder.RestorativeKind]}


@router.get("/v1/metrics", response_model=StaffMetrics, operation_id="staff_metrics",
            summary="Full case figures (department-scoped roles: their department)",
            responses=problem_responses(401, 403))
def staff_metrics(db: DatabaseDep, clock: ClockDep, principal: Staff) -> StaffMetrics:
    figures = metrics.staff_figures(db, principal=principal, now=clock.now())
    return StaffMetrics.model_validate(figures, from_attributes=True)


@router.get("/v1/metrics.csv", operation_id="staff_metrics_csv", summary="The same figures as CSV",
            responses={200: {"content": {"text/csv": {}}}, **problem_responses(401, 403)})
def staff_metrics_csv(db: DatabaseDep, clock: ClockDep, principal: Staff) -> Response:
    figures = metrics.staff_figures(db, principal=principal, now=clock.now())
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["dimension", "key", "value"])
    for row in metrics.rows(figures):
        writer.writerow([_safe(v) for v in row])
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="case-metrics.csv"'})


def _safe(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in free-text keys such as department names."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(value) else value


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
