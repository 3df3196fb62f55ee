"""Two cases about the same incident (issue 15 item 1): staff link them, or merge one into the other.

* **related**: both cases stay as they are; each lists the other (``GET /v1/cases/{id}/links``).
* **merged**: the other case's reports, with their own testimony (description, categories, links,
  date seen, evidence references), move to the surviving case and remember where they came from
  (``case_reports.merged_from``); its categories, links and evidence join the surviving case's;
  the other case is closed as dismissed ("Merged into C-..."), kept whole and readable. Only cases
  that have no finding yet are merged (a finding belongs to the case it was made on); both must be
  open and match their audit seals. The reporters of the moved reports now follow the surviving
  case (a status event each).

Both are audited on both cases (``case.linked`` / ``case.merged`` and ``case.merged_into``) and
recorded in ``case_links``, never updated or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, or_, select

from services.case_api.domain import access, audit
from services.case_api.domain.cases import emit_report_event, recusal_audited, visible_case
from services.case_api.domain.models import Case, CaseLink, CaseReport
from services.case_api.domain.state_machine import State, public_status
from shared.auth import Principal, Role
from shared.db import Database
from shared.errors import Conflict, ValidationFailed, field_error

LINK = (Role.intake, Role.investigator, Role.admin)
READ = access.STAFF
MERGEABLE = frozenset({State.received, State.triaged, State.investigating})
MAX_LINKS = 50
MAX_EVIDENCE = 100


@dataclass(frozen=True)
class LinkView:
    id: str
    kind: str
    other_case_id: str
    other_reference: str
    direction: Literal["this_case", "other_case"]  # which case the link was made from (the survivor of a merge)
    reason: str
    linked_by: str
    created_at: datetime


def _existing(session: Session, a: str, b: str) -> CaseLink | None:
    return session.exec(select(CaseLink).where(or_(
        (col(CaseLink.case_id) == a) & (col(CaseLink.other_case_id) == b),
        (col(CaseLink.case_id) == b) & (col(CaseLink.other_case_id) == a)))).first()


def _both(session: Session, case_id: str, other_case_id: str, principal: Principal) -> tuple[Case, Case]:
    if case_id == other_case_id:
        raise ValidationFailed("A case cannot be linked to itself.",
                               errors=[field_error(["body", "other_case_id"], "must be another case")])
    # lock in id order, so two staff linking the same pair both ways cannot deadlock
    first, second = sorted((case_id, other_case_id))
    rows = {c.id: c for c in (visible_case(session, first, principal, for_update=True),
                              visible_case(session, second, principal, for_update=True))}
    return rows[case_id], rows[other_case_id]


@recusal_audited("case.link")
def link_cases(db: Database, *, case_id: str, other_case_id: str, kind: Literal["related", "merged"], reason: str,
               principal: Principal, now: datetime) -> LinkView:
    """Link ``other_case_id`` to ``case_id`` (``related``), or merge it into ``case_id`` (``merged``)."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("A reason is required.", errors=[field_error(["body", "reason"], "required")])
    with db.write() as s:
        case, other = _both(s, case_id, other_case_id, principal)
        if _existing(s, case.id, other.id) is not None:
            raise Conflict("These cases are already linked.")
        link = CaseLink(case_id=case.id, other_case_id=other.id, kind=kind, reason=reason,
                        linked_by=principal.subject, created_at=now)
        s.add(link)
        if kind == "related":
            s.flush()
            for this, that in ((case, other), (other, case)):
                audit.append(s, actor=principal.subject, action="case.linked", case_id=this.id,
                             detail={"link_id": link.id, "other_case_id": that.id, "other_reference": that.reference,
                                     "reason": reason}, now=now)
        else:
            _merge(s, survivor=case, merged=other, link=link, reason=reason, actor=principal.subject, now=now)
        return LinkView(id=link.id, kind=link.kind, other_case_id=other.id, other_reference=other.reference,
                        direction="this_case", reason=reason, linked_by=link.linked_by, created_at=link.created_at)


def _merge(session: Session, *, survivor: Case, merged: Case, link: CaseLink, reason: str, actor: str,
           now: datetime) -> None:
    for c in (survivor, merged):
        if State(c.state) not in MERGEABLE:
            raise Conflict(f"Case {c.reference} is {c.state}: only cases without a finding, still open, can be "
                           "merged. Link them as related instead.", current_state=c.state)
    moved = list(session.exec(select(CaseReport).where(CaseReport.case_id == merged.id)
                              .order_by(col(CaseReport.created_at), col(CaseReport.id))))
    for r in moved:
        r.case_id = survivor.id
        r.merged_from = r.merged_from or merged.id
        session.add(r)
    survivor.categories = sorted(set(survivor.categories) | set(merged.categories))
    survivor.links = list(dict.fromkeys([*survivor.links, *merged.links]))[:MAX_LINKS]
    known = {str(e.get("id")) for e in survivor.evidence}
    survivor.evidence = [*survivor.evidence, *[e for e in merged.evidence if str(e.get("id")) not in known]
                         ][:MAX_EVIDENCE]
    survivor.updated_at = now
    merged.state = State.dismissed.value
    merged.state_entered_at = now
    merged.due_at = None
    merged.closed_at = now
    merged.updated_at = now
    merged.dismissal_reason = f"Merged into {survivor.reference}: {reason}"[:2000]
    session.add_all([survivor, merged])
    session.flush()
    refs = [r.reference for r in moved]
    audit.append(session, actor=actor, action="case.merged", case_id=survivor.id,
                 detail={"link_id": link.id, "merged_case_id": merged.id, "merged_reference": merged.reference,
                         "reports_moved": refs, "reason": reason}, now=now, seal=[survivor])
    audit.append(session, actor=actor, action="case.merged_into", case_id=merged.id,
                 detail={"link_id": link.id, "survivor_case_id": survivor.id,
                         "survivor_reference": survivor.reference, "reports_moved": refs, "reason": reason},
                 now=now, seal=[merged])
    if moved:  # their reporters now follow the surviving case
        emit_report_event(session, survivor, kind="status", status=public_status(State(survivor.state)), now=now,
                          report_ids=[r.report_id for r in moved])


@recusal_audited("case.links_read")
def list_links(db: Database, *, case_id: str, principal: Principal, now: datetime) -> list[LinkView]:
    """The case's links, oldest first: two statements (the case and its parties for recusal, then
    the links joined to the other case's reference)."""
    with db.read() as s:
        case = visible_case(s, case_id, principal)
        here, there = aliased(Case), aliased(Case)
        rows = s.exec(
            select(CaseLink, here.reference, there.reference)
            .join(here, col(here.id) == CaseLink.case_id).join(there, col(there.id) == CaseLink.other_case_id)
            .where(or_(CaseLink.case_id == case.id, CaseLink.other_case_id == case.id))
            .order_by(col(CaseLink.created_at), col(CaseLink.id))).all()
    out: list[LinkView] = []
    for link, ref_here, ref_there in rows:
        mine = link.case_id == case.id
        out.append(LinkView(id=link.id, kind=link.kind, other_case_id=link.other_case_id if mine else link.case_id,
                            other_reference=ref_there if mine else ref_here,
                            direction="this_case" if mine else "other_case", reason=link.reason,
                            linked_by=link.linked_by, created_at=link.created_at))
    return out

