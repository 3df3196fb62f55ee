"""Restorative actions (R-24-89 §1.A.7): public correction, public apology, post removal,
privilege revocation, retraining completion, trust-rebuilding plan — each with an owner, a due
date, a status and evidence of completion.

A privilege revocation is sent to policy_api's registry through the outbox (retried until it
is delivered, never dropped); the relay records policy_api's answer on the action
(``record_revocation``). Use-cases open their own unit of work."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from services.case_api.domain import access, audit
from services.case_api.domain.cases import recusal_audited, visible_case
from services.case_api.domain.ladder import RestorativeKind
from services.case_api.domain.models import Case, OutboxMessage, RestorativeAction
from services.case_api.domain.state_machine import Finding
from services.case_api.domain.topics import PRIVILEGE_REVOKE
from shared.auth import Principal
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed, field_error
from shared.outbox import enqueue
from shared.schemas.messages import PrivilegeRevocationMessage
from shared.schemas.registry import PrivilegeRevocation

OPEN_STATUSES = ("planned", "in_progress", "failed")


@recusal_audited("restorative.plan")
def plan_action(db: Database, *, case_id: str, principal: Principal, kind: RestorativeKind, owner: str,
                due_on: date, description: str | None, account_id: str | None, now: datetime) -> RestorativeAction:
    """Plan an action after a sustained finding; a privilege revocation is queued for policy_api."""
    with db.write() as s:
        case = visible_case(s, case_id, principal, for_update=True)
        access.ensure_acts_in_department(principal, case.department, access.RESTORATIVE_MANAGE)
        return _create(s, case=case, kind=kind, owner=owner, due_on=due_on, description=description,
                       account_id=account_id, actor=principal.subject, now=now)


def _create(session: Session, *, case: Case, kind: RestorativeKind, owner: str, due_on: date,
            description: str | None, account_id: str | None, actor: str, now: datetime) -> RestorativeAction:
    if case.finding != Finding.sustained.value:
        raise Conflict("Restorative actions follow a sustained finding.", current_state=case.state)
    action = RestorativeAction(case_id=case.id, kind=kind.value, owner=owner, due_on=due_on, status="planned",
                               description=description, created_at=now, updated_at=now)
    if kind == RestorativeKind.privilege_revocation:
        account = account_id or case.account_id
        errs = []
        if not account:
            errs.append(field_error(["body", "account_id"], "the account whose privileges are revoked"))
        if not case.employee_id:
            errs.append(field_error(["body"], "the case has no identified employee"))
        if errs:
            raise ValidationFailed("A privilege revocation needs an account and an identified employee.", errors=errs)
        action.account_id = account
        action.status = "in_progress"
        action.result = {"revocation": "pending"}
    session.add(action)
    session.flush()
    if kind == RestorativeKind.privilege_revocation:
        assert action.account_id is not None and case.employee_id is not None
        message = PrivilegeRevocationMessage(
            account_id=action.account_id, action_id=action.id,
            revocation=PrivilegeRevocation(
                employee_id=case.employee_id, case_reference=case.reference,
                reason=description or f"Restorative action under R-24-89 §1.A.7, case {case.reference}"))
        enqueue(session, OutboxMessage, PRIVILEGE_REVOKE, message, idempotency_key=f"revoke-{action.id}", now=now)
    audit.append(session, actor=actor, action="restorative.created", case_id=case.id,
                 detail={"action_id": action.id, "kind": kind.value, "owner": owner, "due_on": due_on.isoformat(),
                         "account_id": action.account_id}, now=now, seal=[action])
    return action


@recusal_audited("restorative.read")
def list_actions(db: Database, *, case_id: str, principal: Principal, now: datetime) -> list[RestorativeAction]:
    with db.read() as s:
        visible_case(s, case_id, principal)
        return list(s.exec(select(RestorativeAction).where(RestorativeAction.case_id == case_id)
                           .order_by(col(RestorativeAction.created_at), col(RestorativeAction.id))))


@recusal_audited("restorative.update")
def update_action(db: Database, *, action_id: str, principal: Principal, status: str, evidence: str | None,
                  now: datetime) -> RestorativeAction:
    """Start, complete (with evidence) or cancel an action of a case the principal may act on."""
    with db.write() as s:
        action = s.get(RestorativeAction, action_id) if len(action_id) <= 36 else None
        if action is None:
            raise NotFound("No such restorative action.")
        case = visible_case(s, action.case_id, principal, for_update=True, what="restorative action")
        try:
            access.ensure_acts_in_department(principal, case.department, access.RESTORATIVE_UPDATE)
        except NotFound:
            raise NotFound("No such restorative action.") from None
        audit.ensure_sealed(s, action)
        if action.status in ("completed", "cancelled"):
            raise Conflict(f"The action is already {action.status}.", current_state=action.status)
        if status == "completed" and not (evidence and evidence.strip()):
            raise ValidationFailed("Completing an action needs evidence of completion.",
                                   errors=[field_error(["body", "evidence"], "required to complete")])
        before = action.status
        action.status = status
        if evidence:
            action.evidence = evidence
        if status == "completed":
            action.completed_at = now
        action.updated_at = now
        s.add(action)
        s.flush()
        audit.append(s, actor=principal.subject, action="restorative.updated", case_id=action.case_id,
                     detail={"action_id": action.id, "from": before, "to": status}, now=now, seal=[action])
        return action


def record_revocation(db: Database, *, action_id: str, ok: bool, result: dict[str, Any], now: datetime) -> None:
    """The outbox relay records policy_api's answer on the action (delivered, or refused for good)."""
    with db.write() as s:
        action = s.get(RestorativeAction, action_id)
        if action is None:
            return
        action.result = {"revocation": "done" if ok else "failed", **result}
        if ok:
            action.status = "completed"
            action.completed_at = action.completed_at or now
            action.evidence = action.evidence or (
                f"policy_api registry: posting privilege on account {action.account_id} "
                f"{'revoked' if result.get('changed') else 'was already revoked'}")
        else:
            action.status = "failed"
        action.updated_at = now
        s.add(action)
        s.flush()
        audit.append(s, actor="service:case_api", action="restorative.revocation_result", case_id=action.case_id,
                     detail={"action_id": action.id, "ok": ok, "result": result}, now=now, seal=[action])
