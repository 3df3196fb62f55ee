"""Staff acknowledgements of published policy versions, who is bound by a policy, and the
check case_api asks: "had this person acknowledged the version in force on date D?".

Who is bound by a policy: the staff explicitly bound to it (``policy_bindings``) and, when the
policy's ``binds_account_holders`` is set (the default for kind ``social_media_policy``), every
employee holding a posting privilege on an active official account. Who is bound, and who of them
has not acknowledged, is one UNION query, counted and paged in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, func, literal, or_, union_all
from sqlmodel import Session, col, select

from services.policy_api.domain import changelog
from services.policy_api.domain.context import WriteContext
from services.policy_api.domain.models import (
    Account,
    Acknowledgement,
    Policy,
    PolicyBinding,
    PolicyVersion,
    PostingPrivilege,
    PrivilegeEvent,
)
from services.policy_api.domain.policies import current_version, get_policy
from services.policy_api.domain.state_machine import PUBLIC_STATES, VersionState
from services.policy_api.domain.versions import get_version
from shared.db import Database
from shared.errors import Conflict, NotFound
from shared.timeutil import as_utc


def record(
    db: Database, ctx: WriteContext, *, policy_id: str, version_id: str, employee_id: str
) -> tuple[Acknowledgement, bool]:
    """Record that ``employee_id`` read the version. Idempotent: returns (row, created)."""
    with db.write() as s:
        version = get_version(s, policy_id, version_id, public=False)
        if version.state != VersionState.published.value:
            raise Conflict(
                f"Only the published version can be acknowledged; version {version.label} is {version.state}.")
        existing = s.exec(
            select(Acknowledgement).where(Acknowledgement.version_id == version.id,
                                          Acknowledgement.employee_id == employee_id)
        ).first()
        if existing is not None:
            return existing, False
        ack = Acknowledgement(policy_id=version.policy_id, version_id=version.id, employee_id=employee_id,
                              acknowledged_at=ctx.now, recorded_by=ctx.actor)
        s.add(ack)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="acknowledgement.recorded", entity_type="policy_version",
                         entity_id=version.id, at=ctx.now, after=changelog.snapshot(ack), request_id=ctx.request_id)
        return ack, True


def list_for_version(
    db: Database, *, policy_id: str, version_id: str, limit: int, offset: int
) -> tuple[list[Acknowledgement], int]:
    """Three statements: the version, the count, the page."""
    with db.read() as s:
        version = get_version(s, policy_id, version_id, public=False)
        query = select(Acknowledgement).where(Acknowledgement.version_id == version.id)
        total = s.exec(select(func.count()).select_from(query.subquery())).one()
        rows = s.exec(query.order_by(col(Acknowledgement.acknowledged_at), col(Acknowledgement.id))
                      .offset(offset).limit(limit)).all()
        return list(rows), int(total)


def bind(db: Database, ctx: WriteContext, *, policy_id: str, employee_id: str) -> tuple[PolicyBinding, bool]:
    with db.write() as s:
        policy = get_policy(s, policy_id, public=False)
        existing = s.get(PolicyBinding, (policy.id, employee_id))
        if existing is not None:
            return existing, False
        row = PolicyBinding(policy_id=policy.id, employee_id=employee_id, added_by=ctx.actor, added_at=ctx.now)
        s.add(row)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="binding.added", entity_type="policy", entity_id=policy.id,
                         at=ctx.now, after=changelog.snapshot(row), request_id=ctx.request_id)
        return row, True


def unbind(db: Database, ctx: WriteContext, *, policy_id: str, employee_id: str) -> None:
    with db.write() as s:
        policy = get_policy(s, policy_id, public=False)
        row = s.get(PolicyBinding, (policy.id, employee_id))
        if row is None:
            raise NotFound(f"{employee_id!r} is not explicitly bound by this policy.")
        before = changelog.snapshot(row)
        s.delete(row)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="binding.removed", entity_type="policy", entity_id=policy.id,
                         at=ctx.now, before=before, request_id=ctx.request_id)


@dataclass(frozen=True)
class BoundEmployee:
    employee_id: str
    via_binding: bool
    via_privilege: bool


@dataclass(frozen=True)
class BoundPage:
    rows: list[BoundEmployee]
    total: int


def _bound_query(policy: Policy) -> Any:
    """``employee_id, via_binding, via_privilege`` of everyone the policy binds, one row each."""
    explicit: Any = select(col(PolicyBinding.employee_id).label("employee_id"),
                      literal(1, Integer).label("via_binding"), literal(0, Integer).label("via_privilege")
                      ).where(PolicyBinding.policy_id == policy.id)
    parts: list[Any] = [explicit]
    if policy.binds_account_holders:
        parts.append(
            select(col(PostingPrivilege.employee_id).label("employee_id"), literal(0, Integer).label("via_binding"),
                   literal(1, Integer).label("via_privilege"))
            .join(Account, col(Account.id) == col(PostingPrivilege.account_id))
            .where(col(PostingPrivilege.active).is_(True), Account.status == "active")
        )
    u = union_all(*parts).subquery("bound_rows") if len(parts) > 1 else parts[0].subquery("bound_rows")
    return (select(u.c.employee_id, func.max(u.c.via_binding).label("via_binding"),
                   func.max(u.c.via_privilege).label("via_privilege"))
            .group_by(u.c.employee_id))


def _bound_page(session: Session, query: Any, *, limit: int, offset: int) -> BoundPage:
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(query.selected_columns.employee_id).offset(offset).limit(limit)).all()
    return BoundPage(rows=[BoundEmployee(e, bool(b), bool(p)) for e, b, p in rows], total=int(total))


def bound_staff(db: Database, *, policy_id: str, limit: int, offset: int) -> BoundPage:
    """Three statements: the policy, the count, the page."""
    with db.read() as s:
        policy = get_policy(s, policy_id, public=False)
        return _bound_page(s, _bound_query(policy), limit=limit, offset=offset)


@dataclass(frozen=True)
class Missing:
    policy: Policy
    version: PolicyVersion
    bound: int
    missing: BoundPage


def missing(db: Database, *, policy_id: str, limit: int, offset: int) -> Missing:
    """Bound staff who have not acknowledged the current published version. Five statements: the
    policy, its current version, how many are bound, then count and page of those missing."""
    with db.read() as s:
        policy = get_policy(s, policy_id, public=False)
        version = current_version(s, policy.id)
        if version is None:
            raise Conflict("This policy has no published version to acknowledge.")
        bound_q = _bound_query(policy)
        bound = s.exec(select(func.count()).select_from(bound_q.subquery())).one()
        acked = select(Acknowledgement.employee_id).where(Acknowledgement.version_id == version.id)
        missing_q = bound_q.having(bound_q.selected_columns.employee_id.not_in(acked))
        page = _bound_page(s, missing_q, limit=limit, offset=offset)
        return Missing(policy=policy, version=version, bound=int(bound), missing=page)


@dataclass(frozen=True)
class CheckResult:
    policy_id: str | None
    version_id: str | None
    version_label: str | None
    acknowledged: bool
    acknowledged_at: datetime | None


def _employee_departments(employee_id: str, on: date, department: str | None) -> Any:
    """The departments an employee belonged to on ``on``, as a subquery of lower-cased names: the one
    given (case_api knows it from the case), and those of the accounts they had been granted posting
    privileges on by the end of that day."""
    end_of_day = datetime.combine(on + timedelta(days=1), time.min, tzinfo=UTC)
    via_privileges = (
        select(func.lower(col(Account.department)).label("department"))
        .join(PrivilegeEvent, col(PrivilegeEvent.account_id) == col(Account.id))
        .where(PrivilegeEvent.employee_id == employee_id, PrivilegeEvent.action == "granted",
               col(PrivilegeEvent.at) < end_of_day)
    )
    if department:
        return union_all(via_privileges, select(literal(department.strip().lower()).label("department")))
    return via_privileges


def version_in_force(
    session: Session, on: date, kind: str = "social_media_policy", *, employee_id: str | None = None,
    department: str | None = None,
) -> PolicyVersion | None:
    """The version of a policy of ``kind`` in force on ``on``: effective on or before that day and not
    ended (superseded or retired) by then. A policy that is not citywide is in force only for employees
    of its own department (``department``, or the departments of the accounts the employee held posting
    privileges on; issue 20). A department's own policy comes before a citywide one; then the latest
    effective wins. One statement."""
    if employee_id is None and department is None:
        applies: Any = col(Policy.citywide)
    else:
        departments = _employee_departments(employee_id or "", on, department).subquery()
        applies = or_(col(Policy.citywide), func.lower(col(Policy.department)).in_(select(departments.c.department)))
    return session.exec(
        select(PolicyVersion)
        .join(Policy, col(Policy.id) == col(PolicyVersion.policy_id))
        .where(
            applies,
            Policy.kind == kind,
            col(PolicyVersion.state).in_([s.value for s in PUBLIC_STATES]),
            col(PolicyVersion.effective_date).is_not(None),
            col(PolicyVersion.effective_date) <= on,
            or_(col(PolicyVersion.ended_on).is_(None), col(PolicyVersion.ended_on) > on),
        )
        .order_by(col(Policy.citywide), col(PolicyVersion.effective_date).desc(),
                  col(PolicyVersion.published_at).desc())
    ).first()


def check(db: Database, *, employee_id: str, on: date, department: str | None = None) -> CheckResult:
    """Had ``employee_id`` acknowledged the social media policy version in force for them on ``on``?
    ``department``: the employee's department, when the caller knows it. Two statements."""
    with db.read() as s:
        version = version_in_force(s, on, employee_id=employee_id, department=department)
        if version is None:
            return CheckResult(None, None, None, False, None)
        ack = s.exec(
            select(Acknowledgement).where(Acknowledgement.version_id == version.id,
                                          Acknowledgement.employee_id == employee_id)
        ).first()
    at = as_utc(ack.acknowledged_at) if ack else None
    return CheckResult(version.policy_id, version.id, version.label, bool(at and at.date() <= on), at)
