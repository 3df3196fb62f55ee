"""Staff notifications of case_api (issue 17): which event reaches whom, once.

Events come from two places, and nothing in the case use-cases calls this module:
- **the audit chain**: every change a use-case makes writes an audit entry in its own
  transaction, so the dispatcher reads the entries after its cursor (``notification_cursor``)
  and derives the events from them (a new case, an assignment, a decision proposed for
  approval, an employee's response or appeal). Sequence numbers are assigned under the audit
  lock, in commit order, so a cursor never skips an entry;
- **deadlines**, evaluated with the app clock: a case's SLA due soon or breached, a restorative
  action due or overdue, a monitoring review due or overdue.

Recipients are resolved from roles (the roster of ``notification_preferences``: the roles and
department each person's sign-in token last asserted) and from the people a record names (the
assignee, an action's owner, a review's reviewer); a department-scoped role hears only of its
own department; **anyone recused from the case is removed** (its subject employee, persons named
as involved, staff who declared a conflict; ``access.recusal_reason``). Addresses come from the
employee directory (an active entry only).

Each (occurrence, recipient) is one row of the ``notifications`` ledger under a unique key, so
a deadline or an audit entry never notifies a person twice, whichever instance runs the pass;
the outbox message (email, or the team chat channel for events without a case) is enqueued in
the same transaction and sent after commit by the relay. Per person and event type a
preference says immediate, daily digest, or off.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Literal

from sqlmodel import Session, and_, col, or_, select

from services.case_api.domain import access, identity
from services.case_api.domain.models import (
    AuditEntry,
    AuditHead,
    Case,
    CaseParty,
    Employee,
    MonitoredAccount,
    OutboxMessage,
    RestorativeAction,
    Review,
)
from services.case_api.domain.monitoring import OPEN_REVIEW
from services.case_api.domain.notification_models import (
    NotificationCursor,
    NotificationPreference,
    NotificationRecord,
    WebhookSubscription,
)
from shared import webhooks
from shared.auth import Principal, Role
from shared.db import Database
from shared.errors import ValidationFailed, field_error
from shared.notify import EventType
from shared.notify_outbox import NOTIFY_CHAT, NOTIFY_EMAIL, NotifyConfig
from shared.outbox import enqueue
from shared.schemas.notifications import NotificationLine, NotificationMessage, WebhookEvent
from shared.timeutil import as_utc

E = EventType
Mode = Literal["immediate", "digest", "off"]
MODES: tuple[str, ...] = ("immediate", "digest", "off")
DEFAULT_MODE: Mode = "immediate"
# the events case_api sends (policy events are policy_api's; the resident's update feedback_api's)
STAFF_EVENTS: tuple[EventType, ...] = (
    E.case_new_in_queue, E.case_assigned, E.sla_due_soon, E.sla_breached, E.restorative_due,
    E.restorative_overdue, E.monitoring_due, E.monitoring_overdue, E.decision_awaiting_approval,
    E.employee_response_filed, E.appeal_filed)
CLOSED_STATES = ("dismissed", "closed")
OPEN_ACTIONS = ("planned", "in_progress")
SCOPED_ROLES = frozenset({Role.department_director, Role.pio})
TEAM = "#team"  # the team chat channel, as a ledger recipient
AUDIT_BATCH = 500
DEADLINE_BATCH = 1000
#: A review the scheduler marked ``missed`` (its due date passed) before this loop saw it overdue
#: still gets its overdue notice, if it was due within this many days (not every missed review
#: of the past when the notifier is first switched on).
MISSED_LOOKBACK_DAYS = 7
IN_CHUNK = 500


@dataclass(frozen=True)
class Rules:
    """What a pass needs from the settings."""

    notify: NotifyConfig
    sla_due_soon: timedelta = timedelta(hours=48)
    restorative_due_soon_days: int = 3
    monitoring_due_soon_days: int = 7


@dataclass(frozen=True)
class Occurrence:
    """One happening that notifies: ``key`` is unique to it (the audit entry, or the record and its
    deadline), so a second pass finds it in the ledger."""

    event: EventType
    key: str
    reference: str | None
    link: str
    case_id: str | None = None
    department: str | None = None
    people: tuple[str, ...] = ()  # named persons (person keys)
    roles: tuple[str, ...] = ()   # role holders (scoped roles: of ``department`` only)
    exclude: tuple[str, ...] = ()
    team: bool = False            # also the team chat channel (only events without a case)


@dataclass
class PassResult:
    occurrences: int = 0
    notified: int = 0      # ledger rows written
    enqueued: int = 0      # outbox messages
    webhooks: int = 0      # of which to subscribed City systems
    digests: int = 0
    skipped_recused: int = 0
    by_event: dict[str, int] = field(default_factory=dict)


# --- events from the audit chain ---------------------------------------------------------------

AUDIT_EVENTS: dict[str, EventType] = {
    "case.created": E.case_new_in_queue,
    "case.assigned": E.case_assigned,
    "case.decision_proposed": E.decision_awaiting_approval,
    "due_process.responded": E.employee_response_filed,
    "due_process.appealed": E.appeal_filed,
}
CURSOR = "audit"


def _case_link(rules: Rules, case_id: str) -> str:
    return f"{rules.notify.console_url.rstrip('/')}/cases/{case_id}"


def _from_audit(s: Session, rules: Rules, now: datetime) -> list[Occurrence]:
    cursor = s.get(NotificationCursor, CURSOR, with_for_update=True, populate_existing=True)
    if cursor is None:
        cursor = NotificationCursor(name=CURSOR, audit_seq=0, updated_at=now)
    head = s.get(AuditHead, 1)  # read first: entries up to it are committed (appends hold the audit lock)
    top = head.seq if head else 0
    entries = list(s.exec(
        select(AuditEntry).where(col(AuditEntry.seq) > cursor.audit_seq, col(AuditEntry.seq) <= top,
                                 col(AuditEntry.action).in_(list(AUDIT_EVENTS)))
        .order_by(col(AuditEntry.seq)).limit(AUDIT_BATCH)))
    cursor.audit_seq = entries[-1].seq if len(entries) == AUDIT_BATCH else max(top, cursor.audit_seq)
    cursor.updated_at = now
    s.add(cursor)
    cases = _cases(s, {e.case_id for e in entries if e.case_id})
    out: list[Occurrence] = []
    for e in entries:
        case = cases.get(e.case_id or "")
        if case is None:
            continue
        event = AUDIT_EVENTS[e.action]
        base = dict(event=event, key=f"audit:{e.seq}", reference=case.reference, link=_case_link(rules, case.id),
                    case_id=case.id, department=case.department)
        if event is E.case_new_in_queue:
            out.append(Occurrence(**base, roles=(Role.intake, Role.department_director)))  # type: ignore[arg-type]
        elif event is E.case_assigned:
            to = identity.person_key((e.detail or {}).get("to"))
            if to:
                out.append(Occurrence(**base, people=(to,)))  # type: ignore[arg-type]
        elif event is E.decision_awaiting_approval:
            out.append(Occurrence(**base, roles=(Role.hr, Role.department_director),  # type: ignore[arg-type]
                                  exclude=(identity.person_key(e.actor) or "",)))
        else:  # the employee's response or appeal: whoever handles the case, and HR
            people = (case.assignee,) if case.assignee else ()
            out.append(Occurrence(**base, people=people,  # type: ignore[arg-type]
                                  roles=(Role.hr, Role.department_director)))
    return out


def _cases(s: Session, ids: Iterable[str]) -> dict[str, Case]:
    found: dict[str, Case] = {}
    ids = sorted(set(ids))
    for i in range(0, len(ids), IN_CHUNK):
        for case in s.exec(select(Case).where(col(Case.id).in_(ids[i:i + IN_CHUNK]))):
            found[case.id] = case
    return found


# --- deadlines ---------------------------------------------------------------------------------


def _deadlines(s: Session, rules: Rules, now: datetime) -> list[Occurrence]:
    out: list[Occurrence] = []
    horizon = now + rules.sla_due_soon
    cases = s.exec(select(Case).where(col(Case.due_at).is_not(None), col(Case.due_at) <= horizon,
                                      col(Case.state).not_in(CLOSED_STATES))
                   .order_by(col(Case.due_at).desc(), col(Case.id)).limit(DEADLINE_BATCH)).all()
    for case in cases:
        due = case.due_at
        assert due is not None
        due_utc = as_utc(due)
        event = E.sla_breached if due_utc <= now else E.sla_due_soon
        people = (case.assignee,) if case.assignee else ()
        roles = () if case.assignee else (Role.intake, Role.department_director)
        out.append(Occurrence(event=event, key=f"{event.value}:{case.id}:{due_utc.isoformat(timespec='seconds')}",
                              reference=case.reference, link=_case_link(rules, case.id), case_id=case.id,
                              department=case.department, people=people, roles=roles))
    today = now.date()
    actions = s.exec(
        select(RestorativeAction, Case.reference, Case.department).join(Case, col(Case.id) == RestorativeAction.case_id)
        .where(col(RestorativeAction.status).in_(OPEN_ACTIONS),
               col(RestorativeAction.due_on) <= today + timedelta(days=rules.restorative_due_soon_days))
        .order_by(col(RestorativeAction.due_on).desc(), col(RestorativeAction.id)).limit(DEADLINE_BATCH)).all()
    for action, reference, department in actions:
        event = E.restorative_overdue if action.due_on < today else E.restorative_due
        owner = identity.person_key(action.owner)
        out.append(Occurrence(event=event, key=f"{event.value}:{action.id}:{action.due_on.isoformat()}",
                              reference=reference, link=_case_link(rules, action.case_id), case_id=action.case_id,
                              department=department, people=(owner,) if owner else (),
                              roles=(Role.hr, Role.department_director)))
    reviews = s.exec(
        select(Review, MonitoredAccount.handle).join(MonitoredAccount,
                                                     col(MonitoredAccount.account_id) == Review.account_id)
        .where(or_(and_(col(Review.status).in_(OPEN_REVIEW),
                        col(Review.due_on) <= today + timedelta(days=rules.monitoring_due_soon_days)),
                   and_(col(Review.status) == "missed",
                        col(Review.due_on) >= today - timedelta(days=MISSED_LOOKBACK_DAYS))))
        .order_by(col(Review.due_on).desc(), col(Review.id)).limit(DEADLINE_BATCH)).all()
    for review, handle in reviews:
        event = E.monitoring_overdue if review.due_on < today or review.status == "missed" else E.monitoring_due
        reviewer = identity.person_key(review.reviewer)
        out.append(Occurrence(
            event=event, key=f"{event.value}:{review.id}:{review.due_on.isoformat()}",
            reference=f"{handle} {review.period_start.isoformat()}/{review.period_end.isoformat()}",
            link=f"{rules.notify.console_url.rstrip('/')}/monitoring/reviews/{review.id}",
            department=review.department, people=(reviewer,) if reviewer else (),
            roles=(Role.monitor, Role.department_director), team=True))
    return out


# --- recipients and the ledger -----------------------------------------------------------------


def _holds(pref: NotificationPreference, role: str, department: str | None) -> bool:
    if role not in pref.roles:
        return False
    if role in SCOPED_ROLES:
        return pref.department is not None and pref.department == identity.department(department)
    return True


def _parties(s: Session, case_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    ids = sorted(set(case_ids))
    for i in range(0, len(ids), IN_CHUNK):
        for case_id, key, kind in s.exec(select(CaseParty.case_id, CaseParty.person_key, CaseParty.kind)
                                         .where(col(CaseParty.case_id).in_(ids[i:i + IN_CHUNK]))):
            out[case_id].append((key, kind))
    return out


def _directory(s: Session, keys: Iterable[str]) -> dict[str, str]:
    """person key -> userName of its active directory entry."""
    out: dict[str, str] = {}
    keys = sorted(set(keys))
    for i in range(0, len(keys), IN_CHUNK):
        for key, user_name in s.exec(select(Employee.user_name_key, Employee.user_name)
                                     .where(col(Employee.user_name_key).in_(keys[i:i + IN_CHUNK]),
                                            col(Employee.active).is_(True))):
            out[key] = user_name
    return out


def _existing(s: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), IN_CHUNK):
        chunk = keys[i:i + IN_CHUNK]
        found.update(s.exec(select(NotificationRecord.key).where(col(NotificationRecord.key).in_(chunk))))
    return found


def outbox_key(kind: str, key: str) -> str:
    """The outbox's idempotency key (at most 128 characters) for a ledger key."""
    return f"notify:{kind}:" + hashlib.sha256(key.encode()).hexdigest()


