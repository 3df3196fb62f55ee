"""Staff search and export over cases (issue 14, item 7).

``search_cases`` answers ``GET /v1/cases``: filters by employee, account, category, source, state,
department, assignee and creation day range, plus free text (PostgreSQL full-text search over a
generated ``tsvector`` column with a GIN index; SQLite FTS5, a ``cases_fts`` table kept by
triggers; both made by migration 0016). ``export_rows`` streams every matching case in pages
walked by keyset (``created_at, id`` descending), one short read unit per page, so an export of
any size holds one page in memory and no transaction between pages.

Access is the same as every case list: the caller's visible departments and recusal (never a case
whose subject they are, nor one naming them or on which they declared a conflict). Filtering by
employee is an identity read: only roles that may see the employee may do it (403 otherwise), and
each such search is audited (``cases.searched_by_employee``), as each export is (``cases.exported``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, exists, literal_column, text, tuple_
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from services.case_api.domain import access, audit, identity
from services.case_api.domain.case_list import NEWEST_FIRST, summary_page, visible_cases
from services.case_api.domain.models import Case
from services.case_api.domain.paging import Listing
from shared.auth import Principal
from shared.db import Database
from shared.errors import Forbidden, ValidationFailed, field_error

MAX_TERMS = 8
EXPORT_PAGE = 500
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class CaseSearch:
    """What a staff member filters by. Every field optional; all given ones must match."""

    employee: str | None = None
    account: str | None = None
    category: str | None = None
    source: str | None = None
    state: str | None = None
    department: str | None = None
    assignee: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    text: str | None = None

    def terms(self) -> list[str]:
        """The free text as words (letters and digits only: nothing of it reaches a query
        language), each matched as a prefix, all required."""
        return [w.casefold() for w in _WORD.findall(self.text or "")][:MAX_TERMS]

    def described(self) -> dict[str, Any]:
        """The filters given, for the audit entry (``employee_id``: redacted for auditors)."""
        out = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items() if v}
        if "employee" in out:
            out["employee_id"] = identity.person_key(out.pop("employee"))
        return out


def _may_filter_by_employee(principal: Principal, where: CaseSearch) -> None:
    if not where.employee:
        return
    deps = access.visible_departments(principal)
    departments: list[str | None] = [None] if deps is None else list(sorted(deps))
    if not any(access.can_see_employee(principal, d) for d in departments):
        raise Forbidden("Your role may not search cases by employee.")


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def filtered(principal: Principal, where: CaseSearch, dialect: str) -> SelectOfScalar[Case]:
    if where.created_from and where.created_to and where.created_from > where.created_to:
        raise ValidationFailed("created_from is after created_to.",
                               errors=[field_error(["query", "created_from"], "after created_to")])
    q = visible_cases(principal)
    if where.employee:
        q = q.where(col(Case.employee_id) == identity.person_key(where.employee))
    if where.account:
        q = q.where(col(Case.account_id) == where.account.strip())
    if where.source:
        q = q.where(col(Case.source) == where.source)
    if where.state:
        q = q.where(col(Case.state) == where.state)
    if where.department:
        q = q.where(col(Case.department) == identity.department(where.department))
    if where.assignee:
        q = q.where(col(Case.assignee) == identity.person_key(where.assignee))
    if where.created_from:
        q = q.where(col(Case.created_at) >= _day_start(where.created_from))
    if where.created_to:
        q = q.where(col(Case.created_at) < _day_start(where.created_to + timedelta(days=1)))
    if where.category:
        elements = (func.json_each(col(Case.categories)) if dialect == "sqlite"
                    else func.json_array_elements_text(col(Case.categories))).table_valued("value")
        q = q.where(exists(select(literal_column("1")).select_from(elements).where(elements.c.value == where.category)))
    terms = where.terms()
    if where.text is not None and where.text.strip() and not terms:
        raise ValidationFailed("The search text has no words.", errors=[field_error(["query", "q"], "no words")])
    if terms:
        q = q.where(_matches(terms, dialect))
    return q


def _matches(terms: list[str], dialect: str) -> Any:
    if dialect == "postgresql":  # cases.search_vector: GENERATED ... to_tsvector('simple', ...), GIN-indexed
        return text("cases.search_vector @@ to_tsquery('simple', :tsq)").bindparams(
            tsq=" & ".join(f"{t}:*" for t in terms))
    fts: Any = (select(literal_column("case_id")).select_from(text("cases_fts"))
           .where(text("cases_fts MATCH :fts").bindparams(fts=" ".join(f'"{t}"*' for t in terms))))
    return col(Case.id).in_(fts)


def _audit_employee_search(session: Session, principal: Principal, where: CaseSearch, now: datetime,
                           action: str, **extra: Any) -> None:
    audit.append(session, actor=principal.subject, action=action, case_id=None,
                 detail={"filters": where.described(), **extra}, now=now)


def search_cases(db: Database, *, principal: Principal, where: CaseSearch, limit: int, offset: int,
                 now: datetime) -> Listing[Row[Any]]:
    """A page of the matching cases' summaries, newest first: a bounded count and the page (two
    statements whatever the page size; a search by employee also appends its audit entry in the
    same unit)."""
    _may_filter_by_employee(principal, where)
    q = filtered(principal, where, db.dialect)
    unit = db.write if where.employee else db.read
    with unit() as s:
        listing = summary_page(s, q, ordering=NEWEST_FIRST, limit=limit, offset=offset)
        if where.employee:
            _audit_employee_search(s, principal, where, now, "cases.searched_by_employee")
    return listing


# --- export ------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("id", "reference", "source", "state", "department", "account_id", "account_text", "platform",
                  "categories", "assignee", "finding", "severity", "seen_on", "due_at", "created_at",
                  "closed_at", "summary", "outcome_summary")


def export_row(case: Case) -> dict[str, Any]:
    """One exported case: the list's fields plus its texts. Never the employee, the involved
    persons or the disciplinary action (an export leaves the access module's reach)."""
    out: dict[str, Any] = {}
    for name in EXPORT_COLUMNS:
        value = getattr(case, name)
        out[name] = value.isoformat() if isinstance(value, date) else value
    return out


def start_export(db: Database, *, principal: Principal, where: CaseSearch, fmt: str,
                 now: datetime) -> SelectOfScalar[Case]:
    """Check the search and audit the export (before the first byte is sent); returns the query
    ``export_rows`` walks."""
    _may_filter_by_employee(principal, where)
    q = filtered(principal, where, db.dialect)
    with db.write() as s:
        _audit_employee_search(s, principal, where, now, "cases.exported", format=fmt)
    return q


def export_rows(db: Database, query: SelectOfScalar[Case], *, page: int = EXPORT_PAGE) -> Iterator[dict[str, Any]]:
    """Every case ``query`` matches, newest first, read ``page`` rows at a time by keyset
    (``(created_at, id) < last``), each page in its own short read unit."""
    last: tuple[datetime, str] | None = None
    while True:
        q = query
        if last is not None:
            q = q.where(tuple_(col(Case.created_at), col(Case.id)) < tuple_(*last))
        with db.read() as s:
            rows = [(c.created_at, c.id, export_row(c)) for c in s.exec(q.order_by(*NEWEST_FIRST).limit(page))]
        for _, _, row in rows:
            yield row
        if len(rows) < page:
            return
        last = (rows[-1][0], rows[-1][1])

