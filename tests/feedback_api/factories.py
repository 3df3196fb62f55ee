"""Test data for feedback_api's own rows (polyfactory), with the values the domain would write."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from polyfactory import Use
from polyfactory.factories.pydantic_factory import ModelFactory
from polyfactory.factories.sqlalchemy_factory import SQLAlchemyFactory

from services.feedback_api.domain.models import Message, Submission
from shared.ids import new_reference
from shared.schemas.intake import ReportForward

DAY = date(2026, 11, 20)


class ViolationFactory(SQLAlchemyFactory[Submission]):
    __model__ = Submission
    __check_model__ = False

    id = Use(lambda: str(uuid.uuid4()))
    reference = Use(lambda: new_reference("R"))
    kind = "violation_report"
    channel = "web"
    receipt_hash = None
    status = "received"
    outcome_summary = None
    received_on = DAY
    updated_on = DAY
    reference_check = "free_text"
    account_id = None
    account_text = "@abqcityexample"
    department = None
    platform = "facebook"
    links = Use(lambda: ["https://facebook.com/abq/posts/1"])
    seen_on = None
    categories = Use(lambda: ["personal_attack"])
    description = "The City account insulted a resident."
    incident_key = None
    policy_id = None
    version_id = None
    section_id = None
    text = None
    rating = None
    triage_state = None


class FeedbackFactory(ViolationFactory):
    kind = "policy_feedback"
    reference = Use(lambda: new_reference("F"))
    platform = None
    links = Use(list)
    categories = Use(list)
    description = None
    account_text = None
    reference_check = "unverified"
    policy_id = "pol-1"
    version_id = "ver-1"
    text = "Please define 'arguing'."
    rating = 4
    triage_state = "received"


class MessageFactory(SQLAlchemyFactory[Message]):
    __model__ = Message
    __check_model__ = False

    id = Use(lambda: str(uuid.uuid4()))
    sender = "city"
    body = "Thank you, we are looking into it."
    sent_on = DAY
    event_id = None


class ReportForwardFactory(ModelFactory[ReportForward]):
    __model__ = ReportForward


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
