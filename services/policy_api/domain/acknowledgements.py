"""Staff acknowledgements of published policy versions, who is bound by a policy, and the
check case_api asks: "had this person acknowledged the version in force on date D?".

Who is bound by a policy: the staff explicitly bound to it (``policy_bindings``) and, when the
policy's ``binds_account_holders`` is set (the default for kind ``social_media_policy``), every
employee holding a posting privilege on an active official account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from services.policy_api.domain import changelog, registry
from services.policy_api.domain.context import WriteContext
from services.policy_api.domain.models import Acknowledgement, Policy, PolicyBinding, PolicyVersion
from services.policy_api.domain.policies import current_version, get_policy, get_version
from services.policy_api.domain.state_machine import PUBLIC_STATES, VersionState
from shared.errors import Conflict, NotFound
from shared.timeutil import as_utc


def record(
    session: Session, ctx: WriteContext, policy_id: str, version_id: str, employee_id: str
) -> tuple[Acknowledgement, bool]:
    """Record that ``employee_id`` read the version. Idempotent: returns (row, created)."""
    version = get_version(session, policy_id, version_id, public=False)
    if version.state != VersionState.published.value:
        raise Conflict(f"Only the published version can be acknowledged; version {version.label} is {version.state}.")
    existing = session.exec(
        select(Acknowledgement).where(Acknowledgement.version_id == version.id,
                                      Acknowledgement.employee_id == employee_id)
    ).first()
    if existing is not None:
        return existing, False
    ack = Acknowledgement(policy_id=version.policy_id, version_id=version.id, employee_id=employee_id,
                          acknowledged_at=ctx.now, recorded_by=ctx.actor)
    session.add(ack)
    session.flush()
    changelog.record(session, actor=ctx.actor, action="acknowledgement.recorded", entity_type="policy_version",
                     entity_id=version.id, at=ctx.now, after=changelog.snapshot(ack), request_id=ctx.request_id)
    return ack, True


def list_for_version(
    session: Session, policy_id: str, version_id: str, *, limit: int, offset: int
) -> tuple[list[Acknowledgement], int]:
    version = get_version(session, policy_id, version_id, public=False)
    query = select(Acknowledgement).where(Acknowledgement.version_id == version.id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Acknowledgement.acknowledged_at)).offset(offset).limit(limit)).all()
    return list(rows), int(total)


def bind(session: Session, ctx: WriteContext, policy_id: str, employee_id: str) -> tuple[PolicyBinding, bool]:
    policy = get_policy(session, policy_id, public=False)
    existing = session.get(PolicyBinding, (policy.id, employee_id))
    if existing is not None:
        return existing, False
    row = PolicyBinding(policy_id=policy.id, employee_id=employee_id, added_by=ctx.actor, added_at=ctx.now)
    session.add(row)
    session.flush()
    changelog.record(session, actor=ctx.actor, action="binding.added", entity_type="policy", entity_id=policy.id,
                     at=ctx.now, after=changelog.snapshot(row), request_id=ctx.request_id)
    return row, True


def unbind(session: Session, ctx: WriteContext, policy_id: str, employee_id: str) -> None:
    policy = get_policy(session, policy_id, public=False)
    row = session.get(PolicyBinding, (policy.id, employee_id))
    if row is None:
        raise NotFound(f"{employee_id!r} is not explicitly bound by this policy.")
    before = changelog.snapshot(row)
    session.delete(row)
    session.flush()
    changelog.record(session, actor=ctx.actor, action="binding.removed", entity_type="policy", entity_id=policy.id,
                     at=ctx.now, before=before, request_id=ctx.request_id)


@dataclass(frozen=True)
class BoundEmployee:
    employee_id: str
    via_binding: bool
    via_privilege: bool


def bound_staff(session: Session, policy: Policy) -> list[BoundEmployee]:
    explicit = set(session.exec(select(PolicyBinding.employee_id).where(PolicyBinding.policy_id == policy.id)).all())
    holders = registry.active_privilege_holders(session) if policy.binds_account_holders else set()
    return [BoundEmployee(e, e in explicit, e in holders) for e in sorted(explicit | holders)]


def missing(session: Session, policy_id: str) -> tuple[Policy, PolicyVersion, list[BoundEmployee]]:
    policy = get_policy(session, policy_id, public=False)
    version = current_version(session, policy.id)
    if version is None:
        raise Conflict("This policy has no published version to acknowledge.")
    acked = set(session.exec(select(Acknowledgement.employee_id).where(Acknowledgement.version_id == version.id)).all())
    return policy, version, [b for b in bound_staff(session, policy) if b.employee_id not in acked]


@dataclass(frozen=True)
class CheckResult:
    policy_id: str | None
    version_id: str | None
    version_label: str | None
    acknowledged: bool
    acknowledged_at: datetime | None


def version_in_force(session: Session, on: date, kind: str = "social_media_policy") -> PolicyVersion | None:
    """The version of a policy of ``kind`` in force on ``on``: effective on or before that day and not
    ended (superseded or retired) by then. With several such policies, the latest effective wins."""
    return session.exec(
        select(PolicyVersion)
        .join(Policy, col(Policy.id) == col(PolicyVersion.policy_id))
        .where(
            Policy.kind == kind,
            col(PolicyVersion.state).in_([s.value for s in PUBLIC_STATES]),
            col(PolicyVersion.effective_date).is_not(None),
            col(PolicyVersion.effective_date) <= on,
            or_(col(PolicyVersion.ended_on).is_(None), col(PolicyVersion.ended_on) > on),
        )
        .order_by(col(PolicyVersion.effective_date).desc(), col(PolicyVersion.published_at).desc())
    ).first()


def check(session: Session, employee_id: str, on: date) -> CheckResult:
    version = version_in_force(session, on)
    if version is None:
        return CheckResult(None, None, None, False, None)
    ack = session.exec(
        select(Acknowledgement).where(Acknowledgement.version_id == version.id,
                                      Acknowledgement.employee_id == employee_id)
    ).first()
    at = as_utc(ack.acknowledged_at) if ack else None
    return CheckResult(version.policy_id, version.id, version.label, bool(at and at.date() <= on), at)
