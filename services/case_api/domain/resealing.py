"""Recovery of a case whose rows no longer match their seals (issue 15 item 4).

A case with a row edited, inserted or deleted outside the application refuses every write that
would seal over it (409, ``integrity: "broken"``). Two people, an auditor and an admin, get it
moving again:

1. Either of them examines it (``case_integrity``: which table, which row, what differs) and
   proposes a re-seal with a written reason (``propose``): the examined differences are kept with
   each row's digest at that moment, and the proposal is its own audit entry
   (``integrity.reseal_proposed``).
2. The other role, another person, confirms with their own written reason (``confirm``). The rows
   must still be exactly as examined (else 409: examine again). One entry,
   ``integrity.resealed``, carries both reasons, both people, the differences and new seals of
   the rows as they now stand (or of their absence). The chain keeps the old seals: what was
   changed, and that it was accepted, stays provable.

A broken link of the chain itself (an entry edited or removed) cannot be re-sealed: that is
evidence, and only the checkpoints published to the witness tell what was lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as core_select
from sqlmodel import col, select

from services.case_api.domain import audit, sealing
from services.case_api.domain.cases import recusal_audited, visible_case
from services.case_api.domain.integrity_models import ResealProposal
from shared.auth import Principal, Role
from shared.db import Database
from shared.errors import Conflict, Forbidden, NotFound

MIN_REASON_CHARS = 20


def _role(principal: Principal) -> str:
    if principal.has_any(Role.auditor):
        return Role.auditor.value
    if principal.has_any(Role.admin):
        return Role.admin.value
    raise Forbidden("Only an auditor or an admin examines and re-seals a case.")


def _problems(report: sealing.RowReport, s: Any) -> list[dict[str, Any]]:
    return [{**p, "digest_now": sealing.stored_digest(s, p["table"], p["id"])} for p in report.problems]


@recusal_audited("integrity.read")
def case_integrity(db: Database, *, case_id: str, principal: Principal, now: datetime) -> sealing.RowReport:
    """Every row of the case compared with its last seal (the case's entire history)."""
    _role(principal)
    with db.read() as s:
        visible_case(s, case_id, principal)
        return sealing.case_file_problems(s, case_id)


@recusal_audited("integrity.reseal_propose")
def propose(db: Database, *, case_id: str, principal: Principal, reason: str, now: datetime) -> ResealProposal:
    role = _role(principal)
    if len(reason.strip()) < MIN_REASON_CHARS:
        raise Conflict(f"A re-seal needs a written reason of at least {MIN_REASON_CHARS} characters.")
    with db.write() as s:
        visible_case(s, case_id, principal)
        report = sealing.case_file_problems(s, case_id)
        if not report.problems:
            raise Conflict("Every row of this case matches its seal: there is nothing to re-seal.")
        for earlier in s.exec(select(ResealProposal).where(ResealProposal.case_id == case_id,
                                                           ResealProposal.status == "proposed")):
            earlier.status = "superseded"
            s.add(earlier)
        proposal = ResealProposal(case_id=case_id, proposed_by=principal.subject, proposer_role=role,
                                  reason=reason.strip(), problems=_problems(report, s), status="proposed",
                                  created_at=now)
        s.add(proposal)
        s.flush()
        audit.append(s, actor=principal.subject, action="integrity.reseal_proposed", case_id=case_id,
                     detail={"proposal_id": proposal.id, "role": role, "reason": proposal.reason,
                             "problems": [_brief(p) for p in proposal.problems]}, now=now)
        return proposal


def _brief(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: problem.get(k) for k in ("table", "id", "problem", "differs")}


def confirm(db: Database, *, proposal_id: str, principal: Principal, reason: str, now: datetime) -> ResealProposal:
    role = _role(principal)
    if len(reason.strip()) < MIN_REASON_CHARS:
        raise Conflict(f"Confirming a re-seal needs a written reason of at least {MIN_REASON_CHARS} characters.")
    with db.read() as s:
        found = s.get(ResealProposal, proposal_id) if len(proposal_id) <= 36 else None
        if found is None:
            raise NotFound("No such re-seal proposal.")
        case_id = found.case_id
    return _confirm(db, case_id=case_id, proposal_id=proposal_id, principal=principal, role=role,
                    reason=reason.strip(), now=now)


@recusal_audited("integrity.reseal_confirm")
def _confirm(db: Database, *, case_id: str, proposal_id: str, principal: Principal, role: str, reason: str,
             now: datetime) -> ResealProposal:
    with db.write() as s:
        visible_case(s, case_id, principal)
        proposal = s.get(ResealProposal, proposal_id, with_for_update=True)
        if proposal is None:
            raise NotFound("No such re-seal proposal.")
        if proposal.status != "proposed":
            raise Conflict(f"This proposal is {proposal.status}.")
        if principal.subject == proposal.proposed_by or role == proposal.proposer_role or (
                principal.has_any(Role.auditor) and principal.has_any(Role.admin)):
            raise Forbidden("A re-seal is confirmed by the other role (auditor and admin), by another person.")
        now_problems = _problems(sealing.case_file_problems(s, case_id), s)
        if _fingerprint(now_problems) != _fingerprint(proposal.problems):
            raise Conflict("The case's records changed since they were examined: examine them again.",
                           integrity="changed_since_examined")
        seals = [sealing.reseal(s, p["table"], p["id"]) for p in now_problems]
        proposal.status = "confirmed"
        proposal.confirmed_by = principal.subject
        proposal.confirm_reason = reason
        proposal.confirmed_at = now
        s.add(proposal)
        s.flush()
        audit.append(s, actor=principal.subject, action="integrity.resealed", case_id=case_id, now=now, detail={
            "proposal_id": proposal.id, "examined_by": proposal.proposed_by, "examiner_role": proposal.proposer_role,
            "reason": proposal.reason, "confirmed_by": principal.subject, "confirmer_role": role,
            "confirm_reason": reason, "problems": [_brief(p) for p in now_problems], "seals": seals})
        return proposal


def _fingerprint(problems: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return sorted((str(p["table"]), str(p["id"]), p.get("digest_now")) for p in problems)


@recusal_audited("integrity.proposals_read")
def proposals(db: Database, *, case_id: str, principal: Principal, now: datetime) -> list[ResealProposal]:
    _role(principal)
    with db.read() as s:
        visible_case(s, case_id, principal)
        return list(s.exec(select(ResealProposal).where(ResealProposal.case_id == case_id)
                           .order_by(col(ResealProposal.created_at), col(ResealProposal.id))))


@dataclass(frozen=True)
class Baseline:
    entries: int
    rows_sealed: int

    def as_dict(self) -> dict[str, int]:
        return {"entries": self.entries, "rows_sealed": self.rows_sealed}


def baseline(db: Database, *, actor: str, now: datetime) -> Baseline:
    """Seal, once, the rows of the sealed tables that the chain has never sealed: run after upgrading
    a database whose notes, messages, reports, decisions... predate issue 15 (``civicsocial audit
    baseline``). One ``record.baseline_sealed`` entry per case (and one for rows of no case) says so:
    what these rows held before this moment is not proven. Rows that were ever sealed are left to
    verification and recovery; running it again seals nothing."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    with db.write() as s:
        for _ in audit.last_seals(audit.entries(s), last):
            pass
        by_case: dict[str | None, list[dict[str, Any]]] = {}
        for table, spec in sealing.REGISTRY.items():
            t = spec.model.__table__
            for row in s.execute(select_all(t, spec.fields)).mappings():
                values = dict(row)
                if (table, str(values["id"])) in last:
                    continue
                case_id = spec.case_of(sealing.values_view(values))
                by_case.setdefault(case_id, []).append(sealing.seal_for(spec, str(values["id"]), values))
        for case_id, seals in sorted(by_case.items(), key=lambda kv: kv[0] or ""):
            audit.append(s, actor=actor, action="record.baseline_sealed", case_id=case_id, now=now, detail={
                "note": "rows that existed before the whole case file was sealed (issue 15)", "seals": seals})
    return Baseline(entries=len(by_case), rows_sealed=sum(len(v) for v in by_case.values()))


def select_all(table: Any, fields: tuple[str, ...]) -> Any:
    return core_select(*[table.c[f] for f in fields])
