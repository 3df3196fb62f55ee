"""What a list of cases is: the cases a principal may see, one page of their summary columns, and
a count that stops at ``TOTAL_CAP``.

Every list of cases goes through here (``GET /v1/cases`` and its filters in ``search.py``, the
due-soon and overdue lists in ``cases.py``), so access (visible departments and recusal) and the
page's cost are decided once.

Why the page reads columns, not ``Case`` objects: a list shows thirteen of the case's thirty
columns. Loading 26 ``Case`` objects through the ORM (identity map, every JSON and datetime column
decoded) took 0.7-1.2 ms for a page whose SQL takes 0.1 ms (SQLite, 100k cases, best of 5 runs of
200); the rows of a column select carry the same attributes, so ``CaseSummaryOut`` reads them as
it read the objects.

Why the count stops at 1,000: an exact ``COUNT(*)`` is a walk over every matching index entry.
Over 100k cases a count bounded at 10,000 cost 1.1 ms in raw sqlite3 and 1.6-2.3 ms through the
ORM, more than the rest of the request's database work together; bounded at 1,000 it costs a
tenth of that. A staff list of more than 1,000 cases is one to narrow with a filter, not to page
through (40 pages of 25), so past the cap the page says so (``total_exact`` false) instead of
counting. ``next_offset`` stays exact: one row past the page is fetched.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlmodel import Session, col, func, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from services.case_api.domain import access, identity
from services.case_api.domain.models import Case, CaseParty
from services.case_api.domain.paging import Listing
from shared.auth import Principal

TOTAL_CAP = 1_000

# The columns of ``CaseSummaryOut`` (services/case_api/schemas.py), in its order.
SUMMARY_COLUMNS: tuple[Any, ...] = (
    col(Case.id), col(Case.reference), col(Case.source), col(Case.state), col(Case.department),
    col(Case.platform), col(Case.categories), col(Case.assignee), col(Case.finding), col(Case.severity),
    col(Case.due_at), col(Case.created_at), col(Case.closed_at),
)

NEWEST_FIRST: tuple[Any, ...] = (col(Case.created_at).desc(), col(Case.id).desc())  # ix_cases_created_at_id
SOONEST_DUE: tuple[Any, ...] = (col(Case.due_at), col(Case.id))  # ix_cases_due_at_id


def visible_cases(principal: Principal) -> SelectOfScalar[Case]:
    """Every case the principal may see: their departments, minus those they are recused from
    (never a case whose subject they are, nor one naming them or on which they declared a conflict)."""
    q = select(Case)
    deps = access.visible_departments(principal)
    if deps is not None:
        q = q.where(col(Case.department).in_(sorted(deps)))
    me = identity.person_key(principal.subject)
    if me is not None:
        q = q.where(or_(col(Case.employee_id).is_(None), col(Case.employee_id) != me),
                    col(Case.id).not_in(select(CaseParty.case_id).where(CaseParty.person_key == me)))
    return q


def summary_page(session: Session, q: SelectOfScalar[Case], *, ordering: tuple[Any, ...], limit: int,
                 offset: int) -> Listing[Row[Any]]:
    """Two statements whatever the page size: the count bounded past ``TOTAL_CAP`` and the page's
    summary columns (``LIMIT limit + 1``, so ``next_offset`` is exact)."""
    bounded = q.with_only_columns(col(Case.id), maintain_column_froms=True).limit(TOTAL_CAP + 1).subquery()
    total = int(session.exec(select(func.count()).select_from(bounded)).one())
    rows = list(session.execute(q.with_only_columns(*SUMMARY_COLUMNS, maintain_column_froms=True)
                                .order_by(*ordering).limit(limit + 1).offset(offset)))
    return Listing.of(rows, total=total, limit=limit, offset=offset, cap=TOTAL_CAP)