def recipients(occ: Occurrence, prefs: Mapping[str, NotificationPreference],
               parties: Mapping[str, list[tuple[str, str]]], cases: Mapping[str, Case]) -> tuple[set[str], int]:
    """The person keys an occurrence reaches, and how many were removed as recused."""
    wanted = {p for p in occ.people if p}
    for role in occ.roles:
        wanted.update(k for k, pref in prefs.items() if _holds(pref, role, occ.department))
    wanted.difference_update(occ.exclude)
    if occ.case_id is None:
        return wanted, 0
    case = cases.get(occ.case_id)
    employee = case.employee_id if case else None
    kept = {p for p in wanted
            if access.recusal_reason(person=p, employee_id=employee, parties=parties.get(occ.case_id, [])) is None}
    return kept, len(wanted) - len(kept)


def dispatch(s: Session, occurrences: list[Occurrence], rules: Rules, now: datetime, result: PassResult) -> None:
    """Write the ledger rows of new (occurrence, recipient) pairs and enqueue their messages."""
    if not occurrences:
        return
    # other City systems: one body per occurrence (public references only), per subscriber of its type
    result.webhooks = webhooks.fan_out(s, WebhookSubscription, OutboxMessage, (
        (occ.key, WebhookEvent(type=occ.event, timestamp=now, data={
            "reference": occ.reference, "department": occ.department, "link": occ.link}))
        for occ in occurrences), now=now)
    result.enqueued += result.webhooks
    prefs = {p.person_key: p for p in s.exec(select(NotificationPreference))}
    case_ids = {o.case_id for o in occurrences if o.case_id}
    cases = _cases(s, case_ids)
    parties = _parties(s, case_ids)
    planned: list[tuple[Occurrence, str]] = []
    for occ in occurrences:
        people, recused = recipients(occ, prefs, parties, cases)
        result.skipped_recused += recused
        planned.extend((occ, p) for p in sorted(people))
        if occ.team and occ.case_id is None:
            planned.append((occ, TEAM))
    keys = [f"{occ.key}|{person}" for occ, person in planned]
    done = _existing(s, keys)
    directory = _directory(s, {p for _, p in planned if p != TEAM})
    for (occ, person), key in zip(planned, keys, strict=True):
        if key in done:
            continue
        done.add(key)
        line = NotificationLine(event=occ.event, reference=occ.reference, link=occ.link)
        if person == TEAM:
            mode = "immediate" if rules.notify.chat_on else "off"
            if mode == "immediate":
                enqueue(s, OutboxMessage, NOTIFY_CHAT, NotificationMessage(channel="chat", line=line),
                        idempotency_key=outbox_key("chat", key), now=now)
                result.enqueued += 1
        else:
            pref = prefs.get(person)
            mode = (pref.modes.get(occ.event.value) if pref else None) or DEFAULT_MODE
            address = rules.notify.address_of(directory[person]) if person in directory else None
            if address is None:
                mode = "no_address"
            elif mode == "immediate" and rules.notify.email_on:
                enqueue(s, OutboxMessage, NOTIFY_EMAIL, NotificationMessage(channel="email", to=address, line=line),
                        idempotency_key=outbox_key("email", key), now=now)
                result.enqueued += 1
        s.add(NotificationRecord(key=key, event=occ.event.value, person_key=person, reference=occ.reference,
                                 link=occ.link, mode=mode, created_at=now))
        result.notified += 1
        result.by_event[occ.event.value] = result.by_event.get(occ.event.value, 0) + 1
    s.flush()


