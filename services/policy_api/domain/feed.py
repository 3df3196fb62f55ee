"""What the Atom feed lists: the latest publications, retirements and recorded reviews. Two statements."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import col, select

from services.policy_api.domain.models import Policy, PolicyReview, PolicyVersion
from services.policy_api.domain.policies import PUBLIC
from shared.db import Database


@dataclass(frozen=True)
class FeedRows:
    publications: list[tuple[PolicyVersion, Policy]]  # newest published or retired first (a retired version
    #                                                    gives two entries: its publication and its retirement)
    reviews: list[tuple[PolicyReview, Policy]]  # newest recorded first


def latest(db: Database, *, limit: int) -> FeedRows:
    with db.read() as s:
        publications = s.exec(
            select(PolicyVersion, Policy).join(Policy, col(Policy.id) == col(PolicyVersion.policy_id))
            .where(col(PolicyVersion.state).in_(PUBLIC),
                   or_(col(PolicyVersion.published_at).is_not(None), col(PolicyVersion.retired_at).is_not(None)))
            .order_by(func.coalesce(col(PolicyVersion.retired_at), col(PolicyVersion.published_at)).desc())
            .limit(limit)
        ).all()
        reviews = s.exec(
            select(PolicyReview, Policy).join(Policy, col(Policy.id) == col(PolicyReview.policy_id))
            .order_by(col(PolicyReview.recorded_at).desc()).limit(limit)
        ).all()
        return FeedRows(publications=[(v, p) for v, p in publications], reviews=[(r, p) for r, p in reviews])
