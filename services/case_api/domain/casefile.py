"""The case file as one document (issue 15 item 7): its timeline, every report's testimony, the
evidence listed with hashes, notes and messages, decisions and amendments, restorative actions,
linked cases, and the audit verification at the time of export. Rendered as JSON or as a PDF
(``casefile_render``) for staff, and, redacted (``redaction``), for public-records exports.

``build`` reads everything of one case in a fixed number of statements (one per kind of record),
inside the caller's session. ``export_case_file`` is the staff use-case: verify the chain (its own
read), read the case file (a read), render with no transaction open, then audit the export with
the SHA-256 of the bytes handed out (a write), so the chain records exactly what left the system.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, or_, select

from services.case_api.domain import access, audit
from services.case_api.domain.cases import recusal_audited, visible_case_and_parties
from services.case_api.domain.models import (
    AuditEntry,
    Case,
    CaseDecision,
    CaseLink,
    CaseMessage,
    CaseNote,
    CaseReport,
    RestorativeAction,
)
from shared.auth import Principal, Role
from shared.db import Database

FORMAT = "civicsocial.case-file/1"
EXPORT_ROLES = (Role.investigator, Role.hr, Role.department_director, Role.auditor, Role.admin)


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseSection(_Doc):
    id: str
    reference: str
    source: str
    state: str
    department: str | None
    account_id: str | None
    account_text: str | None
    platform: str | None
    categories: list[str]
    summary: str
    links: list[str]
    seen_on: date | None
    employee_id: str | None
    involved: list[str]
    assignee: str | None
    finding: str | None
    finding_at: datetime | None
    severity: int | None
    recommendation: dict[str, Any] | None
    decision: dict[str, Any] | None
    outcome_summary: str | None
    dismissal_reason: str | None
    reopen_reason: str | None
    created_at: datetime
    closed_at: datetime | None


class EvidenceItem(_Doc):
    id: str
    media_type: str | None
    size_bytes: int | None
    sha256: str | None
    report_reference: str | None  # None: attached to the case itself (staff, monitoring)


class ReportTestimony(_Doc):
    reference: str
    received_on: date
    has_contact: bool
    description: str | None
    categories: list[str]
    links: list[str]
    seen_on: date | None
    evidence: list[EvidenceItem]
    merged_from: str | None


class NoteItem(_Doc):
    at: datetime
    author: str
    body: str


class MessageItem(_Doc):
    at: datetime
    direction: str
    author: str | None
    report_reference: str | None
    body: str


class DecisionItem(_Doc):
    version: int
    action: str
    recommended: str
    differs: bool
    heavier: bool
    justification: str | None
    amendment_reason: str | None
    decided_by: str
    role: str
    decided_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    status: str


class RestorativeItem(_Doc):
    kind: str
    owner: str
    due_on: date
    status: str
    description: str | None
    evidence: str | None
    completed_at: datetime | None


class LinkItem(_Doc):
    kind: str
    other_reference: str
    direction: str
    reason: str
    at: datetime


class TimelineItem(_Doc):
    seq: int
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]
    hash: str


class VerificationItem(_Doc):
    ok: bool
    checked_at: datetime
    entries_checked: int
    head_seq: int | None
    head_hash: str | None
    first_broken_seq: int | None
    problem: str | None
    case_row_problems: list[dict[str, Any]]
    other_row_problems: int


class CaseFile(_Doc):
    format: str = FORMAT
    generated_at: datetime
    generated_by: str
    audience: Literal["staff", "public_records"]
    employee_visible: bool
    disciplinary_visible: bool
    case: CaseSection
    reports: list[ReportTestimony]
    evidence: list[EvidenceItem]
    notes: list[NoteItem]
    messages: list[MessageItem]
    decisions: list[DecisionItem]
    restorative_actions: list[RestorativeItem]
    linked_cases: list[LinkItem]
    timeline: list[TimelineItem]
    verification: VerificationItem
    redactions: list[dict[str, Any]] = []


def _evidence(items: list[dict[str, Any]] | None, report: str | None) -> list[EvidenceItem]:
    return [EvidenceItem(id=str(e.get("id")), media_type=e.get("media_type"), size_bytes=e.get("size_bytes"),
                         sha256=e.get("sha256"), report_reference=report) for e in items or []]


def verification_of(result: audit.FullVerification, *, row_ids: set[str], now: datetime) -> VerificationItem:
    mine = [p for p in result.row_problems if str(p.get("id")) in row_ids]
    return VerificationItem(ok=result.ok, checked_at=now, entries_checked=result.chain.entries_checked,
                            head_seq=result.chain.head_seq, head_hash=result.chain.head_hash,
                            first_broken_seq=result.chain.first_broken_seq, problem=result.chain.problem,
                            case_row_problems=mine, other_row_problems=len(result.row_problems) - len(mine))


def build(session: Session, case: Case, *, seen: access.Visibility, parties: list[tuple[str, str]],
          by: str, now: datetime, audience: Literal["staff", "public_records"],
          verification: Callable[[set[str]], VerificationItem]) -> CaseFile:
    """The case file of ``case`` as a reader with ``seen`` may read it: 8 statements, whatever its size."""
    reports = list(session.exec(select(CaseReport).where(CaseReport.case_id == case.id)
                                .order_by(col(CaseReport.created_at), col(CaseReport.id))))
    notes = list(session.exec(select(CaseNote).where(CaseNote.case_id == case.id)
                              .order_by(col(CaseNote.created_at), col(CaseNote.id))))
    messages = list(session.exec(select(CaseMessage).where(CaseMessage.case_id == case.id)
                                 .order_by(col(CaseMessage.created_at), col(CaseMessage.id))))
    decisions = list(session.exec(select(CaseDecision).where(CaseDecision.case_id == case.id)
                                  .order_by(col(CaseDecision.version))))
    actions = list(session.exec(select(RestorativeAction).where(RestorativeAction.case_id == case.id)
                                .order_by(col(RestorativeAction.created_at), col(RestorativeAction.id))))
    links = list(session.exec(select(CaseLink, Case.reference).join(
        Case, or_(col(Case.id) == CaseLink.other_case_id, col(Case.id) == CaseLink.case_id))
        .where(or_(CaseLink.case_id == case.id, CaseLink.other_case_id == case.id), col(Case.id) != case.id)
        .order_by(col(CaseLink.created_at), col(CaseLink.id))))
    entries = list(session.exec(select(AuditEntry).where(AuditEntry.case_id == case.id).order_by(col(AuditEntry.seq))))

    raw = {c: getattr(case, c) for c in Case.model_fields}
    raw["involved"] = sorted(k for k, kind in parties if kind == "involved")
    shaped = access.shape_case(raw, seen)
    section = CaseSection.model_validate({k: shaped.get(k) for k in CaseSection.model_fields})
    identities = [case.employee_id, *(k for k, kind in parties if kind == "involved")]
    by_report = {r.report_id: r.reference for r in reports}
    testimony = [ReportTestimony(reference=r.reference, received_on=r.received_on, has_contact=r.has_contact,
                                 description=r.description, categories=list(r.categories or []),
                                 links=list(r.links or []), seen_on=r.seen_on,
                                 evidence=_evidence(r.evidence, r.reference), merged_from=r.merged_from)
                 for r in reports]
    # the case's evidence list (every report's, merged) plus any a report did not bring
    listed = {e.id for t in testimony for e in t.evidence}
    evidence = [e for t in testimony for e in t.evidence] + [e for e in _evidence(case.evidence, None)
                                                             if e.id not in listed]
    timeline = []
    for e in entries:
        shown = access.shape_audit_entry(e.model_dump(), seen=seen, identities=identities)
        detail = {k: v for k, v in (shown.get("detail") or {}).items() if k != "seals"}
        timeline.append(TimelineItem(seq=e.seq, at=e.at, actor=str(shown["actor"]), action=e.action,
                                     detail=detail, hash=e.hash))
    row_ids = {case.id, *(r.id for r in reports), *(n.id for n in notes), *(m.id for m in messages),
               *(d.id for d in decisions), *(a.id for a in actions)}
    return CaseFile(
        generated_at=now, generated_by=by, audience=audience, employee_visible=seen.employee,
        disciplinary_visible=seen.disciplinary, case=section, reports=testimony, evidence=evidence,
        notes=[NoteItem(at=n.created_at, author=n.author, body=n.body) for n in notes],
        messages=[MessageItem(at=m.created_at, direction=m.direction, author=m.author,
                              report_reference=by_report.get(m.report_id or ""), body=m.body) for m in messages],
        decisions=[DecisionItem.model_validate(d, from_attributes=True) for d in decisions] if seen.disciplinary
        else [],
        restorative_actions=[RestorativeItem.model_validate(a, from_attributes=True) for a in actions],
        linked_cases=[LinkItem(kind=link.kind, other_reference=ref,
                               direction="this_case" if link.case_id == case.id else "other_case",
                               reason=link.reason, at=link.created_at) for link, ref in links],
        timeline=timeline, verification=verification(row_ids),
    )


@dataclass(frozen=True)
class ExportedFile:
    content: bytes
    media_type: str
    filename: str
    sha256: str


def to_json(doc: CaseFile) -> bytes:
    return doc.model_dump_json(indent=2).encode()


@recusal_audited("case.file_export")
def export_case_file(db: Database, *, case_id: str, principal: Principal, fmt: Literal["json", "pdf"],
                     now: datetime) -> ExportedFile:
    """The whole case file for staff, as JSON or PDF, with the verification result at export time.
    Audited (``case.file_exported`` with the SHA-256 of the bytes handed out)."""
    with db.read() as s:  # 404 (or recusal) before any work
        visible_case_and_parties(s, case_id, principal)
    result = audit.verify(db)
    with db.read() as s:
        case, parties = visible_case_and_parties(s, case_id, principal)
        doc = build(s, case, seen=access.visibility(principal, case.department), parties=parties,
                    by=principal.subject, now=now, audience="staff",
                    verification=lambda ids: verification_of(result, row_ids=ids, now=now))
    if fmt == "json":
        content, media, ext = to_json(doc), "application/json", "json"
    else:
        from services.case_api import casefile_render  # WeasyPrint is imported only when a PDF is made

        content, media, ext = casefile_render.pdf(doc), "application/pdf", "pdf"
    digest = hashlib.sha256(content).hexdigest()
    with db.write() as s:
        audit.append(s, actor=principal.subject, action="case.file_exported", case_id=doc.case.id,
                     detail={"format": fmt, "sha256": digest, "verified_ok": doc.verification.ok,
                             "employee_visible": doc.employee_visible}, now=now)
    return ExportedFile(content=content, media_type=media, filename=f"case-file-{doc.case.reference}.{ext}",
                        sha256=digest)

