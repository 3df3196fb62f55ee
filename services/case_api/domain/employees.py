"""The employee directory (issue 14, item 1): kept in sync by the City's identity system over SCIM
2.0 (RFC 7643/7644; ``routers/scim.py``). Entries are compared by ``identity.person_key`` of their
``userName``; deactivated, never deleted (a case keeps naming a former employee). With
``CASE_API_REQUIRE_KNOWN_EMPLOYEES`` a case's employee, an assignee and an involved person must be
an active entry (422 otherwise)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, select

from services.case_api.domain import identity
from services.case_api.domain.models import Employee
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed, field_error


@dataclass(frozen=True)
class EmployeeFields:
    user_name: str
    external_id: str | None = None
    display_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    department: str | None = None
    active: bool = True


def _apply(row: Employee, f: EmployeeFields, now: datetime) -> None:
    key = identity.person_key(f.user_name)
    if key is None:
        raise ValidationFailed("userName is required.", errors=[field_error(["body", "userName"], "required")])
    row.user_name, row.user_name_key = f.user_name.strip(), key
    row.external_id, row.display_name = f.external_id, f.display_name
    row.given_name, row.family_name = f.given_name, f.family_name
    row.department = identity.department(f.department)
    row.active = f.active
    row.updated_at = now


def _taken(session: Session, key: str, other_than: str | None) -> bool:
    q = select(Employee.id).where(Employee.user_name_key == key)
    if other_than:
        q = q.where(Employee.id != other_than)
    return session.exec(q).first() is not None


def create(db: Database, *, fields: EmployeeFields, now: datetime) -> Employee:
    with db.write() as s:
        row = Employee(user_name="", user_name_key="", created_at=now, updated_at=now)
        _apply(row, fields, now)
        if _taken(s, row.user_name_key, None):
            raise Conflict("An employee with this userName exists.", scim_type="uniqueness")
        s.add(row)
        s.flush()
        return row


def _get(session: Session, employee_id: str) -> Employee:
    row = session.get(Employee, employee_id) if len(employee_id) <= 36 else None
    if row is None:
        raise NotFound("No such user.")
    return row


def get(db: Database, *, employee_id: str) -> Employee:
    with db.read() as s:
        return _get(s, employee_id)


def replace(db: Database, *, employee_id: str, fields: EmployeeFields, now: datetime) -> Employee:
    with db.write() as s:
        row = _get(s, employee_id)
        _apply(row, fields, now)
        if _taken(s, row.user_name_key, row.id):
            raise Conflict("An employee with this userName exists.", scim_type="uniqueness")
        row.version += 1
        s.add(row)
        s.flush()
        return row


def patch(db: Database, *, employee_id: str, active: bool | None, display_name: str | None,
          now: datetime) -> Employee:
    with db.write() as s:
        row = _get(s, employee_id)
        if active is not None:
            row.active = active
        if display_name is not None:
            row.display_name = display_name
        row.version += 1
        row.updated_at = now
        s.add(row)
        s.flush()
        return row


FILTER = re.compile(r'^\s*userName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


def search(db: Database, *, filter_: str | None, start_index: int, count: int) -> tuple[int, list[Employee]]:
    """``filter=userName eq "..."`` (userName is case-insensitive, RFC 7643 §4.1.1), else every entry."""
    q = select(Employee)
    if filter_:
        m = FILTER.match(filter_)
        if m is None:
            raise ValidationFailed("Only the filter userName eq \"...\" is supported.", scim_type="invalidFilter")
        q = q.where(Employee.user_name_key == identity.person_key(m.group(1).replace('\\"', '"')))
    with db.read() as s:
        total = int(s.exec(select(func.count()).select_from(q.subquery())).one())
        rows = list(s.exec(q.order_by(col(Employee.user_name_key)).offset(start_index - 1).limit(count)))
    return total, rows


def ensure_known(session: Session, person: str | None, *, field: str) -> None:
    """422 unless ``person`` is an active directory entry (only with CASE_API_REQUIRE_KNOWN_EMPLOYEES)."""
    key = identity.person_key(person)
    if key is None:
        return
    found = session.exec(select(Employee.active).where(Employee.user_name_key == key)).first()
    if not found:
        raise ValidationFailed("Not an active employee of the directory.",
                               errors=[field_error(["body", field], "unknown or inactive employee")])


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[dict[str, object]] = field(default_factory=list)


COLUMNS = {"username": "user_name", "employeeid": "user_name", "employee": "user_name",
           "displayname": "display_name", "name": "display_name", "givenname": "given_name",
           "familyname": "family_name", "department": "department", "active": "active", "externalid": "external_id"}


def _column(header: str | None) -> str | None:
    """``Display Name``, ``display_name`` and ``displayName`` are one column."""
    return COLUMNS.get("".join(ch for ch in (header or "").lower() if ch.isalnum()))


def import_csv(db: Database, *, text: str, now: datetime) -> ImportReport:
    """The directory from a CSV export, for Cities without SCIM: one row per employee (headers
    ``userName``/``employee_id``, ``displayName``, ``givenName``, ``familyName``, ``department``,
    ``active``, ``externalId``; case-insensitive). A row whose userName key exists updates that
    entry; every row is validated on its own. One unit of work."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text))
    with db.write() as s:
        seen: set[str] = set()
        for n, raw in enumerate(reader, start=2):
            values = {c: (v or "").strip() for k, v in raw.items() if (c := _column(k)) is not None}
            key = identity.person_key(values.get("user_name"))
            if key is None:
                report.refused.append({"row": n, "reason": "no userName / employee_id"})
                continue
            if key in seen:
                report.refused.append({"row": n, "reason": "the same employee appears twice"})
                continue
            seen.add(key)
            active = values.get("active", "true").lower() not in ("false", "0", "no", "inactive")
            f = EmployeeFields(user_name=values["user_name"], external_id=values.get("external_id") or None,
                               display_name=values.get("display_name") or None,
                               given_name=values.get("given_name") or None,
                               family_name=values.get("family_name") or None,
                               department=values.get("department") or None, active=active)
            row = s.exec(select(Employee).where(Employee.user_name_key == key)).first()
            if row is None:
                row = Employee(user_name="", user_name_key="", created_at=now, updated_at=now)
                _apply(row, f, now)
                s.add(row)
                report.created += 1
                continue
            before = (row.user_name, row.external_id, row.display_name, row.given_name, row.family_name,
                      row.department, row.active)
            _apply(row, f, now)
            if before == (row.user_name, row.external_id, row.display_name, row.given_name, row.family_name,
                          row.department, row.active):
                report.unchanged += 1
                continue
            row.version += 1
            s.add(row)
            report.updated += 1
        s.flush()
    return report