# --- daily digests -------------------------------------------------------------------------------


def _digests(s: Session, rules: Rules, now: datetime, result: PassResult) -> None:
    """Once the day's digest hour has passed, each person's undigested rows from before it go in one
    message (a ledger row ``digest:<day>|<person>`` makes it once a day)."""
    at = datetime.combine(now.date(), time(rules.notify.digest_hour_utc), tzinfo=now.tzinfo)
    if now < at:
        return
    rows = s.exec(select(NotificationRecord)
                  .where(col(NotificationRecord.mode) == "digest", col(NotificationRecord.digested_at).is_(None),
                         col(NotificationRecord.created_at) < at)
                  .order_by(col(NotificationRecord.person_key), col(NotificationRecord.created_at))
                  .limit(5000)).all()
    if not rows:
        return
    by_person: dict[str, list[NotificationRecord]] = defaultdict(list)
    for row in rows:
        by_person[row.person_key].append(row)
    keys = {person: f"digest:{now.date().isoformat()}|{person}" for person in by_person}
    done = _existing(s, list(keys.values()))
    directory = _directory(s, by_person)
    for person, items in by_person.items():
        key = keys[person]
        if key in done:
            continue
        address = rules.notify.address_of(directory[person]) if person in directory else None
        if address and rules.notify.email_on:
            lines = [NotificationLine(event=EventType(r.event), reference=r.reference, link=r.link) for r in items]
            enqueue(s, OutboxMessage, NOTIFY_EMAIL, NotificationMessage(channel="email", to=address, digest=lines),
                    idempotency_key=outbox_key("email", key), now=now)
            result.enqueued += 1
        for r in items:
            r.digested_at = now
            s.add(r)
        s.add(NotificationRecord(key=key, event="digest", person_key=person, reference=None, link="",
                                 mode="immediate" if address else "no_address", created_at=now))
        result.digests += 1
    s.flush()


