"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): the service list, service
definitions, filing a request and reading its status, so City 311 platforms can file violation
reports without custom integration.

One service per violation category (group "Official City social media"); every service has the
same attributes: the platform, the post's link, the account, and the day it was seen. Location
fields, names, phone and device ids are accepted as the spec allows but never stored; an email,
when given, is kept like a web reporter's (encrypted, separate). ``service_request_id`` is the
public reference; times are given at day precision (midnight UTC) by design.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from services.feedback_api.domain.models import Submission
from services.feedback_api.domain.submissions import VIOLATION
from services.feedback_api.domain.text import is_id
from shared.db import Database
from shared.schemas.intake import PublicStatus, ViolationCategory
from shared.schemas.registry import Platform

MAX_LISTED = 1000  # GeoReport v2: a list answers at most 1000 requests

GROUP = "Official City social media"
AGENCY = "City of Albuquerque"
SERVICE_PREFIX = "csm-"

CATEGORY_TEXT: dict[ViolationCategory, tuple[str, str]] = {
    ViolationCategory.personal_attack: (
        "Personal attack by a City social media account",
        "A City account attacked a person (R-24-89 §1.A.3).",
    ),
    ViolationCategory.arguing_with_public: (
        "City social media account arguing with the public",
        "A City account argued with or pushed back against a member of the public (R-24-89 §1.A.3).",
    ),
    ViolationCategory.personal_opinion: (
        "Personal opinion under the City's banner",
        "A personal opinion posted by a City account (R-24-89 §1.A.2).",
    ),
    ViolationCategory.misleading_information: (
        "Misleading or untrue information on City social media",
        "A City post that is not true, helpful and necessary.",
    ),
    ViolationCategory.disrespectful_response: (
        "Disrespectful response by a City social media account",
        "A disrespectful or confrontational reply (R-24-89 §1.A.4).",
    ),
    ViolationCategory.other: (
        "Other City social media policy concern",
        "Another potential violation of the City's social media policy.",
    ),
}


CHANGESET = "2026-12-01T00:00:00Z"  # when the service list or this document last changed
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


def discovery(public_base_url: str) -> dict[str, Any]:
    """The GeoReport v2 discovery document: where the endpoint is and which formats it speaks."""
    return {
        "changeset": CHANGESET,
        "contact": "City of Albuquerque 311: call 311 (505-768-2000).",
        "key_service": "Submitting and listing need an api_key; the City's web team issues them to 311 systems.",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": public_base_url.rstrip("/") + "/open311/v2",
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }


def service_code(category: ViolationCategory) -> str:
    return SERVICE_PREFIX + category.value.replace("_", "-")


CODES: dict[str, ViolationCategory] = {service_code(c): c for c in ViolationCategory}


def services() -> list[dict[str, Any]]:
    return [
        {
            "service_code": service_code(c),
            "service_name": CATEGORY_TEXT[c][0],
            "description": CATEGORY_TEXT[c][1],
            "metadata": True,
            "type": "batch",
            "keywords": "social media, city account, R-24-89",
            "group": GROUP,
        }
        for c in ViolationCategory
    ]


def definition(code: str) -> dict[str, Any] | None:
    if code not in CODES:
        return None
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True, "code": "platform", "datatype": "singlevaluelist", "required": True,
                "datatype_description": None, "order": 1, "description": "Where was it posted?",
                "values": [{"key": p.value, "name": p.value.capitalize() if p is not Platform.x else "X"}
                           for p in Platform],
            },
            {
                "variable": True, "code": "post_url", "datatype": "string", "required": True,
                "datatype_description": "An http(s) link to the post or comment.", "order": 2,
                "description": "Link to the post or comment",
            },
            {
                "variable": True, "code": "account", "datatype": "string", "required": False,
                "datatype_description": "The account's handle or address.", "order": 3,
                "description": "Which City account posted it?",
            },
            {
                "variable": True, "code": "seen_on", "datatype": "datetime", "required": False,
                "datatype_description": "ISO 8601 date or date-time; only the day is kept.", "order": 4,
                "description": "When did you see it?",
            },
        ],
    }


def open311_status(status: str) -> str:
    return "closed" if status == PublicStatus.closed else "open"


def day_datetime(day: date) -> str:
    """Day precision, as an ISO 8601 date-time (the spec's format)."""
    return datetime(day.year, day.month, day.day).strftime("%Y-%m-%dT00:00:00Z")


def parse_day(value: str) -> date:
    text = value.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


CODES_BY_CATEGORY: dict[str, str] = {c.value: service_code(c) for c in ViolationCategory}


def services_by_code() -> dict[str, dict[str, Any]]:
    return {s["service_code"]: s for s in services()}


_SERVICES_BY_CODE = {s["service_code"]: s for s in services()}


def as_service_request(sub: Submission) -> dict[str, Any]:
    """A submission as a GeoReport v2 service request (the reporter's words are not published)."""
    code = CODES_BY_CATEGORY.get(sub.categories[0]) if sub.categories else None
    return {
        "service_request_id": sub.reference,
        "status": open311_status(sub.status),
        "status_notes": sub.outcome_summary if sub.status == PublicStatus.closed else None,
        "service_name": _SERVICES_BY_CODE.get(code or "", {}).get("service_name"),
        "service_code": code,
        "description": None,
        "agency_responsible": AGENCY,
        "service_notice": None,
        "requested_datetime": day_datetime(sub.received_on),
        "updated_datetime": day_datetime(sub.updated_on),
        "expected_datetime": None,
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


# --- queries (one statement each) ---------------------------------------------------------------


def request_by_reference(db: Database, *, reference: str) -> Submission | None:
    if not is_id(reference):
        return None
    with db.read() as s:
        found: Submission | None = s.execute(
            select(Submission).where(col(Submission.reference) == reference, col(Submission.kind) == VIOLATION)
        ).scalar_one_or_none()
        return found


def requests_by_reference(db: Database, *, references: Sequence[str]) -> list[Submission]:
    """The requests with these ids, in the order asked (unknown ids are left out)."""
    wanted = [r for r in references if is_id(r)]
    if not wanted:
        return []
    with db.read() as s:
        found = {sub.reference: sub for sub in s.execute(
            select(Submission).where(col(Submission.reference).in_(wanted), col(Submission.kind) == VIOLATION)
        ).scalars()}
    return [found[r] for r in wanted if r in found]


def search_requests(
    db: Database, *, start: date, end: date, statuses: frozenset[str] | None = None,
    codes: Sequence[str] | None = None, limit: int = MAX_LISTED,
) -> list[Submission]:
    """Requests received between ``start`` and ``end`` (days, inclusive), newest first, filtered by
    Open311 status (``open``/``closed``) and service code in SQL, at most ``limit``."""
    q = select(Submission).where(
        col(Submission.kind) == VIOLATION, col(Submission.received_on) >= start, col(Submission.received_on) <= end,
    )
    if statuses and statuses != {"open", "closed"}:
        closed = col(Submission.status) == str(PublicStatus.closed)
        q = q.where(closed if statuses == {"closed"} else ~closed)
    if codes:
        # the service code is the first category's (``categories`` is a JSON array)
        first = Submission.__table__.c.categories[0].as_string()  # type: ignore[attr-defined]
        q = q.where(first.in_([CODES[c].value for c in codes if c in CODES]))
    q = q.order_by(col(Submission.received_on).desc(), col(Submission.reference).desc()).limit(limit)
    with db.read() as s:
        return list(s.execute(q).scalars())
