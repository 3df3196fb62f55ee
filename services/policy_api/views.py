"""Shaping what the use-cases return into response models; shared by the JSON API and the
Transparency page so every public read says the same thing (overdue flags included). Pure: no
database, no session."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.policy_api.domain import completeness, reviews, versions
from services.policy_api.domain.models import Policy, PolicyReview, PolicyVersion
from services.policy_api.domain.policies import PolicyDetail, PolicyRow
from services.policy_api.domain.reviews import HistoryEntry
from services.policy_api.domain.state_machine import allowed_actions
from services.policy_api.domain.transparency import PolicyCard
from services.policy_api.domain.versions import VersionDiff, VersionWithSections
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
    WordChunkOut,
)


def review_status_out(row: PolicyRow, today: date) -> ReviewStatusOut:
    st = reviews.status_of(row, today)
    return ReviewStatusOut(
        interval_months=row.policy.review_interval_months, basis=st.basis, basis_date=st.basis_date,
        last_reviewed_on=row.last_reviewed_on, next_review_due=st.next_review_due, overdue=st.overdue,
        days_until_due=st.days_until_due,
    )


def version_summary(v: PolicyVersion) -> VersionSummary:
    return VersionSummary.model_validate(v).model_copy(update={"backdated": versions.is_backdated(v)})


def version_out(item: VersionWithSections, *, staff: bool) -> VersionOut:
    v = item.version
    staff_fields = VersionStaffFields(
        author_id=v.author_id, contributors=list(v.contributors), approved_by=v.approved_by,
        attested_elements=list(v.attested_elements),
        published_by=v.published_by, submitted_at=v.submitted_at, allowed_actions=allowed_actions(v.state),
        retirement_requested_by=v.retirement_requested_by, retirement_requested_at=v.retirement_requested_at,
        retirement_reason=v.retirement_reason, retired_by=v.retired_by,
    ) if staff else None
    return VersionOut(**version_summary(v).model_dump(), sections=[SectionOut.model_validate(s) for s in item.sections],
                      staff=staff_fields)


def policy_summary(row: PolicyRow, today: date) -> PolicySummary:
    p = row.policy
    return PolicySummary(
        id=p.id, kind=p.kind, identifier=p.identifier, title=p.title, department=p.department,
        current_version=version_summary(row.current) if row.current else None,
        review_status=review_status_out(row, today),
        status="retired" if row.retired else ("in_force" if row.current else "draft"),
        retired_on=row.retired_on if row.retired else None,
    )


def policy_out(item: PolicyDetail, today: date) -> PolicyOut:
    return PolicyOut(
        **policy_summary(item, today).model_dump(), binds_account_holders=item.policy.binds_account_holders,
        citywide=item.policy.citywide,
        versions=[version_summary(v) for v in item.versions],
        open_version=version_summary(item.open_version) if item.open_version else None,
    )


def completeness_out(policy: Policy, version: PolicyVersion, checklist: completeness.Checklist) -> CompletenessOut:
    return CompletenessOut(
        policy_id=policy.id, version_id=version.id, applies=checklist.applies, complete=checklist.complete,
        missing=[m.key for m in checklist.missing] if checklist.applies else [],
        items=[ChecklistItemOut(key=i.key, title=i.title, covered=i.covered,
                                sections=[ChecklistSection(id=s.id, heading=s.heading) for s in i.sections])
               for i in checklist.items],
    )


def diff_out(item: VersionDiff) -> DiffOut:
    d = item.diff
    return DiffOut(
        policy_id=item.policy.id, from_version=version_summary(item.from_version),
        to_version=version_summary(item.to_version), counts=d.counts,
        sections=[SectionDiffOut(key=s.key, status=s.status, heading_before=s.heading_before,
                                 heading_after=s.heading_after, elements_added=s.elements_added,
                                 elements_removed=s.elements_removed, moved=s.moved, unified_diff=s.unified_diff,
                                 words=[WordChunkOut(op=w.op, text=w.text) for w in s.words])
                  for s in d.sections],
    )


def review_out(r: PolicyReview, *, staff: bool) -> ReviewOut:
    out = ReviewOut.model_validate(r)
    if not staff:
        out.reviewer = None
    return out


def history_event(e: HistoryEntry) -> HistoryEvent:
    return HistoryEvent(at=e.at, event=e.event, version_id=e.version_id, version_label=e.version_label,
                        detail=e.detail)


def card(c: PolicyCard, today: date, soon_days: int) -> dict[str, Any]:
    """What the Transparency templates read of a policy."""
    review = review_status_out(c.row, today)
    current = c.row.current
    return {
        "policy": c.row.policy, "current": current, "versions": c.versions, "review": review,
        "retired_on": c.row.retired_on if c.row.retired else None,
        "previous": c.previous,
        "due_soon": bool(review.days_until_due is not None and 0 <= review.days_until_due <= soon_days),
        "future": bool(current and current.effective_date and current.effective_date > today),
    }
