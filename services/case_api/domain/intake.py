"""Intake from feedback_api (docs/contracts.md): forwarded reports become cases or attach to the
open case about the same post; the reporter's later messages are stored on their case. Both are
idempotent on the sender's key, recorded in the same unit of work as the effect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from services.case_api.domain import audit, identity, timing
from services.case_api.domain.cases import Sla, emit_report_event, open_case_for_incident
from services.case_api.domain.models import Case, CaseMessage, CaseReport, IdempotencyKey
from services.case_api.domain.state_machine import State, public_status
from shared import idempotency
from shared.db import Database
from shared.errors import NotFound, ValidationFailed, field_error
from shared.ids import new_reference
from shared.schemas.intake import CaseIntakeReceipt, ReporterMessage, ReportForward


@dataclass(frozen=True)
class Answer:
    """What to send back: the status, the JSON body, and whether it replays a stored answer."""

    status: int
    body: Any
    replayed: bool = False


def intake_report(db: Database, *, report: ReportForward, sender: str, idempotency_key: str | None, now: datetime,
                  sla: Sla) -> Answer:
    """201 a new case; 200 attached to the open case about the same post, or a redelivery."""
    key = idempotency.validate_key(idempotency_key)
    if key != report.report_id:
        raise ValidationFailed("The Idempotency-Key must be the report_id.",
                               errors=[field_error(["header", "Idempotency-Key"], "must equal report_id")])
    with db.write() as s:
        claim = idempotency.begin(s, IdempotencyKey, scope=sender, key=key, body=report.model_dump(mode="json"))
        if claim.replay is not None:
            body = claim.replay.body
            if isinstance(body, dict) and "created" in body:
                body = {**body, "created": False}
            return Answer(status=200, body=body, replayed=True)
        # the day, never the moment: see domain/timing.py (SLA clocks start from the day too)
        case, created = _intake(s, report=report, actor=sender, now=timing.day_of(report.received_on), sla=sla)
        receipt = CaseIntakeReceipt(case_id=case.id, case_reference=case.reference, created=created)
        answer = Answer(status=201 if created else 200, body=receipt.model_dump(mode="json"))
        claim.finish(status=answer.status, body=answer.body)
        return answer


def _intake(session: Session, *, report: ReportForward, actor: str, now: datetime, sla: Sla) -> tuple[Case, bool]:
    existing = session.exec(select(CaseReport).where(CaseReport.report_id == report.report_id)).first()
    if existing is not None:  # the same report under another key: one report on one case
        found = session.get(Case, existing.case_id)
        assert found is not None
        return found, False
    case = open_case_for_incident(session, report.incident_key) if report.incident_key else None
    created = case is None
    if case is None:
        case = Case(
            id=timing.opaque_id(), reference=new_reference("C"), source="report", state=State.received.value,
            state_entered_at=now,
            due_at=sla.due(State.received, now), department=identity.department(report.department),
            account_id=report.account_id,
            account_text=report.account_text, platform=report.platform.value,
            categories=[c.value for c in report.categories], summary=report.description, links=list(report.links),
            evidence=[e.model_dump(mode="json") for e in report.evidence], incident_key=report.incident_key,
            seen_on=report.seen_on, created_at=now, updated_at=now,
        )
        session.add(case)
        session.flush()
    else:
        # Same post: keep the new report's categories, links and evidence with the case.
        case.categories = sorted(set(case.categories) | {c.value for c in report.categories})
        case.links = list(dict.fromkeys([*case.links, *report.links]))[:50]
        case.evidence = [*case.evidence, *[e.model_dump(mode="json") for e in report.evidence]][:100]
        case.updated_at = now
        session.add(case)
    session.add(CaseReport(case_id=case.id, report_id=report.report_id, reference=report.reference,
                           received_on=report.received_on, has_contact=report.has_contact, created_at=now,
                           # the report's own testimony, kept whatever the case merged (issue 15 item 1)
                           description=report.description, categories=[c.value for c in report.categories],
                           links=list(report.links), seen_on=report.seen_on,
                           evidence=[e.model_dump(mode="json") for e in report.evidence]))
    session.flush()
    audit.append(session, actor=actor, action="case.created" if created else "case.report_attached",
                 case_id=case.id, detail={"report_reference": report.reference, "source": "report"}, now=now,
                 seal=[case])
    if not created and case.state != State.received.value:
        emit_report_event(session, case, kind="status", status=public_status(State(case.state)), now=now,
                          report_ids=[report.report_id])
    return case, created


def reporter_message(db: Database, *, report_id: str, message: ReporterMessage, sender: str,
                     idempotency_key: str | None, now: datetime) -> Answer:
    """201 stored; 200 a redelivery (same key, or the same message id under another key)."""
    key = idempotency.validate_key(idempotency_key)
    with db.write() as s:
        claim = idempotency.begin(s, IdempotencyKey, scope=sender, key=f"msg:{key}",
                                  body={"report_id": report_id, **message.model_dump(mode="json")})
        if claim.replay is not None:
            return Answer(status=200, body=claim.replay.body, replayed=True)
        stored = _store_message(s, report_id=report_id, message=message, now=timing.day_of(now))
        body = {"message_id": message.message_id, "stored": stored}
        answer = Answer(status=201 if stored else 200, body=body)
        claim.finish(status=answer.status, body=body)
        return answer


def _store_message(session: Session, *, report_id: str, message: ReporterMessage, now: datetime) -> bool:
    link = session.exec(select(CaseReport).where(CaseReport.report_id == report_id)).first()
    if link is None:
        raise NotFound("No case holds this report.")
    if session.exec(select(CaseMessage).where(CaseMessage.external_id == message.message_id)).first():
        return False
    session.add(CaseMessage(id=timing.opaque_id(), case_id=link.case_id, report_id=report_id, direction="from_reporter",
                            external_id=message.message_id, body=message.body, created_at=now))
    session.flush()
    audit.append(session, actor="reporter", action="message.received", case_id=link.case_id,
                 detail={"message_id": message.message_id}, now=now)
    return True
