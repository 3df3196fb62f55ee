"""Two-person retirement, the parts after the request (issue 20): the requester may withdraw a pending
request (audited: the change log keeps the request, who withdrew it, when and why), and the history of
every retirement (requested, withdrawn, confirmed) for the Council report.

Requesting and confirming are ``versions.request_retirement`` and ``versions.transition(retire)``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from services.policy_api.domain import changelog
from services.policy_api.domain.context import WriteContext
from services.policy_api.domain.models import ChangeLogEntry, Policy, PolicyVersion
from services.policy_api.domain.policies import get_policy
from services.policy_api.domain.versions import VersionWithSections, get_version, sections
from shared.db import Database
from shared.errors import Conflict, Forbidden
from shared.timeutil import as_utc

WITHDRAWN = "version.retirement_withdrawn"
REQUESTED = "version.retirement_requested"


class NotTheRequester(Forbidden):
    slug = "not-the-requester"
    title = "Only the person who requested the retirement may withdraw it"


@dataclass(frozen=True)
class RetirementEvent:
    """One step of a retirement: requested, withdrawn or retired (confirmed)."""

    policy_identifier: str
    version_label: str
    event: str  # requested | withdrawn | retired
    actor: str
    at: datetime
    reason: str | None


def withdraw_retirement(db: Database, ctx: WriteContext, *, policy_id: str, version_id: str,
                        reason: str | None) -> VersionWithSections:
    """The requester takes back a pending request: the version stays published, nothing is retired."""
    with db.write() as s:
        policy = get_policy(s, policy_id, public=False)
        version = get_version(s, policy.id, version_id, public=False)
        if version.retirement_requested_by is None or version.retired_at is not None:
            raise Conflict("There is no pending retirement request on this version.")
        if version.retirement_requested_by != ctx.actor:
            raise NotTheRequester(f"{version.retirement_requested_by} requested this retirement; only they may "
                                  "withdraw it (a different approver may confirm it).",
                                  requested_by=version.retirement_requested_by)
        before = changelog.snapshot(version)
        version.retirement_requested_by = None
        version.retirement_requested_at = None
        version.retirement_reason = None
        version.updated_at = ctx.now
        s.add(version)
        s.flush()
        after = {**changelog.snapshot(version), "withdrawal_reason": reason}
        changelog.record(s, actor=ctx.actor, action=WITHDRAWN, entity_type="policy_version", entity_id=version.id,
                         at=ctx.now, before=before, after=after, request_id=ctx.request_id)
        return VersionWithSections(version=version, sections=sections(s, version.id))


def history(session: Session) -> list[RetirementEvent]:
    """Every retirement step of every policy, oldest first: two statements (the change log's requests and
    withdrawals with their versions and policies; the confirmed retirements)."""
    logged = session.exec(
        select(ChangeLogEntry, PolicyVersion.label, Policy.identifier)
        .join(PolicyVersion, col(PolicyVersion.id) == col(ChangeLogEntry.entity_id))
        .join(Policy, col(Policy.id) == col(PolicyVersion.policy_id))
        .where(col(ChangeLogEntry.entity_type) == "policy_version",
               col(ChangeLogEntry.action).in_([REQUESTED, WITHDRAWN]))
    ).all()
    events = []
    for entry, label, identifier in logged:
        after = entry.after or {}
        requested = entry.action == REQUESTED
        reason = after.get("retirement_reason") if requested else after.get("withdrawal_reason")
        events.append(RetirementEvent(policy_identifier=identifier, version_label=label,
                                      event="requested" if requested else "withdrawn", actor=entry.actor,
                                      at=as_utc(entry.at), reason=reason))
    retired = session.exec(
        select(PolicyVersion, Policy.identifier).join(Policy, col(Policy.id) == col(PolicyVersion.policy_id))
        .where(col(PolicyVersion.retired_at).is_not(None))
    ).all()
    for version, identifier in retired:
        if version.retired_at is None:  # pragma: no cover - filtered in SQL
            continue
        events.append(RetirementEvent(policy_identifier=identifier, version_label=version.label, event="retired",
                                      actor=version.retired_by or "?", at=as_utc(version.retired_at),
                                      reason=version.retirement_reason))
    return sorted(events, key=lambda e: (e.at, e.event != "requested"))
