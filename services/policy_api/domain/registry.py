"""The registry of official City social media accounts and the posting privileges on them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from services.policy_api.domain import changelog, handles
from services.policy_api.domain.context import WriteContext, flush_or_conflict
from services.policy_api.domain.models import Account, IdempotencyKey, PostingPrivilege, PrivilegeEvent
from shared import idempotency
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed, field_error
from shared.schemas.registry import PrivilegeChangeResult, PrivilegeRevocation


@dataclass(frozen=True)
class AccountFields:
    """A new account (platform, handle, profile_url and department required) or the changes to one
    (only the fields in ``given`` change; ``None`` may be a value, e.g. to clear the PIO)."""

    given: frozenset[str]
    platform: str | None = None
    handle: str | None = None
    profile_url: str | None = None
    department: str | None = None
    purpose: str | None = None
    status: str | None = None
    pio_name: str | None = None
    pio_title: str | None = None

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "given" and f.name in self.given}


# --- queries -----------------------------------------------------------------------------------


def get_account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"No account with id {account_id!r}.")
    return account


def accounts_page(
    session: Session, *, status: str | None = None, department: str | None = None, platform: str | None = None,
    exclude_status: str | None = None, limit: int, offset: int,
) -> tuple[list[Account], int]:
    """Two statements: the count and the page."""
    filters: list[Any] = []
    if status:
        filters.append(col(Account.status) == status)
    if exclude_status:
        filters.append(col(Account.status) != exclude_status)
    if department:
        filters.append(func.lower(Account.department) == department.lower())
    if platform:
        filters.append(col(Account.platform) == platform)
    total = session.exec(_ACCOUNT_COUNT.where(*filters)).one()
    rows = session.exec(_ACCOUNT_PAGE.where(*filters), params={"limit": limit, "offset": offset}).all()
    return list(rows), int(total)


_ACCOUNT_COUNT: Any = select(func.count()).select_from(Account)
_ACCOUNT_PAGE: Any = (
    select(Account)
    .order_by(col(Account.department), col(Account.platform), col(Account.handle), col(Account.id))
    .offset(bindparam("offset")).limit(bindparam("limit"))
)


def active_privilege_holders(session: Session) -> set[str]:
    """Employees holding a posting privilege on any active account."""
    rows = session.exec(
        select(PostingPrivilege.employee_id)
        .join(Account, col(Account.id) == col(PostingPrivilege.account_id))
        .where(col(PostingPrivilege.active).is_(True), Account.status == "active")
    ).all()
    return set(rows)


# --- use-cases: reads ---------------------------------------------------------------------------


def list_accounts(
    db: Database, *, status: str | None = None, department: str | None = None, platform: str | None = None,
    limit: int, offset: int,
) -> tuple[list[Account], int]:
    with db.read() as s:
        return accounts_page(s, status=status, department=department, platform=platform, limit=limit,
                             offset=offset)


def account(db: Database, *, account_id: str) -> Account:
    with db.read() as s:
        return get_account(s, account_id)


def privileges(
    db: Database, *, account_id: str, include_inactive: bool = False, limit: int, offset: int
) -> tuple[list[PostingPrivilege], int]:
    """Three statements: the account, the count, the page."""
    query = select(PostingPrivilege).where(PostingPrivilege.account_id == account_id)
    if not include_inactive:
        query = query.where(col(PostingPrivilege.active).is_(True))
    with db.read() as s:
        get_account(s, account_id)
        total = s.exec(select(func.count()).select_from(query.subquery())).one()
        rows = s.exec(query.order_by(col(PostingPrivilege.employee_id)).offset(offset).limit(limit)).all()
        return list(rows), int(total)


def privilege_history(
    db: Database, *, account_id: str, employee_id: str | None = None, limit: int, offset: int
) -> tuple[list[PrivilegeEvent], int]:
    query = select(PrivilegeEvent).where(PrivilegeEvent.account_id == account_id)
    if employee_id is not None:
        query = query.where(PrivilegeEvent.employee_id == employee_id)
    with db.read() as s:
        get_account(s, account_id)
        total = s.exec(select(func.count()).select_from(query.subquery())).one()
        rows = s.exec(query.order_by(col(PrivilegeEvent.at), col(PrivilegeEvent.id)).offset(offset).limit(limit))
        return list(rows.all()), int(total)


# --- use-cases: writes --------------------------------------------------------------------------


class DuplicateAccount(Conflict):
    slug, title = "duplicate-account", "This account is already registered"


def _ensure_unique(session: Session, platform: str, key: str, exclude_id: str | None = None) -> None:
    existing = session.exec(select(Account).where(Account.platform == platform, Account.handle_key == key)).first()
    if existing is not None and existing.id != exclude_id:
        raise DuplicateAccount(
            f"The account {existing.handle!r} on {platform} is already registered (handles are compared without "
            "case, a leading @ or a profile URL around them).", existing_id=existing.id, handle=existing.handle)


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("handle") is None:
        return values
    handle = handles.clean(values["handle"])
    key = handles.handle_key(handle)
    if not key:
        raise ValidationFailed("The handle is empty once normalised.",
                               errors=[field_error(["body", "handle"], "Empty handle.", "empty_handle")])
    return {**values, "handle": handle, "handle_key": key}


def create_account(db: Database, ctx: WriteContext, *, new: AccountFields) -> Account:
    values = _normalised(new.values())
    with db.write() as s:
        _ensure_unique(s, values["platform"], values["handle_key"])
        row = Account(**values, created_at=ctx.now, updated_at=ctx.now)
        s.add(row)
        flush_or_conflict(s, f"An account {values['handle']!r} on {values['platform']} is already registered.")
        changelog.record(s, actor=ctx.actor, action="account.created", entity_type="account",
                         entity_id=row.id, at=ctx.now, after=changelog.snapshot(row), request_id=ctx.request_id)
        return row


def update_account(db: Database, ctx: WriteContext, *, account_id: str, changes: AccountFields) -> Account:
    values = _normalised(changes.values())
    with db.write() as s:
        row = get_account(s, account_id)
        before = changelog.snapshot(row)
        platform = values.get("platform", row.platform)
        key = values.get("handle_key", row.handle_key)
        if platform != row.platform or key != row.handle_key:
            _ensure_unique(s, platform, key, exclude_id=row.id)
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = ctx.now
        s.add(row)
        s.flush()
        changelog.record(s, actor=ctx.actor, action="account.updated", entity_type="account",
                         entity_id=row.id, at=ctx.now, before=before, after=changelog.snapshot(row),
                         request_id=ctx.request_id)
        return row


class AccountNotActive(Conflict):
    slug, title = "account-not-active", "Posting privileges are granted only on active accounts"


#: A re-grant after a case's revocation says why in at least this many characters.
MIN_REGRANT_REASON = 10


def _require_case_for_regrant(session: Session, account_id: str, employee_id: str, *,
                              case_reference: str | None, reason: str) -> str | None:
    """A privilege that a case revoked is granted again only with that case's reference (and the grant's
    reason, required anyway): both are kept in the privilege history (issue 20). Returns the reference to
    record: the revoking case's, as it was written."""
    last = session.exec(
        select(PrivilegeEvent).where(PrivilegeEvent.account_id == account_id, PrivilegeEvent.employee_id == employee_id)
        .order_by(col(PrivilegeEvent.at).desc(), col(PrivilegeEvent.id).desc())
    ).first()
    if last is None or last.action != "revoked" or not last.case_reference:
        return case_reference
    errors = []
    if (case_reference or "").strip().upper() != last.case_reference.strip().upper():
        errors.append(field_error(["body", "case_reference"],
                                  f"Give the revoking case's reference ({last.case_reference}).",
                                  "case_reference_required"))
    if len(reason.strip()) < MIN_REGRANT_REASON:
        errors.append(field_error(["body", "reason"], "Say why the privilege is restored after the case.",
                                  "reason_required"))
    if errors:
        raise ValidationFailed(
            f"This privilege was revoked by case {last.case_reference}: granting it again needs that case "
            "reference and a reason.", errors=errors, revoked_by_case=last.case_reference)
    return last.case_reference