def run_pass(db: Database, *, rules: Rules, now: datetime) -> PassResult:
    """One pass of the scheduler, one unit of work: audit events after the cursor, deadlines,
    digests. The caller holds the scheduler lease; the ledger's unique keys hold without it."""
    result = PassResult()
    with db.write() as s:
        occurrences = _from_audit(s, rules, now) + _deadlines(s, rules, now)
        result.occurrences = len(occurrences)
        dispatch(s, occurrences, rules, now, result)
        _digests(s, rules, now, result)
    return result


# --- preferences: each person's own ------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    person: str
    modes: dict[str, str]
    roles: list[str]
    department: str | None
    updated_at: datetime | None


def _view(person: str, row: NotificationPreference | None) -> Preferences:
    saved = row.modes if row else {}
    return Preferences(person=person, modes={e.value: saved.get(e.value, DEFAULT_MODE) for e in STAFF_EVENTS},
                       roles=list(row.roles) if row else [], department=row.department if row else None,
                       updated_at=row.updated_at if row else None)


def _person(principal: Principal) -> str:
    key = identity.person_key(principal.subject)
    if key is None:
        raise ValidationFailed("The token names no person.")
    return key


def get_preferences(db: Database, *, principal: Principal) -> Preferences:
    person = _person(principal)
    with db.read() as s:
        return _view(person, s.get(NotificationPreference, person))


def set_preferences(db: Database, *, principal: Principal, modes: Mapping[str, str], now: datetime) -> Preferences:
    """Save the caller's own modes (events not named keep theirs). The roles and department are
    taken from the caller's token, never from the body: they are the roster role-based events use."""
    person = _person(principal)
    unknown = [k for k in modes if k not in {e.value for e in STAFF_EVENTS}]
    bad = [k for k, v in modes.items() if v not in MODES]
    if unknown or bad:
        raise ValidationFailed("Unknown event type or mode.",
                               errors=[field_error(["body", "modes", k], "unknown event type") for k in unknown]
                               + [field_error(["body", "modes", k], "immediate, digest or off") for k in bad])
    roles = sorted(r for r in principal.roles if r in access.STAFF or r == Role.monitor)
    with db.write() as s:
        row = s.get(NotificationPreference, person, with_for_update=True)
        if row is None:
            row = NotificationPreference(person_key=person, modes={}, roles=[], updated_at=now)
        row.modes = {**row.modes, **dict(modes)}
        row.roles = roles
        row.department = access.department_of(principal)
        row.updated_at = now
        s.add(row)
        s.flush()
        return _view(person, row)
