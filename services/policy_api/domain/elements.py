"""The R-24-89 §1.A element catalogue. It is data (the ``elements`` table); these are the
resolution's eight elements, seeded by the migration and, for an empty table, on first use."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from services.policy_api.domain.models import Element

DEFAULT_ELEMENTS: list[dict[str, Any]] = [
    {"key": "behavioral_expectations", "ordinal": 1, "title": "Behavioral expectations",
     "description": "How employees who post on official City accounts are expected to conduct themselves."},
    {"key": "content_specifications", "ordinal": 2, "title": "Content specifications",
     "description": "What content is appropriate for official City accounts and what is not."},
    {"key": "prohibition_on_personal_attacks", "ordinal": 3, "title": "Prohibition on personal attacks",
     "description": "Official accounts must not be used to attack, insult or demean any person."},
    {"key": "response_guidelines", "ordinal": 4, "title": "Response guidelines",
     "description": "How and when official accounts respond to residents, including disagreement and criticism."},
    {"key": "monitoring_and_review", "ordinal": 5, "title": "Monitoring and review",
     "description": "How the City monitors official accounts and reviews their activity for compliance."},
    {"key": "disciplinary_actions", "ordinal": 6, "title": "Disciplinary actions",
     "description": "The consequences for employees who violate the policy."},
    {"key": "restorative_actions", "ordinal": 7, "title": "Restorative actions",
     "description": "Steps that repair harm done by a violation, such as corrections, apologies or training."},
    {"key": "policy_review", "ordinal": 8, "title": "Policy review",
     "description": "A schedule for reviewing and updating the policy."},
]


def seed_if_empty(session: Session) -> bool:
    """Insert the resolution's eight elements when the catalogue is empty. Returns True if it did."""
    if session.exec(select(Element).limit(1)).first() is not None:
        return False
    for item in DEFAULT_ELEMENTS:
        session.add(Element(**item, required=True))
    session.flush()
    return True


def catalogue(session: Session) -> list[Element]:
    return list(session.exec(select(Element).order_by(Element.ordinal, Element.key)).all())  # type: ignore[arg-type]


def known_keys(session: Session) -> set[str]:
    return {e.key for e in catalogue(session)}
