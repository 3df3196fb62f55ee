"""feedback_api's own request and response models (wire models shared with case_api are in
``shared.schemas.intake``). Inputs refuse unknown fields; every string and list is bounded."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from services.feedback_api.domain.follow_up import ReceiptView
from services.feedback_api.domain.submissions import FeedbackInput, ReportInput
from services.feedback_api.domain.text import text_problem
from shared.schemas.base import InputModel, OutputModel
from shared.schemas.intake import MAX_DESCRIPTION, MAX_LINKS, PublicStatus, ViolationCategory
from shared.schemas.ops import OutboxHealth
from shared.schemas.registry import Platform

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
RefId = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=64)]


def _http_url(value: str) -> str:
    lowered = value.lower()
    if not (lowered.startswith("https://") or lowered.startswith("http://")) or len(value) < 11:
        raise ValueError("must be an http(s) link")
    if any(c.isspace() for c in value):
        raise ValueError("a link cannot contain spaces")
    return value


class PublicInput(InputModel):
    """Public input: every string (also inside lists) is refused if it holds control characters or
    lone surrogates."""

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                problem = text_problem(item)
                if problem:
                    raise ValueError(problem)
        return value


Link = Annotated[str, StringConstraints(min_length=1, max_length=2048), AfterValidator(_http_url)]
Email = Annotated[str, StringConstraints(max_length=254)]
Honeypot = Annotated[str, StringConstraints(max_length=500)]


class ReportCreate(PublicInput):
    """A violation report. ``website`` is a honeypot: people leave it empty."""

    account_id: RefId | None = Field(default=None, description="An official account from GET /v1/public/accounts.")
    account_text: str | None = Field(default=None, min_length=1, max_length=300,
                                     description="Handle or URL of the account when it is not in the list.")
    platform: Platform
    links: list[Link] = Field(default_factory=list, max_length=MAX_LINKS,
                              description="Links to the post or comment. Stored, never fetched.")
    seen_on: date | None = None
    categories: list[ViolationCategory] = Field(min_length=1, max_length=len(ViolationCategory))
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    contact_email: Email | None = None
    notify_updates: bool = Field(default=False, description=(
        "Email me when there is an update (only with contact_email). The email says only that there is "
        "an update to read with the receipt. Withdrawn by deleting the contact (POST /v1/receipts/contact/delete)."))
    website: Honeypot | None = None


class FeedbackCreate(PublicInput):
    policy_id: RefId
    version_id: RefId
    section_id: RefId | None = None
    text: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    rating: int | None = Field(default=None, ge=1, le=5)
    contact_email: Email | None = None
    website: Honeypot | None = None


class SubmissionReceipt(OutputModel):
    reference: str = Field(description="Public reference: quote it when you contact the City.")
    receipt: str = Field(description="16-digit secret receipt. Shown once; keep it to follow up.")
    kind: Literal["violation_report", "policy_feedback"]
    status: PublicStatus


class ReceiptIn(PublicInput):
    receipt: str = Field(min_length=1, max_length=40)


class ReceiptMessageIn(PublicInput):
    receipt: str = Field(min_length=1, max_length=40)
    body: str = Field(min_length=1, max_length=MAX_DESCRIPTION)


class MessageOut(OutputModel):
    from_: Literal["reporter", "city"] = Field(serialization_alias="from", validation_alias="from_")
    body: str
    on: date


class ReceiptStatus(OutputModel):
    reference: str
    kind: Literal["violation_report", "policy_feedback"]
    status: PublicStatus
    outcome_summary: str | None = None
    messages: list[MessageOut]
    has_contact: bool
    feedback_state: Literal["received", "considered", "answered", "closed"] | None = Field(
        default=None, description="Policy feedback only: where policy staff stand with it (issue 20 item 5).")


class MessageAccepted(OutputModel):
    on: date
    status: Literal["sent"] = "sent"


class LimitsOut(OutputModel):
    max_links: int
    max_files: int
    max_file_bytes: int
    max_description: int
    allowed_types: list[str]


class CategoryOut(OutputModel):
    key: ViolationCategory


class OptionsOut(OutputModel):
    categories: list[CategoryOut]
    platforms: list[Platform]
    limits: LimitsOut


class PolicySectionOut(OutputModel):
    id: str
    heading: str


class PolicyVersionRef(OutputModel):
    id: str
    label: str | None = None


class PublicPolicy(OutputModel):
    id: str
    title: str
    kind: str | None = None
    current_version: PolicyVersionRef | None = None
    sections: list[PolicySectionOut] = Field(default_factory=list)


class ContactOut(OutputModel):
    email: str


class EventAccepted(OutputModel):
    report_id: str
    status: PublicStatus
    applied: bool = Field(description="False when this event id was already applied (replay).")


class OutboxStatus(OutboxHealth):
    ratelimit_backend: str


class FeedbackStaffView(OutputModel):
    reference: str
    policy_id: str | None
    version_id: str | None
    section_id: str | None
    text: str | None
    rating: int | None
    received_on: date
    reference_check: str


def report_input(body: ReportCreate) -> ReportInput:
    """The intake use-case's input from the API's (and the no-JS form's) report body."""
    return ReportInput(
        platform=body.platform, categories=tuple(body.categories), description=body.description,
        account_id=body.account_id, account_text=body.account_text, links=tuple(body.links), seen_on=body.seen_on,
        contact_email=body.contact_email, honeypot=body.website, notify_updates=body.notify_updates,
    )


def feedback_input(body: FeedbackCreate) -> FeedbackInput:
    return FeedbackInput(
        policy_id=body.policy_id, version_id=body.version_id, section_id=body.section_id, text=body.text,
        rating=body.rating, contact_email=body.contact_email, honeypot=body.website,
    )


def receipt_view(view: ReceiptView) -> ReceiptStatus:
    sub = view.submission
    return ReceiptStatus(
        reference=sub.reference, kind=sub.kind, status=PublicStatus(sub.status),
        outcome_summary=sub.outcome_summary if sub.status == PublicStatus.closed else None,
        messages=[MessageOut(from_=m.sender, body=m.body, on=m.sent_on)
                  for m in view.messages],
        has_contact=view.has_contact,
        feedback_state=(sub.triage_state or "received") if sub.kind == "policy_feedback" else None,
    )


def dump(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    return data
