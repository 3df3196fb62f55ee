"""Policies: who sees which, the public list and detail, and the staff writes on a policy's metadata.

Visibility: the public sees a policy once it has a published (or formerly published) version,
and only versions in a public state. Staff see everything. Versions and sections are in
``versions.py``, the review schedule in ``reviews.py``.

Query shape: a list of policies is two statements (count, then one page joined to each policy's
current version and last review date), a policy's detail two (the policy with its last review date,
then all its versions), whatever the number of rows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, literal_column
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from services.policy_api.domain import changelog, completeness
from services.policy_api.domain.context import WriteContext, flush_or_conflict
from services.policy_api.domain.models import Policy, PolicyReview, PolicyVersion
from services.policy_api.domain.state_machine import OPEN_STATES, PUBLIC_STATES, VersionState
from shared.db import Database
from shared.errors import Conflict, Forbidden, NotFound

KINDS = ("social_media_policy", "administrative_instruction", "department_guideline", "other")
PUBLIC = tuple(s.value for s in PUBLIC_STATES)
OPEN = tuple(s.value for s in OPEN_STATES)
PUBLISHED = VersionState.published.value


_STATE = re.compile(r"[a-z_]{1,40}")


def _state_sql(state: str) -> Any:
    """A version state as an SQL literal. The states are our own enum values, never input; the
    check keeps it so."""
    if not _STATE.fullmatch(state):
        raise ValueError(f"not a version state: {state!r}")
    return literal_column(f"'{state}'")


def state_is(column: Any, state: str) -> Any:
    """``column = 'state'`` with the state written into the SQL, not bound: with a bound value
    SQLite plans without knowing it and cannot use the partial index on published versions (the
    policy detail's row statement took 103 us against 17 us inlined, raw sqlite3 on the demo
    data)."""
    return column == _state_sql(state)


def state_in(column: Any, states: tuple[str, ...]) -> Any:
    """``column IN ('a', 'b')``, inlined the same way: an ``in_()`` of a list is also an
    "expanding" parameter that SQLAlchemy rewrites on every execution
    (``_process_parameters_for_postcompile``, about a twentieth of the request in cProfile)."""
    return column.in_([_state_sql(s) for s in sorted(states)])


@dataclass(frozen=True)
class PolicyRow:
    """A policy with what every public read of it says: its current (published) version and the date
    of its last recorded review (the review status is computed from these, ``reviews.status_of``)."""

    policy: Policy
    current: PolicyVersion | None
    last_reviewed_on: date | None
    #: the day its last version was retired (with no version in force since: see ``retired``)
    retired_on: date | None = field(default=None, kw_only=True)

    @property
    def retired(self) -> bool:
        """Withdrawn without a successor: listed as retired, with its history (issue 20)."""
        return self.current is None and self.retired_on is not None


@dataclass(frozen=True)
class PolicyDetail(PolicyRow):
    versions: list[PolicyVersion]  # newest first; public callers: public states only
    open_version: PolicyVersion | None  # staff only


@dataclass(frozen=True)
class PolicyPage:
    rows: list[PolicyRow]
    total: int


# --- queries (a session in, rows out; used by the use-cases here and in the other modules) -----
#
# The statements of the hot public reads are built once, here, with bound parameters: building a
# select with a subquery and an alias costs more Python than running it (py-spy on GET
# /v1/policies/{id}), and a prebuilt statement also hits SQLAlchemy's compiled cache at once.


def last_reviewed_subquery() -> Any:
    """``policy_id, last_reviewed_on`` for every policy with a review: one GROUP BY, joined by callers."""
    return (
        select(col(PolicyReview.policy_id).label("policy_id"),
               func.max(PolicyReview.reviewed_on).label("last_reviewed_on"))
        .group_by(col(PolicyReview.policy_id))
        .subquery("last_review")
    )


def _public_version_exists() -> Any:
    return exists().where(col(PolicyVersion.policy_id) == col(Policy.id), state_in(col(PolicyVersion.state), PUBLIC))


_LAST = last_reviewed_subquery()
_CURRENT = aliased(PolicyVersion, name="current_version")
_RETIRED = aliased(PolicyVersion, name="retired_version")
_RETIRED_ON: Any = (
    select(func.max(_RETIRED.ended_on))
    .where(col(_RETIRED.policy_id) == col(Policy.id), state_is(col(_RETIRED.state), VersionState.retired.value))
    .correlate(Policy).scalar_subquery().label("retired_on")
)
_ROWS: Any = (
    select(Policy, _CURRENT, _LAST.c.last_reviewed_on, _RETIRED_ON).select_from(Policy)
    .outerjoin(_CURRENT, and_(col(_CURRENT.policy_id) == col(Policy.id), state_is(col(_CURRENT.state), PUBLISHED)))
    .outerjoin(_LAST, _LAST.c.policy_id == col(Policy.id))
)
_ROW_BY_ID: Any = _ROWS.where(col(Policy.id) == bindparam("policy_id"))
_PUBLIC_ROW_BY_ID: Any = _ROW_BY_ID.where(_public_version_exists())
_POLICY_BY_ID: Any = select(Policy).where(col(Policy.id) == bindparam("policy_id"))
_PUBLIC_POLICY_BY_ID: Any = _POLICY_BY_ID.where(_public_version_exists())
# Listed publicly: in force, or retired (a retired policy stays listed as retired, with its history).
_HAS_PUBLISHED: Any = col(Policy.id).in_(select(PolicyVersion.policy_id).where(
    state_in(col(PolicyVersion.state), (PUBLISHED, VersionState.retired.value))))
_ORDER = (col(Policy.kind), col(Policy.identifier))
_PAGE: dict[bool, Any] = {
    False: _ROWS.order_by(*_ORDER).offset(bindparam("offset")).limit(bindparam("limit")),
    True: _ROWS.where(_HAS_PUBLISHED).order_by(*_ORDER).offset(bindparam("offset")).limit(bindparam("limit")),
}
_COUNT: dict[bool, Any] = {
    False: select(func.count()).select_from(Policy),
    True: select(func.count()).select_from(Policy).where(_HAS_PUBLISHED),
}
_VERSIONS: Any = (
    select(PolicyVersion).where(col(PolicyVersion.policy_id).in_(bindparam("policy_ids", expanding=True)))
    .order_by(col(PolicyVersion.policy_id), col(PolicyVersion.number).desc())
)
_PUBLIC_VERSIONS: Any = _VERSIONS.where(state_in(col(PolicyVersion.state), PUBLIC))


def get_policy(session: Session, policy_id: str, *, public: bool) -> Policy:
    """One statement: the policy, and (for the public) whether it has a public version."""
    policy = session.exec(_PUBLIC_POLICY_BY_ID if public else _POLICY_BY_ID, params={"policy_id": policy_id}).first()
    if policy is None:
        raise NotFound(f"No policy with id {policy_id!r}.")
    return policy  # type: ignore[no-any-return]


def get_policy_row(session: Session, policy_id: str, *, public: bool) -> PolicyRow:
    """One statement: the policy, its current version and its last review date."""
    row = session.exec(_PUBLIC_ROW_BY_ID if public else _ROW_BY_ID, params={"policy_id": policy_id}).first()
    if row is None:
        raise NotFound(f"No policy with id {policy_id!r}.")
    policy, version, last_reviewed_on, retired_on = row
    return PolicyRow(policy=policy, current=version, last_reviewed_on=last_reviewed_on, retired_on=retired_on)


def has_public_version(session: Session, policy_id: str) -> bool:
    row = session.exec(
        select(PolicyVersion.id).where(PolicyVersion.policy_id == policy_id, col(PolicyVersion.state).in_(PUBLIC))
    ).first()
    return row is not None


def policy_rows(session: Session, *, public: bool, kind: str | None, limit: int, offset: int) -> PolicyPage:
    """Two statements: the count, then the page joined to current versions and last review dates.
    ``public``: only policies with a published version."""
    count, page = _COUNT[public], _PAGE[public]
    if kind:
        count, page = count.where(col(Policy.kind) == kind), page.where(col(Policy.kind) == kind)
    total = session.exec(count).one()
    rows = session.exec(page, params={"limit": limit, "offset": offset}).all()
    return PolicyPage(rows=[PolicyRow(policy=p, current=v, last_reviewed_on=d, retired_on=r) for p, v, d, r in rows],
                      total=int(total))


def versions_of(session: Session, policy_ids: list[str], *, public: bool) -> dict[str, list[PolicyVersion]]:
    """One statement: the versions of these policies, newest first per policy."""
    out: dict[str, list[PolicyVersion]] = {p: [] for p in policy_ids}
    if not policy_ids:
        return out
    for v in session.exec(_PUBLIC_VERSIONS if public else _VERSIONS, params={"policy_ids": policy_ids}).all():
        out[v.policy_id].append(v)
    return out


def current_version(session: Session, policy_id: str) -> PolicyVersion | None:
    return session.exec(
        select(PolicyVersion).where(PolicyVersion.policy_id == policy_id, PolicyVersion.state == PUBLISHED)
    ).first()


def open_version(session: Session, policy_id: str) -> PolicyVersion | None:
    return session.exec(
        select(PolicyVersion).where(PolicyVersion.policy_id == policy_id, col(PolicyVersion.state).in_(OPEN))
    ).first()


def detail(session: Session, policy_id: str, *, staff: bool) -> PolicyDetail:
    """Two statements: the policy row, then all its versions (current and open ones come from them)."""
    row = get_policy_row(session, policy_id, public=not staff)
    versions = versions_of(session, [row.policy.id], public=not staff)[row.policy.id]
    open_v = next((v for v in versions if v.state in OPEN), None) if staff else None
    return PolicyDetail(policy=row.policy, current=row.current, last_reviewed_on=row.last_reviewed_on,
                        retired_on=row.retired_on, versions=versions, open_version=open_v)


# --- use-cases: reads ----------------------------------------------------------------------------


def list_policies(db: Database, *, public: bool, kind: str | None, limit: int, offset: int) -> PolicyPage:
    with db.read() as s:
        return policy_rows(s, public=public, kind=kind, limit=limit, offset=offset)


def policy_detail(db: Database, *, policy_id: str, staff: bool) -> PolicyDetail:
    with db.read() as s:
        return detail(s, policy_id, staff=staff)


def policy_row(db: Database, *, policy_id: str, staff: bool) -> PolicyRow:
    with db.read() as s:
        return get_policy_row(s, policy_id, public=not staff)


# --- use-cases: writes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPolicy:
    kind: str
    identifier: str
    title: str
    department: str
    review_interval_months: int
    binds_account_holders: bool | None = None
    citywide: bool = True


@dataclass(frozen=True)
class PolicyChanges:
    """Only the fields given (not None) change."""

    kind: str | None = None
    identifier: str | None = None
    title: str | None = None
    department: str | None = None
    review_interval_months: int | None = None
    binds_account_holders: bool | None = None
    citywide: bool | None = None


def _check_identifier_free(session: Session, identifier: str, exclude_id: str | None = None) -> None:
    existing = session.exec(select(Policy).where(func.lower(Policy.identifier) == identifier.lower())).first()
    if existing is not None and existing.id != exclude_id:
        raise Conflict(f"A policy with identifier {identifier!r} already exists.", existing_id=existing.id)


def create_policy(db: Database, ctx: WriteContext, *, new: NewPolicy) -> PolicyDetail:
    with db.write() as s:
        _check_identifier_free(s, new.identifier)
        binds = new.binds_account_holders
        policy = Policy(kind=new.kind, identifier=new.identifier, title=new.title, department=new.department,
                        review_interval_months=new.review_interval_months,
                        binds_account_holders=(new.kind == completeness.CHECKED_KIND) if binds is None else binds,
                        citywide=new.citywide,
                        created_by=ctx.actor, created_at=ctx.now, updated_at=ctx.now)
        s.add(policy)
        flush_or_conflict(s, f"A policy with identifier {new.identifier!r} already exists.")
        changelog.record(s, actor=ctx.actor, action="policy.created", entity_type="policy", entity_id=policy.id,
                         at=ctx.now, after=changelog.snapshot(policy), request_id=ctx.request_id)
        return PolicyDetail(policy=policy, current=None, last_reviewed_on=None, versions=[], open_version=None)


class ApproverRequired(Forbidden):
    slug, title = "approver-required", "Only a policy approver may make this change"


def update_policy(
    db: Database, ctx: WriteContext, *, policy_id: str, changes: PolicyChanges, approver: bool
) -> PolicyDetail:
    """``approver``: the caller is a policy approver (or admin). Changing the review interval needs one
    (issue 20: an editor alone could stretch the review clock)."""
    with db.write() as s:
        policy = get_policy(s, policy_id, public=False)
        before = changelog.snapshot(policy)
        interval = changes.review_interval_months
        if interval is not None and interval != policy.review_interval_months and not approver:
            raise ApproverRequired("Changing a policy's review interval needs a policy approver.",
                                   review_interval_months=policy.review_interval_months)
        if changes.identifier is not None and changes.identifier != policy.identifier:
            _check_identifier_free(s, changes.identifier, exclude_id=policy.id)
        if changes.kind is not None and changes.kind != policy.kind and has_public_version(s, policy.id):
            raise Conflict("The kind of a policy with published versions cannot change.")
        for key in ("kind", "identifier", "title", "department", "review_interval_months", "binds_account_holders",
                    "citywide"):
            value = getattr(changes, key)
            if value is not None:
                setattr(policy, key, value)
        policy.updated_at = ctx.now
        s.add(policy)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="policy.updated", entity_type="policy", entity_id=policy.id,
                         at=ctx.now, before=before, after=changelog.snapshot(policy), request_id=ctx.request_id)
        return detail(s, policy.id, staff=True)