def _set_privilege(
    session: Session, ctx: WriteContext, *, account_id: str, employee_id: str, active: bool, reason: str,
    case_reference: str | None = None,
) -> PrivilegeChangeResult:
    """Grant (``active=True``) or revoke a posting privilege. An unchanged request records nothing
    (idempotent by nature) and answers ``changed: false``."""
    account_row = get_account(session, account_id)
    if active and account_row.status != "active":
        raise AccountNotActive(f"Posting privileges cannot be granted on a {account_row.status} account.",
                               account_status=account_row.status)
    privilege = session.get(PostingPrivilege, (account_row.id, employee_id))
    current = bool(privilege and privilege.active)
    if current == active:
        return PrivilegeChangeResult(account_id=account_row.id, employee_id=employee_id, active=active,
                                     changed=False, recorded_at=ctx.now)
    if active:
        case_reference = _require_case_for_regrant(session, account_row.id, employee_id,
                                                   case_reference=case_reference, reason=reason)
    before = changelog.snapshot(privilege) if privilege else None
    if privilege is None:
        privilege = PostingPrivilege(account_id=account_row.id, employee_id=employee_id, active=active,
                                     updated_at=ctx.now)
    else:
        privilege.active = active
        privilege.updated_at = ctx.now
    session.add(privilege)
    action = "granted" if active else "revoked"
    session.add(PrivilegeEvent(account_id=account_row.id, employee_id=employee_id, action=action, reason=reason,
                               case_reference=case_reference, actor=ctx.actor, at=ctx.now))
    flush_or_conflict(session, "The privilege was changed by a concurrent request; retry.")
    after = changelog.snapshot(privilege) | {"reason": reason, "case_reference": case_reference}
    changelog.record(session, actor=ctx.actor, action=f"privilege.{action}", entity_type="account",
                     entity_id=account_row.id, at=ctx.now, before=before, after=after, request_id=ctx.request_id)
    return PrivilegeChangeResult(account_id=account_row.id, employee_id=employee_id, active=active, changed=True,
                                 recorded_at=ctx.now)


