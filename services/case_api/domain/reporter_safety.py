"""Writing to a reporter, safely (issue 14, item 5).

* Only intake and investigators write to a reporter (``access.MESSAGE_REPORTER``).
* A message goes to **one** report: the one named, or the case's only report. A case holding
  several reports (several residents reported the same post) needs ``report_id``; nothing is ever
  broadcast to every reporter of a case.
* A message never names another reporter's reference (422): each reporter holds their own
  reference, and one naming another would tell them someone else reported too, and who to ask.
* After filing, the reporter may add evidence (``add_reporter_evidence``) and, once their report is
  closed, ask once for reconsideration with a reason (``request_reconsideration``); both arrive
  from feedback_api's outbox, idempotent on the sender's key, recorded at the day (``timing``).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, col, select

from services.case_api.domain import audit, timing
from services.case_api.domain.cases import emit_report_event, recusal_audited, visible_case
from services.case_api.domain.intake import Answer
from services.case_api.domain.models import Case, CaseMessage, CaseReport, IdempotencyKey
from shared import idempotency
from shared.auth import Principal
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed, field_error
from shared.schemas.reporter import ReconsiderationRequest, ReporterEvidence

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _squashed(text: str) -> str:
    return _NOT_ALNUM.sub("", text.casefold())


def names_reference(body: str, references: list[str]) -> bool:
    """Whether ``body`` contains any of ``references``, ignoring case, spaces and punctuation
    (``R-7K2P-QX``, ``r 7k2p qx`` and ``R7K2PQX`` are one reference)."""
    squashed = _squashed(body)
    return any(len(ref) >= 4 and ref in squashed for ref in (_squashed(r) for r in references))


@recusal_audited("message.send")
def message_reporter(db: Database, *, case_id: str, principal: Principal, body: str, report_id: str | None,
                     now: datetime) -> CaseMessage:
    """A staff message to the reporter of one report of the case, relayed through feedback_api."""
    with db.write() as s:
        case = visible_case(s, case_id, principal, for_update=True)
        reports = list(s.exec(select(CaseReport.report_id, CaseReport.reference)
                              .where(col(CaseReport.case_id) == case.id)))
        if not reports:
            raise Conflict("This case has no public report: there is no reporter to write to.")
        if report_id is None:
            if len(reports) > 1:
                raise ValidationFailed(
                    f"This case holds {len(reports)} reports: a message goes to one of them.",
                    errors=[field_error(["body", "report_id"], "required when the case holds several reports")])
            report_id = reports[0][0]
        if report_id not in {rid for rid, _ in reports}:
            raise NotFound("No such report on this case.")
        others = [ref for rid, ref in reports if rid != report_id]
        if names_reference(body, others):
            raise ValidationFailed("The message names another report's reference.",
                                   errors=[field_error(["body", "body"], "names another reporter's reference")])
        msg = CaseMessage(case_id=case.id, report_id=report_id, direction="to_reporter", author=principal.subject,
                          body=body, created_at=now)
        s.add(msg)
        s.flush()
        emit_report_event(s, case, kind="message", message=body, now=now, report_ids=[report_id])
        audit.append(s, actor=principal.subject, action="message.sent", case_id=case.id,
                     detail={"message_id": msg.id, "report_id": report_id}, now=now)
        return msg


# --- after filing: evidence and reconsideration, forwarded by feedback_api --------------------


def _link_and_case(session: Session, report_id: str) -> tuple[CaseReport, Case]:
    link = session.exec(select(CaseReport).where(col(CaseReport.report_id) == report_id)).first()
    if link is None:
        raise NotFound("No case holds this report.")  # retried by the sender: the report may not be here yet
    case = session.get(Case, link.case_id, with_for_update=True)
    assert case is not None
    if not audit.is_sealed(session, case):
        # never seal over a record edited outside the application; 422: parked dead, visible in feedback_api
        raise ValidationFailed("The case this report is on no longer matches its audit seal.")
    return link, case


def add_reporter_evidence(db: Database, *, report_id: str, evidence: ReporterEvidence, sender: str,
                          idempotency_key: str | None, now: datetime) -> Answer:
    """Evidence the reporter added after filing (cleaned by feedback_api): appended to the report's
    and the case's evidence, audited, at the day (``timing``). 201 stored, 200 a redelivery."""
    key = idempotency.validate_key(idempotency_key)
    day = timing.day_of(now)
    with db.write() as s:
        claim = idempotency.begin(s, IdempotencyKey, scope=sender, key=f"evidence:{key}",
                                  body={"report_id": report_id, **evidence.model_dump(mode="json")})
        if claim.replay is not None:
            return Answer(status=200, body=claim.replay.body, replayed=True)
        link, case = _link_and_case(s, report_id)
        refs = [e.model_dump(mode="json") for e in evidence.evidence]
        known = {str(e.get("id")) for e in case.evidence}
        new = [r for r in refs if r["id"] not in known]
        case.evidence = [*case.evidence, *new][:200]
        link.evidence = [*(link.evidence or []), *new]
        s.add(case)
        s.add(link)
        s.flush()
        audit.append(s, actor="reporter", action="case.evidence_added", case_id=case.id,
                     detail={"report_reference": link.reference, "evidence_ids": [r["id"] for r in new]}, now=day,
                     seal=[case])
        body = {"batch_id": evidence.batch_id, "added": len(new)}
        claim.finish(status=201, body=body)
        return Answer(status=201, body=body)


def request_reconsideration(db: Database, *, report_id: str, request: ReconsiderationRequest, sender: str,
                            idempotency_key: str | None, now: datetime) -> Answer:
    """A closed report asks once for reconsideration, with a reason: kept on the report link (staff
    see it on the case) and audited; staff decide whether to reopen. A second request for the same
    report is not recorded (200, ``recorded: false``; feedback_api refuses it before)."""
    key = idempotency.validate_key(idempotency_key)
    day = timing.day_of(now)
    with db.write() as s:
        claim = idempotency.begin(s, IdempotencyKey, scope=sender, key=f"reconsider:{key}",
                                  body={"report_id": report_id, **request.model_dump(mode="json")})
        if claim.replay is not None:
            return Answer(status=200, body=claim.replay.body, replayed=True)
        link = s.exec(select(CaseReport).where(col(CaseReport.report_id) == report_id)).first()
        if link is None:
            raise NotFound("No case holds this report.")
        if link.reconsideration_on is not None:  # once per report: a second request is recorded nowhere
            body = {"request_id": request.request_id, "recorded": False}
            claim.finish(status=200, body=body)
            return Answer(status=200, body=body)
        link.reconsideration_on = day.date()
        link.reconsideration_reason = request.reason
        s.add(link)
        s.flush()
        audit.append(s, actor="reporter", action="case.reconsideration_requested", case_id=link.case_id,
                     detail={"report_reference": link.reference, "reason": request.reason}, now=day)
        body = {"request_id": request.request_id, "recorded": True}
        claim.finish(status=201, body=body)
        return Answer(status=201, body=body)
