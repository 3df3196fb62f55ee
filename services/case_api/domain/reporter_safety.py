"""Writing to a reporter, safely (issue 14, item 5).

* Only intake and investigators write to a reporter (``access.MESSAGE_REPORTER``).
* A message goes to **one** report: the one named, or the case's only report. A case holding
  several reports (several residents reported the same post) needs ``report_id``; nothing is ever
  broadcast to every reporter of a case.
* A message never names another reporter's reference (422): each reporter holds their own
  reference, and one naming another would tell them someone else reported too, and who to ask.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import col, select

from services.case_api.domain import audit
from services.case_api.domain.cases import emit_report_event, recusal_audited, visible_case
from services.case_api.domain.models import CaseMessage, CaseReport
from shared.auth import Principal
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed, field_error

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
