"""Retention and legal hold (issue 15 item 5): a schedule per record class, legal holds on a case
or on everything about an employee, and the purge that destroys what has expired.

* The schedule (``DEFAULT_SCHEDULE``; docs/records.md gives the source of each default) is
  configurable: ``CASE_API_RETENTION_DAYS`` (JSON, record class -> days) overrides a default.
* A legal hold stops every destruction of the case (or of any case whose subject or involved
  person is the employee) until it is released. Placing and releasing are audited and the hold
  rows are sealed with the case file.
* ``purge`` destroys, one case per unit of work so one refused case never blocks the others:
  - ``case_file``: a case closed or dismissed longer ago than its period, with every row of its
    file (reports and their testimony, notes, messages, decisions, due process, parties,
    restorative actions, links). Each row is recorded through ``sealing.record_destruction`` in
    the same transaction, so verification afterwards reports "destroyed under schedule case_file
    on D" instead of "missing".
  - ``report_content``: when its period is shorter than the case file's, the reports' own text,
    links and evidence references and the case's summary, links and evidence list are blanked
    (the blanked rows are sealed as blanked).
  - ``monitoring_posts``: imported posts older than their period lose their text and thread.
  - ``export_requests``: public-records export requests and their ZIPs past ``keep_until``.
  A row whose seal is broken is not destroyed (the sealing check refuses): it is reported, and an
  auditor looks at it first.
* On SQLite, after a purge that destroyed anything: ``PRAGMA wal_checkpoint(TRUNCATE)``, ``VACUUM``
  and a second checkpoint, so nothing destroyed stays readable in the database file's free pages
  or in its ``-wal`` (``secure_delete`` is also on for the purge's connection). On PostgreSQL,
  deleted tuples are reclaimed by autovacuum; ``VACUUM`` of the tables is left to the operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from sqlmodel import Session, col, or_, select

from services.case_api.domain import access, audit, identity, sealing
from services.case_api.domain.cases import parties_of
from services.case_api.domain.models import (
    Case,
    CaseDecision,
    CaseLink,
    CaseMessage,
    CaseNote,
    CaseParty,
    CaseReport,
    DueProcess,
    MonitoredPost,
    RestorativeAction,
)
from services.case_api.domain.record_models import LegalHold, RecordsExport, RecordsExportFile
from services.case_api.domain.state_machine import TERMINAL
from shared import sqlite_compact
from shared.auth import Principal, Role
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed, field_error

log = structlog.get_logger("case_api.retention")

HOLD_ROLES = (Role.records_manager, Role.admin)
PURGE_ROLES = (Role.records_manager, Role.admin)
DESTROYED = "[destroyed under retention schedule {schedule} on {on}]"
BATCH = 200  # cases examined per purge run and class; the scheduler runs again


class RecordClass(StrEnum):
    report_content = "report_content"
    evidence = "evidence"
    reporter_contact = "reporter_contact"
    case_file = "case_file"
    audit_entries = "audit_entries"
    monitoring_posts = "monitoring_posts"
    export_requests = "export_requests"


@dataclass(frozen=True)
class Period:
    days: int | None  # None: kept permanently
    after: str
    source: str
    held_by: str = "case_api"


YEAR = 365
DEFAULT_SCHEDULE: dict[RecordClass, Period] = {
    RecordClass.case_file: Period(6 * YEAR, "the case is closed or dismissed",
                                  "1.21.2 NMAC (functional schedule), personnel investigation and complaint files: "
                                  "City default 6 years after final action; see docs/records.md"),
    RecordClass.report_content: Period(6 * YEAR, "the case is closed or dismissed",
                                       "part of the case file (1.21.2 NMAC): same period unless configured shorter"),
    RecordClass.evidence: Period(6 * YEAR, "the case is closed or dismissed",
                                 "part of the case file (1.21.2 NMAC); the files are held by feedback_api",
                                 held_by="feedback_api"),
    RecordClass.reporter_contact: Period(30, "the case is closed or dismissed",
                                         "not a public record the schedule requires keeping; kept only to answer "
                                         "the reporter (data minimisation, R-24-89)", held_by="feedback_api"),
    RecordClass.audit_entries: Period(None, "never (the chain is kept for the life of the system)",
                                      "entries hold hashes, not content; kept so that every retained record and "
                                      "every destruction stays verifiable"),
    RecordClass.monitoring_posts: Period(3 * YEAR, "the post was imported",
                                         "1.21.2 NMAC, copies of published information used for a review: City "
                                         "default 3 years; see docs/records.md"),
    RecordClass.export_requests: Period(4 * YEAR, "the request was made",
                                        "1.21.2.519 NMAC, requests to inspect public records: 4 years"),
}


@dataclass(frozen=True)
class Schedule:
    periods: dict[RecordClass, Period]

    @classmethod
    def from_overrides(cls, days: dict[str, int] | None) -> Schedule:
        periods = dict(DEFAULT_SCHEDULE)
        for name, value in (days or {}).items():
            try:
                klass = RecordClass(name)
            except ValueError as exc:
                raise ValueError(f"unknown record class in the retention schedule: {name!r}") from exc
            if value < 0:
                raise ValueError(f"retention of {name} must not be negative")
            base = periods[klass]
            periods[klass] = Period(value, base.after, base.source + f" (configured: {value} days)", base.held_by)
        return cls(periods)

    def cutoff(self, klass: RecordClass, now: datetime) -> datetime | None:
        days = self.periods[klass].days
        return None if days is None else now - timedelta(days=days)


# --- legal holds -------------------------------------------------------------------------


def place_hold(db: Database, *, principal: Principal, case_id: str | None, employee_id: str | None, reason: str,
               now: datetime) -> LegalHold:
    if (case_id is None) == (employee_id is None):
        raise ValidationFailed("A hold is on a case or on an employee.",
                               errors=[field_error(["body"], "give exactly one of case_id, employee_id")])
    with db.write() as s:
        key = None
        if case_id is not None:  # records staff hold any case they are not recused from, without reading it
            case = s.get(Case, case_id) if len(case_id) <= 36 else None
            if case is None or access.recusal_reason(person=principal.subject, employee_id=case.employee_id,
                                                     parties=parties_of(s, case.id)) is not None:
                raise NotFound("No such case.")
        else:
            key = identity.person_key(employee_id)
        hold = LegalHold(case_id=case_id, employee_key=key, reason=reason.strip(), placed_by=principal.subject,
                         placed_at=now)
        s.add(hold)
        s.flush()
        audit.append(s, actor=principal.subject, action="retention.hold_placed", case_id=case_id,
                     detail={"hold_id": hold.id, "on": "case" if case_id else "employee"}, now=now)
        return hold


def release_hold(db: Database, *, principal: Principal, hold_id: str, reason: str, now: datetime) -> LegalHold:
    with db.write() as s:
        hold = s.get(LegalHold, hold_id, with_for_update=True) if len(hold_id) <= 36 else None
        if hold is None:
            raise NotFound("No such legal hold.")
        if hold.released_at is not None:
            raise Conflict("This hold was already released.")
        hold.released_by, hold.released_at, hold.release_reason = principal.subject, now, reason.strip()
        s.add(hold)
        s.flush()
        audit.append(s, actor=principal.subject, action="retention.hold_released", case_id=hold.case_id,
                     detail={"hold_id": hold.id}, now=now)
        return hold


def list_holds(db: Database, *, active: bool | None, limit: int, offset: int) -> list[LegalHold]:
    q = select(LegalHold)
    if active is True:
        q = q.where(col(LegalHold.released_at).is_(None))
    elif active is False:
        q = q.where(col(LegalHold.released_at).is_not(None))
    with db.read() as s:
        return list(s.exec(q.order_by(col(LegalHold.placed_at).desc(), col(LegalHold.id)).limit(limit).offset(offset)))


def _held(session: Session, case: Case) -> bool:
    people = {k for k in [case.employee_id] if k}
    people |= set(session.exec(select(CaseParty.person_key).where(CaseParty.case_id == case.id,
                                                                   CaseParty.kind == "involved")))
    q = select(LegalHold.id).where(col(LegalHold.released_at).is_(None))
    cond = [col(LegalHold.case_id) == case.id]
    if people:
        cond.append(col(LegalHold.employee_key).in_(sorted(people)))
    return session.exec(q.where(or_(*cond)).limit(1)).first() is not None


# --- the purge ---------------------------------------------------------------------------


@dataclass
class PurgeReport:
    on: date
    cases_destroyed: list[str] = field(default_factory=list)        # references
    content_destroyed: list[str] = field(default_factory=list)      # references
    held: list[str] = field(default_factory=list)                   # references kept by a legal hold
    refused: list[dict[str, str]] = field(default_factory=list)     # seal broken: not destroyed
    posts_destroyed: int = 0
    export_requests_destroyed: int = 0
    compacted: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"on": self.on.isoformat(), "cases_destroyed": self.cases_destroyed,
                "content_destroyed": self.content_destroyed, "held": self.held, "refused": self.refused,
                "posts_destroyed": self.posts_destroyed, "export_requests_destroyed": self.export_requests_destroyed,
                "compacted": self.compacted}

    @property
    def destroyed_anything(self) -> bool:
        return bool(self.cases_destroyed or self.content_destroyed or self.posts_destroyed
                    or self.export_requests_destroyed)


CASE_FILE_TABLES: tuple[type[Any], ...] = (CaseMessage, CaseNote, CaseDecision, DueProcess, RestorativeAction,
                                           CaseParty, LegalHold, CaseReport)


def _expired_cases(db: Database, cutoff: datetime) -> list[str]:
    with db.read() as s:
        return list(s.exec(select(Case.id).where(col(Case.state).in_([t.value for t in TERMINAL]),
                                                 col(Case.closed_at).is_not(None), col(Case.closed_at) <= cutoff)
                           .order_by(col(Case.closed_at), col(Case.id)).limit(BATCH)))


def _destroy_case_file(session: Session, case: Case, *, on: date, actor: str) -> None:
    schedule = RecordClass.case_file.value
    for model in CASE_FILE_TABLES:
        table: Any = model
        for row in session.exec(select(model).where(table.case_id == case.id)):
            row_id = row.id
            session.delete(row)
            session.flush()
            sealing.record_destruction(session, case_id=case.id, table=model.__tablename__, row_id=row_id,
                                       schedule=schedule, on=on, actor=actor)
    for link in session.exec(select(CaseLink).where(or_(CaseLink.case_id == case.id,
                                                        CaseLink.other_case_id == case.id))):
        owner, row_id = link.case_id, link.id
        session.delete(link)
        session.flush()
        sealing.record_destruction(session, case_id=owner, table=CaseLink.__tablename__, row_id=row_id,
                                   schedule=schedule, on=on, actor=actor)
    case_id = case.id
    session.delete(case)
    session.flush()
    sealing.record_destruction(session, case_id=case_id, table="cases", row_id=case_id, schedule=schedule, on=on,
                               actor=actor)


def _destroy_content(session: Session, case: Case, *, on: date, actor: str) -> bool:
    schedule = RecordClass.report_content.value
    mark = DESTROYED.format(schedule=schedule, on=on.isoformat())
    if case.summary == mark:
        return False
    case.summary, case.links, case.evidence = mark, [], []
    session.add(case)
    reports = list(session.exec(select(CaseReport).where(CaseReport.case_id == case.id)))
    for r in reports:
        r.description, r.links, r.evidence = None, None, None
        session.add(r)
    session.flush()
    for table, row_id in [("cases", case.id), *(("case_reports", r.id) for r in reports)]:
        sealing.record_destruction(session, case_id=case.id, table=table, row_id=row_id, schedule=schedule, on=on,
                                   actor=actor)
    return True


def purge(db: Database, *, schedule: Schedule, now: datetime, actor: str = "service:case_api",
          compact: bool = True) -> PurgeReport:
    """Destroy what has expired (see the module docstring); one unit of work per case."""
    report = PurgeReport(on=now.date())
    on = now.date()
    file_cut = schedule.cutoff(RecordClass.case_file, now)
    content_cut = schedule.cutoff(RecordClass.report_content, now)
    for klass, cut in ((RecordClass.case_file, file_cut), (RecordClass.report_content, content_cut)):
        if cut is None:
            continue
        for case_id in _expired_cases(db, cut):
            try:
                with db.write() as s:
                    sqlite_compact.secure(s)
                    case = s.get(Case, case_id, with_for_update=True)
                    if case is None:
                        continue
                    if _held(s, case):
                        if case.reference not in report.held:
                            report.held.append(case.reference)
                        continue
                    if klass is RecordClass.case_file:
                        _destroy_case_file(s, case, on=on, actor=actor)
                        report.cases_destroyed.append(case.reference)
                    elif _destroy_content(s, case, on=on, actor=actor):
                        report.content_destroyed.append(case.reference)
            except Conflict as refusal:  # a seal is broken: never destroy evidence of tampering
                log.warning("retention_refused", case_id=case_id, problem=str(refusal))
                report.refused.append({"case_id": case_id, "problem": str(refusal)})
    posts_cut = schedule.cutoff(RecordClass.monitoring_posts, now)
    if posts_cut is not None:
        report.posts_destroyed = _destroy_posts(db, posts_cut, on=on, actor=actor)
    report.export_requests_destroyed = _destroy_export_requests(db, on=on, actor=actor, now=now)
    if report.destroyed_anything:
        with db.write() as s:
            audit.append(s, actor=actor, action="retention.purged", case_id=None,
                         detail={"on": on.isoformat(), "cases": len(report.cases_destroyed),
                                 "contents": len(report.content_destroyed), "posts": report.posts_destroyed,
                                 "export_requests": report.export_requests_destroyed, "held": len(report.held),
                                 "refused": len(report.refused)}, now=now)
        if compact:
            report.compacted = sqlite_compact.compact(db)
    return report


def _destroy_posts(db: Database, cutoff: datetime, *, on: date, actor: str) -> int:
    schedule = RecordClass.monitoring_posts.value
    mark = DESTROYED.format(schedule=schedule, on=on.isoformat())
    with db.write() as s:
        sqlite_compact.secure(s)
        posts = list(s.exec(select(MonitoredPost).where(col(MonitoredPost.imported_at) <= cutoff,
                                                        col(MonitoredPost.text) != mark).limit(BATCH * 5)))
        for p in posts:
            p.text, p.thread = mark, []
            s.add(p)
        s.flush()
        for p in posts:
            sealing.record_destruction(s, case_id=None, table="monitored_posts", row_id=p.id, schedule=schedule,
                                       on=on, actor=actor)
        return len(posts)


def _destroy_export_requests(db: Database, *, on: date, actor: str, now: datetime) -> int:
    with db.write() as s:
        sqlite_compact.secure(s)
        jobs = list(s.exec(select(RecordsExport).where(col(RecordsExport.keep_until) < on).limit(BATCH)))
        for job in jobs:
            blob = s.get(RecordsExportFile, job.id)
            if blob is not None:
                s.delete(blob)
            s.flush()
            s.delete(job)
            audit.append(s, actor=actor, action="retention.export_request_destroyed", case_id=None,
                         detail={"export_id": job.id, "schedule": RecordClass.export_requests.value,
                                 "on": on.isoformat()}, now=now)
        return len(jobs)


def schedule_table(schedule: Schedule) -> list[dict[str, Any]]:
    return [{"record_class": k.value, "days": p.days, "after": p.after, "source": p.source, "held_by": p.held_by}
            for k, p in schedule.periods.items()]

