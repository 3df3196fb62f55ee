"""The registry of official City social media accounts and the posting privileges on them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.policy_api.domain import changelog
from services.policy_api.domain.context import WriteContext, flush_or_conflict
from services.policy_api.domain.models import Account, PostingPrivilege, PrivilegeEvent
from shared.errors import Conflict, NotFound

ACCOUNT_FIELDS = ("platform", "handle", "profile_url", "department", "purpose", "status", "pio_name", "pio_title")


def get_account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"No account with id {account_id!r}.")
    return account


def list_accounts(
    session: Session,
    *,
    status: str | None = None,
    department: str | None = None,
    platform: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Account], int]:
    query = select(Account)
    if status:
        query = query.where(Account.status == status)
    if department:
        query = query.where(func.lower(Account.department) == department.lower())
    if platform:
        query = query.where(Account.platform == platform)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Account.department), col(Account.platform), col(Account.handle), col(Account.id))
        .offset(offset).limit(limit)
    ).all()
    return list(rows), int(total)


def _ensure_unique(session: Session, platform: str, handle: str, exclude_id: str | None = None) -> None:
    query = select(Account).where(Account.platform == platform, func.lower(Account.handle) == handle.lower())
    existing = session.exec(query).first()
    if existing is not None and existing.id != exclude_id:
        raise Conflict(f"An account {handle!r} on {platform} is already registered.", existing_id=existing.id)


def create_account(session: Session, ctx: WriteContext, data: dict[str, Any]) -> Account:
    _ensure_unique(session, data["platform"], data["handle"])
    values: dict[str, Any] = {k: data[k] for k in ACCOUNT_FIELDS if k in data}
    account = Account(**values, created_at=ctx.now, updated_at=ctx.now)
    session.add(account)
    flush_or_conflict(session, f"An account {data['handle']!r} on {data['platform']} is already registered.")
    changelog.record(session, actor=ctx.actor, action="account.created", entity_type="account",
                     entity_id=account.id, at=ctx.now, after=changelog.snapshot(account), request_id=ctx.request_id)
    return account


def update_account(session: Session, ctx: WriteContext, account_id: str, changes: dict[str, Any]) -> Account:
    account = get_account(session, account_id)
    before = changelog.snapshot(account)
    platform = changes.get("platform", account.platform)
    handle = changes.get("handle", account.handle)
    if platform != account.platform or handle != account.handle:
        _ensure_unique(session, platform, handle, exclude_id=account.id)
    for key, value in changes.items():
        if key in ACCOUNT_FIELDS:
            setattr(account, key, value)
    account.updated_at = ctx.now
    session.add(account)
    session.flush()
    changelog.record(session, actor=ctx.actor, action="account.updated", entity_type="account",
                     entity_id=account.id, at=ctx.now, before=before, after=changelog.snapshot(account),
                     request_id=ctx.request_id)
    return account


def set_privilege(
    session: Session,
    ctx: WriteContext,
    *,
    account_id: str,
    employee_id: str,
    active: bool,
    reason: str,
    case_reference: str | None = None,
) -> tuple[PostingPrivilege, bool]:
    """Grant (``active=True``) or revoke a posting privilege. Returns the privilege and whether it
    changed; an unchanged request records nothing (idempotent by nature)."""
    account = get_account(session, account_id)
    if active and account.status == "retired":
        raise Conflict("Posting privileges cannot be granted on a retired account.")
    privilege = session.get(PostingPrivilege, (account.id, employee_id))
    current = bool(privilege and privilege.active)
    if current == active:
        if privilege is None:  # revoking something never granted
            return PostingPrivilege(account_id=account.id, employee_id=employee_id, active=False,
                                    updated_at=ctx.now), False
        return privilege, False
    before = changelog.snapshot(privilege) if privilege else None
    if privilege is None:
        privilege = PostingPrivilege(account_id=account.id, employee_id=employee_id, active=active, updated_at=ctx.now)
    else:
        privilege.active = active
        privilege.updated_at = ctx.now
    session.add(privilege)
    action = "granted" if active else "revoked"
    session.add(PrivilegeEvent(account_id=account.id, employee_id=employee_id, action=action, reason=reason,
                               case_reference=case_reference, actor=ctx.actor, at=ctx.now))
    flush_or_conflict(session, "The privilege was changed by a concurrent request; retry.")
    after = changelog.snapshot(privilege) | {"reason": reason, "case_reference": case_reference}
    changelog.record(session, actor=ctx.actor, action=f"privilege.{action}", entity_type="account",
                     entity_id=account.id, at=ctx.now, before=before, after=after, request_id=ctx.request_id)
    return privilege, True


def privileges(session: Session, account_id: str, *, include_inactive: bool = False) -> list[PostingPrivilege]:
    get_account(session, account_id)
    query = select(PostingPrivilege).where(PostingPrivilege.account_id == account_id)
    if not include_inactive:
        query = query.where(col(PostingPrivilege.active).is_(True))
    return list(session.exec(query.order_by(col(PostingPrivilege.employee_id))).all())


def privilege_history(
    session: Session, *, account_id: str | None = None, employee_id: str | None = None, limit: int, offset: int
) -> tuple[list[PrivilegeEvent], int]:
    query = select(PrivilegeEvent)
    if account_id is not None:
        get_account(session, account_id)
        query = query.where(PrivilegeEvent.account_id == account_id)
    if employee_id is not None:
        query = query.where(PrivilegeEvent.employee_id == employee_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(PrivilegeEvent.at), col(PrivilegeEvent.id)).offset(offset).limit(limit))
    return list(rows.all()), int(total)


def active_privilege_holders(session: Session) -> set[str]:
    """Employees holding a posting privilege on any active account."""
    rows = session.exec(
        select(PostingPrivilege.employee_id)
        .join(Account, col(Account.id) == col(PostingPrivilege.account_id))
        .where(col(PostingPrivilege.active).is_(True), Account.status == "active")
    ).all()
    return set(rows)