def grant_privilege(
    db: Database, ctx: WriteContext, *, account_id: str, employee_id: str, reason: str,
    case_reference: str | None = None,
) -> PrivilegeChangeResult:
    with db.write() as s:
        return _set_privilege(s, ctx, account_id=account_id, employee_id=employee_id, active=True, reason=reason,
                              case_reference=case_reference)


@dataclass(frozen=True)
class RevokeOutcome:
    result: PrivilegeChangeResult
    replayed: bool  # the same Idempotency-Key and body was seen before: this is the stored answer


def revoke_privilege(
    db: Database, ctx: WriteContext, *, account_id: str, revocation: PrivilegeRevocation,
    idempotency_key: str | None, scope: str,
) -> RevokeOutcome:
    """case_api's outbox delivers ``PrivilegeRevocation`` with an ``Idempotency-Key``: the first delivery's
    answer is stored with the effect (one transaction) and replayed for every retry; the same key with
    another body is a 422. Without a key (records staff) the revocation is still idempotent by nature."""
    with db.write() as s:
        if idempotency_key is None:
            result = _set_privilege(s, ctx, account_id=account_id, employee_id=revocation.employee_id,
                                    active=False, reason=revocation.reason,
                                    case_reference=revocation.case_reference)
            return RevokeOutcome(result=result, replayed=False)
        body = {"account_id": account_id, **revocation.model_dump(mode="json")}
        claim = idempotency.begin(s, IdempotencyKey, scope=scope, key=idempotency_key, body=body)
        if claim.replay is not None:
            return RevokeOutcome(result=PrivilegeChangeResult.model_validate(claim.replay.body), replayed=True)
        result = _set_privilege(s, ctx, account_id=account_id, employee_id=revocation.employee_id, active=False,
                                reason=revocation.reason, case_reference=revocation.case_reference)
        claim.finish(status=200, body=result.model_dump(mode="json"))
        return RevokeOutcome(result=result, replayed=False)
