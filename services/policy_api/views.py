"""Shaping domain rows into response models; shared by the JSON API, the Atom feed and the
Transparency page so every public read says the same thing (overdue flags included)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from services.policy_api.domain import policies, review_schedule
from services.policy_api.domain.models import Policy, PolicyReview, PolicyVersion
from services.policy_api.domain.state_machine import PUBLIC_STATES, allowed_actions
from services.policy_api.schemas import (
    ChecklistItemOut,
    ChecklistSection,
    CompletenessOut,
    DiffOut,
    HistoryEvent,
    PolicyOut,
    PolicySummary,
    ReviewOut,
    ReviewStatusOut,
    SectionDiffOut,
    SectionOut,
    VersionOut,
    VersionStaffFields,
    VersionSummary,
)
from shared.timeutil import as_utc


def review_status_out(
    session: Session, policy: Policy, today: date, current: PolicyVersion | None
) -> ReviewStatusOut:
    st: review_schedule.ReviewStatus = policies.review_status(session, policy, today, current)
    last = policies.last_review(session, policy.id)
    return ReviewStatusOut(
        interval_months=policy.review_interval_months, basis=st.basis,
        basis_date=st.basis_date, last_reviewed_on=last.reviewed_on if last else None,
        next_review_due=st.next_review_due, overdue=st.overdue, days_until_due=st.days_until_due,
    )


def version_summary(v: PolicyVersion) -> VersionSummary:
    return VersionSummary.model_validate(v)


def version_out(session: Session, v: PolicyVersion, *, staff: bool) -> VersionOut:
    data: dict[str, Any] = version_summary(v).model_dump()
    data["sections"] = [SectionOut.model_validate(s) for s in policies.sections(session, v.id)]
    if staff:
        data["staff"] = VersionStaffFields(
            author_id=v.author_id, contributors=list(v.contributors), approved_by=v.approved_by,
            published_by=v.published_by, submitted_at=v.submitted_at, allowed_actions=allowed_actions(v.state),
        )
    return VersionOut(**data)


def policy_summary(session: Session, policy: Policy, today: date) -> PolicySummary:
    current = policies.current_version(session, policy.id)
    return PolicySummary(
        id=policy.id, kind=policy.kind, identifier=policy.identifier, title=policy.title,
        department=policy.department, current_version=version_summary(current) if current else None,
        review_status=review_status_out(session, policy, today, current),
    )


def policy_out(session: Session, policy: Policy, today: date, *, staff: bool) -> PolicyOut:
    summary = policy_summary(session, policy, today)
    versions, _ = policies.list_versions(session, policy.id, public=not staff, limit=1000, offset=0)
    open_v = policies.open_version(session, policy.id) if staff else None
    return PolicyOut(
        **summary.model_dump(), binds_account_holders=policy.binds_account_holders,
        versions=[version_summary(v) for v in versions], open_version=version_summary(open_v) if open_v else None,
    )


def completeness_out(session: Session, policy: Policy, version: PolicyVersion) -> CompletenessOut:
    checklist = policies.checklist(session, policy, version)
    return CompletenessOut(
        policy_id=policy.id, version_id=version.id, applies=checklist.applies, complete=checklist.complete,
        missing=[m.key for m in checklist.missing] if checklist.applies else [],
        items=[ChecklistItemOut(key=i.key, title=i.title, covered=i.covered,
                                sections=[ChecklistSection(id=s.id, heading=s.heading) for s in i.sections])
               for i in checklist.items],
    )


def diff_out(session: Session, policy_id: str, from_id: str, to_id: str, *, public: bool) -> DiffOut:
    a, b, d = policies.version_diff(session, policy_id, from_id, to_id, public=public)
    return DiffOut(
        policy_id=policy_id, from_version=version_summary(a), to_version=version_summary(b), counts=d.counts,
        sections=[SectionDiffOut(key=s.key, status=s.status, heading_before=s.heading_before,
                                 heading_after=s.heading_after, elements_added=s.elements_added,
                                 elements_removed=s.elements_removed, moved=s.moved, unified_diff=s.unified_diff)
                  for s in d.sections],
    )


def review_out(r: PolicyReview, *, staff: bool) -> ReviewOut:
    out = ReviewOut.model_validate(r)
    if not staff:
        out.reviewer = None
    return out


def history(session: Session, policy_id: str) -> list[HistoryEvent]:
    """Publications, supersessions, retirements and reviews, newest first."""
    events: list[HistoryEvent] = []
    versions = session.exec(
        select(PolicyVersion).where(PolicyVersion.policy_id == policy_id,
                                    col(PolicyVersion.state).in_([s.value for s in PUBLIC_STATES]))
    ).all()
    labels = {v.id: v.label for v in versions}
    for v in versions:
        if v.published_at:
            events.append(HistoryEvent(at=as_utc(v.published_at), event="published", version_id=v.id,
                                       version_label=v.label, detail=v.change_summary or None))
        if v.superseded_at:
            events.append(HistoryEvent(at=as_utc(v.superseded_at), event="superseded", version_id=v.id,
                                       version_label=v.label))
        if v.retired_at:
            events.append(HistoryEvent(at=as_utc(v.retired_at), event="retired", version_id=v.id,
                                       version_label=v.label))
    for r in session.exec(select(PolicyReview).where(PolicyReview.policy_id == policy_id)).all():
        at = datetime.combine(r.reviewed_on, datetime.min.time(), tzinfo=as_utc(r.recorded_at).tzinfo)
        events.append(HistoryEvent(at=at, event="reviewed", version_id=r.version_id,
                                   version_label=labels.get(r.version_id or ""),
                                   detail=r.outcome + (f": {r.notes}" if r.notes else "")))
    # Newest first; a publication at the same instant as the supersession it causes comes first.
    rank = {"published": 3, "retired": 2, "superseded": 1, "reviewed": 0}
    events.sort(key=lambda e: (e.at, rank[e.event]), reverse=True)
    return events
