"""The R-24-89 §1.A element catalogue. It is data (the ``elements`` table); these are the
resolution's eight elements, seeded by the migration and, for an empty table, on first use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.policy_api.domain import changelog
from services.policy_api.domain.context import WriteContext
from services.policy_api.domain.models import Element
from shared.db import Database

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
    return list(session.exec(select(Element).order_by(col(Element.ordinal), col(Element.key))).all())


def known_keys(session: Session) -> set[str]:
    return {e.key for e in catalogue(session)}


# --- use-cases ---------------------------------------------------------------------------------


def ensure_seeded(db: Database) -> None:
    """Seed the catalogue if its table is empty (the migration seeds it too; this covers databases
    emptied after migrating, as the tests do). A concurrent first caller may win the insert."""
    with db.read() as s:
        empty = s.exec(select(Element.key).limit(1)).first() is None
    if empty:
        try:
            with db.write() as s:
                seed_if_empty(s)
        except IntegrityError:  # a concurrent first request seeded it
            pass


def list_elements(db: Database) -> list[Element]:
    with db.read() as s:
        return catalogue(s)


@dataclass(frozen=True)
class ElementFields:
    title: str
    description: str = ""
    ordinal: int = 0
    required: bool = True


def upsert_element(db: Database, ctx: WriteContext, *, key: str, fields: ElementFields) -> Element:
    with db.write() as s:
        row = s.get(Element, key)
        before = changelog.snapshot(row) if row else None
        if row is None:
            row = Element(key=key, title=fields.title, description=fields.description, ordinal=fields.ordinal,
                          required=fields.required)
        else:
            row.title, row.description = fields.title, fields.description
            row.ordinal, row.required = fields.ordinal, fields.required
        s.add(row)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="element.upserted", entity_type="element", entity_id=key,
                         at=ctx.now, before=before, after=changelog.snapshot(row), request_id=ctx.request_id)
        return row
