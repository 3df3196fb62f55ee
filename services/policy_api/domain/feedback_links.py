"""Residents' policy feedback in the policy record (R-24-89 §1.B, issue 20 item 5).

Policy staff link a piece of feedback (feedback_api's public reference, ``F-XXXX-XXXX``) to the version
or the review of this policy it informed, saying what changed because of it. The link is recorded
here, in policy_api, where the review record and the Council report are: feedback_api is read first,
with no transaction open (the reference exists, it is policy feedback about *this* policy), then one
write stores the link and its change-log row. The text of the feedback and anything about the resident
stay in feedback_api."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import and_, or_
from sqlmodel import Session, col, func, select

from services.policy_api.domain import changelog
from services.policy_api.domain.context import WriteContext, flush_or_conflict
from services.policy_api.domain.models import PolicyFeedbackLink, PolicyReview, PolicyVersion
from services.policy_api.domain.policies import get_policy
from services.policy_api.domain.state_machine import PUBLIC_STATES
from shared.db import Database
from shared.errors import NotFound, ValidationFailed, field_error
from shared.schemas.policy_feedback import PolicyFeedbackRef

MAX_WHAT_CHANGED = 2000


class Target(StrEnum):
    version = "version"
    review = "review"


@dataclass(frozen=True)
class LinkRow:
    link: PolicyFeedbackLink
    version_label: str | None  # the version linked, or the review's version
    reviewed_on: date | None  # for a review


@dataclass(frozen=True)
class NewLink:
    feedback_reference: str
    target_type: Target
    target_id: str
    what_changed: str = ""


def _invalid(field: str, msg: str) -> ValidationFailed:
    return ValidationFailed(msg, errors=[field_error(["body", field], msg)])


def link_feedback(db: Database, ctx: WriteContext, *, policy_id: str, new: NewLink,
                  lookup: Callable[[str], PolicyFeedbackRef | None]) -> LinkRow:
    """``lookup`` reads feedback_api (None: it does not know the reference; ``Unavailable`` when it
    does not answer). Called before the write opens."""
    what_changed = new.what_changed.strip()
    if len(what_changed) > MAX_WHAT_CHANGED:
        raise _invalid("what_changed", f"at most {MAX_WHAT_CHANGED} characters")
    ref = lookup(new.feedback_reference)
    if ref is None:
        raise _invalid("feedback_reference", "feedback_api knows no policy feedback with this reference")
    if ref.policy_id != policy_id:
        raise _invalid("feedback_reference", "this feedback is about another policy")
    with db.write() as s:
        policy = get_policy(s, policy_id, public=False)
        label, reviewed_on = _target(s, policy.id, new)
        link = PolicyFeedbackLink(policy_id=policy.id, feedback_reference=ref.reference, target_type=new.target_type,
                                  target_id=new.target_id, what_changed=what_changed,
                                  feedback_received_on=ref.received_on, linked_by=ctx.actor, linked_at=ctx.now)
        s.add(link)
        flush_or_conflict(s, "This feedback is already linked to this version or review.")
        changelog.record(s, actor=ctx.actor, action="feedback.linked", entity_type="policy", entity_id=policy.id,
                         at=ctx.now, after=changelog.snapshot(link), request_id=ctx.request_id)
        return LinkRow(link=link, version_label=label, reviewed_on=reviewed_on)


def _target(s: Session, policy_id: str, new: NewLink) -> tuple[str | None, date | None]:
    if new.target_type is Target.version:
        version = s.get(PolicyVersion, new.target_id)
        if version is None or version.policy_id != policy_id:
            raise NotFound(f"No version {new.target_id!r} of this policy.")
        return version.label, None
    review = s.get(PolicyReview, new.target_id)
    if review is None or review.policy_id != policy_id:
        raise NotFound(f"No review {new.target_id!r} of this policy.")
    label = s.get(PolicyVersion, review.version_id).label if review.version_id else None  # type: ignore[union-attr]
    return label, review.reviewed_on


def _visible_links(public: bool):  # type: ignore[no-untyped-def]
    version_of_link = and_(col(PolicyFeedbackLink.target_type) == Target.version.value,
                           col(PolicyVersion.id) == col(PolicyFeedbackLink.target_id))
    review_of_link = and_(col(PolicyFeedbackLink.target_type) == Target.review.value,
                          col(PolicyReview.id) == col(PolicyFeedbackLink.target_id))
    q = (select(PolicyFeedbackLink, col(PolicyVersion.label), col(PolicyReview.reviewed_on))
         .select_from(PolicyFeedbackLink)
         .outerjoin(PolicyReview, review_of_link)
         .outerjoin(PolicyVersion, or_(version_of_link, and_(review_of_link,
                                                             col(PolicyVersion.id) == col(PolicyReview.version_id)))))
    if public:
        q = q.where(or_(col(PolicyFeedbackLink.target_type) == Target.review.value,
                        col(PolicyVersion.state).in_([s.value for s in PUBLIC_STATES])))
    return q


def list_links(db: Database, *, policy_id: str, public: bool, limit: int, offset: int) -> tuple[list[LinkRow], int]:
    """Three statements: the visibility check, the count, the page (newest link first)."""
    with db.read() as s:
        policy = get_policy(s, policy_id, public=public)
        q = _visible_links(public).where(col(PolicyFeedbackLink.policy_id) == policy.id)
        total = s.exec(select(func.count()).select_from(q.subquery())).one()
        rows = s.exec(q.order_by(col(PolicyFeedbackLink.linked_at).desc(), col(PolicyFeedbackLink.id))
                      .offset(offset).limit(limit)).all()
        return [LinkRow(link=link, version_label=label, reviewed_on=on) for link, label, on in rows], int(total)


def links_for(session: Session, policy_ids: list[str]) -> list[LinkRow]:
    """Every link of these policies (staff view), one statement: for the Council report."""
    if not policy_ids:
        return []
    q = (_visible_links(public=False).where(col(PolicyFeedbackLink.policy_id).in_(policy_ids))
         .order_by(col(PolicyFeedbackLink.linked_at)))
    return [LinkRow(link=link, version_label=label, reviewed_on=on) for link, label, on in session.exec(q).all()]

