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

from datetime import date, datetime
from typing import Any

from shared.schemas.intake import PublicStatus, ViolationCategory
from shared.schemas.registry import Platform

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
