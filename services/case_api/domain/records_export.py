"""Public-records (NM Inspection of Public Records Act) exports (issue 15 item 6).

A records manager asks for the cases of a request (a date range on when the case was opened, and
optionally a department and a state). The request is logged at once (``records_exports``, kept four
years: 1.21.2.519 NMAC) and audited (``records.export_requested``); the job then runs in the
background (``run_export``), one case at a time, each in its own short read, rendering with no
transaction open and writing its progress (``done`` of ``total``) after each case. The result is a
ZIP: one redacted PDF case file per case (``redaction``) and ``manifest.json`` with the SHA-256 of
every file, the criteria, the rule table, the redaction log and the audit verification at the time
of the export. The ZIP's SHA-256 is in the job row and in the ``records.export_completed`` entry.

A job left ``queued`` or ``running`` by a restart is picked up by ``run_pending`` (the next request
runs it, and so does the scheduler's tick when one is wired to it); a finished job is never run again.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import structlog
from sqlmodel import col, func, select

from services.case_api.domain import access, audit, identity, redaction
from services.case_api.domain.casefile import build, verification_of
from services.case_api.domain.cases import parties_of
from services.case_api.domain.models import Case, CaseParty
from services.case_api.domain.record_models import RecordsExport, RecordsExportFile
from shared.auth import Principal, Role
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed, field_error

ROLES = (Role.records_manager, Role.admin)
MAX_CASES = 2000
MAX_RANGE_DAYS = 366 * 10
KEEP_YEARS = 4  # 1.21.2.519 NMAC: requests to inspect public records, 4 years after the request is closed
MANIFEST_FORMAT = "civicsocial.ipra-export/1"
log = structlog.get_logger("case_api.records_export")


@dataclass(frozen=True)
class Criteria:
    opened_from: date
    opened_to: date
    department: str | None = None
    state: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"opened_from": self.opened_from.isoformat(), "opened_to": self.opened_to.isoformat(),
                "department": self.department, "state": self.state}


def _keep_until(now: datetime) -> date:
    d = now.date()
    try:
        return d.replace(year=d.year + KEEP_YEARS)
    except ValueError:  # 29 February
        return d.replace(year=d.year + KEEP_YEARS, day=28)


def _matching(criteria: Criteria) -> Any:
    start = datetime.combine(criteria.opened_from, time.min, tzinfo=UTC)
    end = datetime.combine(criteria.opened_to + timedelta(days=1), time.min, tzinfo=UTC)
    q = select(Case.id).where(col(Case.created_at) >= start, col(Case.created_at) < end)
    if criteria.department:
        q = q.where(Case.department == identity.department(criteria.department))
    if criteria.state:
        q = q.where(Case.state == criteria.state)
    return q


def _recused_filter(q: Any, principal: Principal) -> Any:
    me = identity.person_key(principal.subject)
    if me is None:
        return q
    return q.where((col(Case.employee_id).is_(None)) | (col(Case.employee_id) != me),
                   col(Case.id).not_in(select(CaseParty.case_id).where(CaseParty.person_key == me)))


def request_export(db: Database, *, principal: Principal, request_reference: str, criteria: Criteria,
                   description: str | None, now: datetime) -> RecordsExport:
    """Log the request and queue its job (202). More than ``MAX_CASES`` cases: 422, narrow the range."""
    if criteria.opened_to < criteria.opened_from:
        raise ValidationFailed("The range ends before it starts.",
                               errors=[field_error(["body", "opened_to"], "must not be before opened_from")])
    if (criteria.opened_to - criteria.opened_from).days > MAX_RANGE_DAYS:
        raise ValidationFailed("The range is too long.",
                               errors=[field_error(["body", "opened_to"], "at most 10 years")])
    with db.write() as s:
        matching = int(s.exec(select(func.count()).select_from(_matching(criteria).subquery())).one())
        if matching > MAX_CASES:
            raise ValidationFailed(f"{matching} cases match; an export holds at most {MAX_CASES}. Split the "
                                   "request by date range.", errors=[field_error(["body"], "too many cases")])
        job = RecordsExport(request_reference=request_reference.strip(), description=description,
                            requested_by=principal.subject, requested_at=now, criteria=criteria.as_json(),
                            status="queued", total=matching, keep_until=_keep_until(now))
        s.add(job)
        s.flush()
        audit.append(s, actor=principal.subject, action="records.export_requested", case_id=None,
                     detail={"export_id": job.id, "request_reference": job.request_reference,
                             "criteria": job.criteria, "matching": matching}, now=now)
        return job


def get_export(db: Database, *, export_id: str) -> RecordsExport:
    with db.read() as s:
        job = s.get(RecordsExport, export_id) if len(export_id) <= 36 else None
        if job is None:
            raise NotFound("No such export.")
        return job


def list_exports(db: Database, *, limit: int, offset: int) -> tuple[list[RecordsExport], int]:
    """The request log, newest first (two statements)."""
    with db.read() as s:
        total = int(s.exec(select(func.count()).select_from(RecordsExport)).one())
        rows = list(s.exec(select(RecordsExport).order_by(col(RecordsExport.requested_at).desc(),
                                                          col(RecordsExport.id).desc()).limit(limit).offset(offset)))
        return rows, total


def download(db: Database, *, export_id: str, principal: Principal, now: datetime) -> tuple[RecordsExport, bytes]:
    """The finished ZIP; every download audited (``records.export_downloaded``)."""
    with db.write() as s:
        job = s.get(RecordsExport, export_id) if len(export_id) <= 36 else None
        if job is None:
            raise NotFound("No such export.")
        if job.status != "done":
            raise Conflict(f"The export is {job.status}.", status=job.status)
        blob = s.get(RecordsExportFile, job.id)
        if blob is None:
            raise NotFound("The export's file is no longer held (destroyed under its retention schedule).")
        audit.append(s, actor=principal.subject, action="records.export_downloaded", case_id=None,
                     detail={"export_id": job.id, "sha256": job.result_sha256}, now=now)
        return job, bytes(blob.content)


def _claim(db: Database, export_id: str, now: datetime) -> RecordsExport | None:
    with db.write() as s:
        job = s.get(RecordsExport, export_id, with_for_update=True)
        if job is None or job.status not in ("queued", "running"):
            return None
        job.status, job.started_at, job.done = "running", now, 0
        s.add(job)
        s.flush()
        return job


def run_pending(db: Database, *, clock: Callable[[], datetime], render: Callable[[Any], bytes]) -> int:
    """Run every queued (or interrupted) export, oldest first; returns how many finished."""
    with db.read() as s:
        ids = list(s.exec(select(RecordsExport.id).where(col(RecordsExport.status).in_(["queued", "running"]))
                          .order_by(col(RecordsExport.requested_at))))
    return sum(run_export(db, export_id=i, clock=clock, render=render) for i in ids)


def run_export(db: Database, *, export_id: str, clock: Callable[[], datetime], render: Callable[[Any], bytes]) -> bool:
    """Build, redact and render each case, then store the ZIP and its manifest. ``render`` turns a
    redacted ``CaseFile`` into PDF bytes. False when the job was not runnable (already done)."""
    job = _claim(db, export_id, clock())
    if job is None:
        return False
    try:
        _run(db, job, clock=clock, render=render)
    except Exception as exc:  # the job row says what went wrong; nothing half-written is kept
        log.exception("records_export_failed", export_id=job.id)
        with db.write() as s:
            row = s.get(RecordsExport, job.id)
            assert row is not None
            row.status, row.error, row.finished_at = "failed", f"{type(exc).__name__}: {exc}"[:2000], clock()
            s.add(row)
    return True


def _run(db: Database, job: RecordsExport, *, clock: Callable[[], datetime], render: Callable[[Any], bytes]) -> None:
    c = job.criteria
    criteria = Criteria(opened_from=date.fromisoformat(c["opened_from"]), opened_to=date.fromisoformat(c["opened_to"]),
                        department=c.get("department"), state=c.get("state"))
    requester = Principal(subject=job.requested_by, roles=frozenset({Role.records_manager}))
    with db.read() as s:
        every = list(s.exec(_matching(criteria).order_by(col(Case.created_at), col(Case.id))))
        allowed = set(s.exec(_recused_filter(_matching(criteria), requester)))
    ids = [i for i in every if i in allowed]
    started = clock()
    result = audit.verify(db)
    seen = access.Visibility(employee=False, disciplinary=False)
    buffer = io.BytesIO()
    files: list[dict[str, Any]] = []
    log: list[dict[str, Any]] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for n, case_id in enumerate(ids, 1):
            with db.read() as s:
                case = s.get(Case, case_id)
                if case is None:  # destroyed meanwhile under its schedule
                    continue
                doc = build(s, case, seen=seen, parties=parties_of(s, case.id), by=job.requested_by, now=started,
                            audience="public_records",
                            verification=lambda row_ids: verification_of(result, row_ids=row_ids, now=started))
            public = redaction.redact(doc)
            content = render(public)
            name = f"cases/{public.case.reference}.pdf"
            z.writestr(name, content)
            files.append({"name": name, "case_reference": public.case.reference, "bytes": len(content),
                          "sha256": hashlib.sha256(content).hexdigest(), "verified_ok": public.verification.ok})
            log.extend({"case_reference": public.case.reference, **x} for x in public.redactions)
            with db.write() as s:
                row = s.get(RecordsExport, job.id)
                assert row is not None
                row.done = n
                s.add(row)
        manifest = {
            "format": MANIFEST_FORMAT, "export_id": job.id, "request_reference": job.request_reference,
            "description": job.description, "requested_by": job.requested_by,
            "requested_at": job.requested_at.isoformat(), "generated_at": started.isoformat(), "criteria": job.criteria,
            "cases": len(files), "withheld_recused": len(every) - len(ids),
            "verification": {"ok": result.ok, "entries_checked": result.chain.entries_checked,
                             "head_seq": result.chain.head_seq, "head_hash": result.chain.head_hash},
            "files": files,
            "redaction_rules": [{"rule": r.id, "what": r.what, "authority": r.authority} for r in redaction.RULES],
            "redaction_log": log,
            "retention": {"request_log_kept_until": job.keep_until.isoformat(), "schedule": "1.21.2.519 NMAC"},
        }
        raw_manifest = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
        z.writestr("manifest.json", raw_manifest)
    content = buffer.getvalue()
    digest = hashlib.sha256(content).hexdigest()
    with db.write() as s:
        row = s.get(RecordsExport, job.id, with_for_update=True)
        assert row is not None
        row.status, row.done, row.withheld, row.finished_at = "done", len(ids), len(every) - len(ids), clock()
        row.result_sha256, row.result_bytes = digest, len(content)
        row.manifest_sha256 = hashlib.sha256(raw_manifest).hexdigest()
        s.add(row)
        s.add(RecordsExportFile(export_id=row.id, content=content, created_at=row.finished_at))
        s.flush()
        audit.append(s, actor=job.requested_by, action="records.export_completed", case_id=None,
                     detail={"export_id": row.id, "sha256": digest, "manifest_sha256": row.manifest_sha256,
                             "cases": len(files), "withheld_recused": row.withheld}, now=row.finished_at)
