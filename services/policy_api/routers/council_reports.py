"""The Executive Communication to Council (R-24-89 §2): generate it, read it as HTML or PDF, and record
when it was sent. Staff only (policy approvers, records staff, admins)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Annotated

from fastapi import Depends, Request, Response

from services.policy_api import council_report_render as render
from services.policy_api.domain import council_report
from services.policy_api.domain.models import CouncilReport
from services.policy_api.routers._common import DEFAULT_LIMIT, CatalogueReady, LimitQ, OffsetQ, write_ctx
from services.policy_api.schemas import CouncilReportOut, CouncilReportSentIn
from shared.auth import Principal, Role
from shared.schemas.page import Page
from shared.timeutil import as_utc
from shared.web import ClockDep, DatabaseDep, problem_responses, require_roles
from shared.web.routing import APIRouter

REPORTERS = (Role.policy_approver, Role.records_manager, Role.admin)
Reporter = Annotated[Principal, Depends(require_roles(*REPORTERS))]
PRIVATE = {"Cache-Control": "private, no-store"}

router = APIRouter(tags=["council report"], dependencies=[CatalogueReady])


def _out(r: CouncilReport) -> CouncilReportOut:
    base = f"/v1/council-reports/{r.id}"
    due = (as_utc(r.approved_at).date() + timedelta(days=council_report.REPORT_DAYS)) if r.approved_at else None
    return CouncilReportOut(id=r.id, generated_at=r.generated_at, generated_by=r.generated_by, policy_id=r.policy_id,
                            version_id=r.version_id, approved_at=r.approved_at, due_by=due,
                            html_sha256=r.html_sha256, sent_at=r.sent_at, sent_by=r.sent_by, sent_note=r.sent_note,
                            html_url=base + "/report.html", pdf_url=base + "/report.pdf")


@router.post("/v1/council-reports", operation_id="generate_council_report", status_code=201,
             response_model=CouncilReportOut, responses=problem_responses(401, 403),
             summary="Generate the Executive Communication to Council now (approvers, records staff)")
def generate(request: Request, db: DatabaseDep, clock: ClockDep, principal: Reporter) -> CouncilReportOut:
    state = request.app.state
    settings = state.settings
    url = settings.public_base_url.rstrip("/") + "/transparency"
    report = council_report.generate(
        db, write_ctx(request, principal, clock),
        transparency=partial(render.check_transparency, state.peers, clock, url=url,
                             timeout=max(5.0, settings.metrics_timeout_seconds)),
        metrics=state.metrics_source.fetch, chain=partial(render.chain_head, db), render=render.render_html,
        feedback=state.feedback_source.counts,
    )
    return _out(report)


@router.get("/v1/council-reports", operation_id="list_council_reports", response_model=Page[CouncilReportOut],
            responses=problem_responses(401, 403), summary="Generated reports, newest first")
def list_reports(db: DatabaseDep, principal: Reporter, limit: LimitQ = DEFAULT_LIMIT,
                 offset: OffsetQ = 0) -> Page[CouncilReportOut]:
    rows, total = council_report.list_reports(db, limit=limit, offset=offset)
    return Page[CouncilReportOut].build([_out(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/v1/council-reports/{report_id}", operation_id="get_council_report", response_model=CouncilReportOut,
            responses=problem_responses(401, 403, 404), summary="One report: when generated, the clock, when sent")
def get_report(report_id: str, db: DatabaseDep, principal: Reporter) -> CouncilReportOut:
    return _out(council_report.get_report(db, report_id=report_id))


@router.get("/v1/council-reports/{report_id}/report.html", operation_id="council_report_html",
            responses={200: {"content": {"text/html": {}}}, **problem_responses(401, 403, 404)},
            summary="The report as generated (HTML)")
def report_html(report_id: str, db: DatabaseDep, principal: Reporter) -> Response:
    report = council_report.get_report(db, report_id=report_id)
    csp = f"default-src 'none'; style-src {render.style_hashes(report.html)}; base-uri 'none'; frame-ancestors 'none'"
    return Response(report.html, media_type="text/html; charset=utf-8",
                    headers={**PRIVATE, "Content-Security-Policy": csp})


@router.get("/v1/council-reports/{report_id}/report.pdf", operation_id="council_report_pdf",
            responses={200: {"content": {"application/pdf": {}}}, **problem_responses(401, 403, 404)},
            summary="The report as generated (PDF, rendered by WeasyPrint from the stored HTML)")
def report_pdf(report_id: str, db: DatabaseDep, principal: Reporter) -> Response:
    report = council_report.get_report(db, report_id=report_id)
    name = f"council-report-{as_utc(report.generated_at).date().isoformat()}-{report.id[-8:]}.pdf"
    return Response(render.render_pdf(report.html), media_type="application/pdf",
                    headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/v1/council-reports/{report_id}/sent", operation_id="mark_council_report_sent",
             response_model=CouncilReportOut, responses=problem_responses(401, 403, 404, 409),
             summary="Record when the communication was sent to Council (once)")
def mark_sent(request: Request, report_id: str, db: DatabaseDep, clock: ClockDep, principal: Reporter,
              body: CouncilReportSentIn | None = None) -> CouncilReportOut:
    report = council_report.mark_sent(db, write_ctx(request, principal, clock), report_id=report_id,
                                      sent_at=body.sent_at if body else None, note=body.note if body else None)
    return _out(report)
