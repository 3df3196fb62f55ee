"""Sealing the whole case file into the audit chain: the registry, the seals, and their checks.

CONTRACT (issue 15; other modules build on it):

- ``REGISTRY`` names every sealed table of the case file. ``register(Model, case_id=...)`` adds one
  (``case_id``: how to find a row's case id from the row; ``None`` for rows that belong to no case,
  such as monitoring reviews). A row is serialised canonically by ``canonical_row``: every column,
  sorted keys, no spaces, UTF-8, datetimes as UTC ISO with microseconds, dates ISO. Another
  module's new table (per-report testimony, legal holds...) registers with one call, at import,
  next to its model; that is all it needs to be sealed, checked and verified.
- Chain entries seal **hashes** of row content, never the content: a seal is
  ``{"table", "id", "v": 2, "digest": SHA-256 of the canonical row, "fields": {column: first 16
  hex of SHA-256 of that column's canonical value}}`` (the field hashes say *what* differs), or
  ``{"table", "id", "deleted": true}``, or ``{"table", "id", "destroyed": {"schedule", "on"},
  "digest"?}``. Lawful destruction therefore never breaks verification.
- Sealing is automatic. Every ``Session`` flush notes the registered rows it inserts, changes or
  deletes; ``audit.append`` puts the seals of those whose case is the entry's case into that
  entry, and whatever is left is sealed by one ``record.sealed`` entry per case at commit. No
  write path has to list the rows it touched.
- A legitimate write never seals over an unverified row: before a flush changes or deletes a
  registered row that existed before the transaction, the row's state *as read from the
  database* is compared with its last seal (``check_row``); if it differs the flush raises
  ``Conflict`` (409, ``integrity: "broken"``, with ``table``, ``row_id`` and ``differs``) and the
  unit of work rolls back. ``check_row(session, row)`` / ``ensure_row(session, row)`` can also be
  called directly (e.g. before deciding to build on a row).
- ``record_destruction(session, *, case_id, table, row_id, schedule, on, actor)`` appends a chain
  entry saying that row's content was destroyed under retention schedule ``schedule`` on ``on``.
  Call it *after* deleting or blanking the row in the same transaction: the destruction seal
  replaces the automatic one, and verification then reports "destroyed under schedule X on D"
  (``FullVerification.destroyed``) instead of "missing" or "changed". A blanked row that stays is
  sealed with its blanked state.
- ``verify_rows`` (called by ``audit.verify``) walks the entire history and compares every row of
  every registered table with its last seal; ``case_file_problems`` does the same for one case.

Why machinery of our own: SQLAlchemy gives the events (``before_flush``, ``before_commit``) and
the pre-change state (``InstanceState.committed_state``); what is sealed and how is this
project's rule, and no library models "a hash chain sealing rows of these tables".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm.base import NO_VALUE
from sqlmodel import Session, col

from services.case_api.domain import integrity_models  # noqa: F401  (its tables on the metadata)
from services.case_api.domain.models import (
    AuditEntry,
    Case,
    CaseDecision,
    CaseLink,
    CaseMessage,
    CaseNote,
    CaseParty,
    CaseReport,
    DueProcess,
    MonitoredPost,
    RestorativeAction,
    Review,
    ReviewFinding,
)
from services.case_api.domain.record_models import LegalHold
from shared.errors import Conflict
from shared.timeutil import as_utc, utcnow

SEAL_VERSION = 2
FIELD_HASH_CHARS = 16
_PENDING = "sealing.pending"      # {(table, id): (spec, row, deleted)} touched, not yet sealed
_CREATED = "sealing.created"      # keys inserted in this transaction: nothing to check
_VERIFIED = "sealing.verified"    # keys already checked in this transaction
_MAPS = "sealing.maps"            # {scope: {(table, id): last seal}} read from the chain
_ACTOR = "sealing.actor"          # the last actor who appended in this transaction
_APPENDING = "sealing.appending"
_NOW = "sealing.now"              # the time of the last append (the use-case's clock)


@dataclass(frozen=True)
class Sealed:
    """One sealed table: its model, how to find a row's case, its columns in the canonical form."""

    table: str
    model: type[Any]
    case_of: Callable[[Any], str | None]
    fields: tuple[str, ...]
    legacy_fields: tuple[str, ...] | None = None  # the version-1 seals (cases, restorative actions)
    case_column: str | None = None  # the column holding the case id, when there is one (SQL filter)
    scoped: bool = True  # False: its rows belong to no case (monitoring reviews, posts)

    def case_id(self, row: Any) -> str | None:
        return self.case_of(row)


REGISTRY: dict[str, Sealed] = {}
_BY_MODEL: dict[type[Any], Sealed] = {}


def register(model: type[Any], *, case_column: str | None = "case_id",
             case_id: Callable[[Any], str | None] | None = None, exclude: Iterable[str] = (),
             legacy_fields: tuple[str, ...] | None = None) -> Sealed:
    """Seal ``model``'s table. The row's case is the column ``case_column`` (default ``case_id``;
    ``None``: the row belongs to no case), or what ``case_id(row)`` answers when that is given."""
    table = model.__tablename__
    skip = set(exclude)
    fields = tuple(c.name for c in model.__table__.columns if c.name not in skip)
    column = case_column if case_id is None else None
    scoped = case_id is not None or column is not None
    if case_id is None:
        case_id = (lambda r: getattr(r, column)) if column else (lambda r: None)
    spec = Sealed(table=table, model=model, case_of=case_id, fields=fields, legacy_fields=legacy_fields,
                  case_column=column, scoped=scoped)
    REGISTRY[table] = spec
    _BY_MODEL[model] = spec
    return spec


def spec_for(row: Any) -> Sealed | None:
    return _BY_MODEL.get(type(row))


# --- canonical form and seals ---------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def canonical_row(values: dict[str, Any], fields: tuple[str, ...]) -> bytes:
    return _json({f: _plain(values.get(f)) for f in fields})


def digest(values: dict[str, Any], fields: tuple[str, ...]) -> str:
    return hashlib.sha256(canonical_row(values, fields)).hexdigest()


def field_hashes(values: dict[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
    return {f: hashlib.sha256(_json(_plain(values.get(f)))).hexdigest()[:FIELD_HASH_CHARS] for f in fields}


def values_of(row: Any, spec: Sealed) -> dict[str, Any]:
    return {f: getattr(row, f) for f in spec.fields}


def seal_for(spec: Sealed, row_id: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"table": spec.table, "id": row_id, "v": SEAL_VERSION, "digest": digest(values, spec.fields),
            "fields": field_hashes(values, spec.fields)}


def compare(spec: Sealed, values: dict[str, Any] | None, seal: dict[str, Any] | None) -> dict[str, Any] | None:
    """``None`` when ``values`` (the row as stored, ``None`` if absent) agree with ``seal`` (the
    last seal, ``None`` if the chain never sealed the row); else the problem."""
    if seal is None:
        if values is None:
            return None
        return {"problem": "row has no audit entry (inserted outside the application)"}
    if seal.get("deleted"):
        if values is None:
            return None
        return {"problem": "row was deleted by the application but exists again (inserted outside the application)"}
    if seal.get("destroyed") and seal.get("digest") is None:
        if values is None:
            return None
        return {"problem": "row was destroyed under its retention schedule but exists again"}
    if values is None:
        return {"problem": "audited row is missing (deleted outside the application)"}
    if seal.get("v") == SEAL_VERSION:
        if seal.get("digest") == digest(values, spec.fields):
            return None
        sealed_fields = seal.get("fields") or {}
        now_fields = field_hashes(values, spec.fields)
        differs = sorted(f for f in set(sealed_fields) | set(now_fields) if sealed_fields.get(f) != now_fields.get(f))
        return {"problem": "row differs from its last audited state (edited outside the application)",
                "differs": differs}
    legacy = spec.legacy_fields or spec.fields
    body = {f: _plain(values.get(f)) for f in legacy}
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    if hashlib.sha256(raw.encode()).hexdigest() == seal.get("digest"):
        return None
    return {"problem": "row differs from its last audited state (edited outside the application)", "differs": []}


def seals_in(detail: Any) -> list[dict[str, Any]]:
    if not isinstance(detail, dict):
        return []
    return [s for s in detail.get("seals", []) if isinstance(s, dict) and "table" in s and "id" in s]


# --- the last seal of a row, as the chain holds it --------------------------------------------


def _scope_map(session: Session, scope: str | None) -> dict[tuple[str, str], dict[str, Any]]:
    """Every last seal in the entries of one case (or of no case), walking the case's entire
    history (ix_audit_entries_case_id_seq); cached for the transaction, kept current by appends."""
    maps: dict[str | None, dict[tuple[str, str], dict[str, Any]]] = session.info.setdefault(_MAPS, {})
    found = maps.get(scope)
    if found is not None:
        return found
    where = col(AuditEntry.case_id).is_(None) if scope is None else col(AuditEntry.case_id) == scope
    found = {}
    with session.no_autoflush:
        for (detail,) in session.execute(select(col(AuditEntry.detail)).where(where).order_by(col(AuditEntry.seq))):
            for s in seals_in(detail):
                found[(str(s["table"]), str(s["id"]))] = s
    maps[scope] = found
    return found


def _stored_values(session: Session, spec: Sealed, row: Any) -> dict[str, Any]:
    """The row as the database holds it now: its current values, with any change made in this
    transaction but not yet flushed taken back (``committed_state``)."""
    state = inspect(row)
    committed = state.committed_state
    values = {}
    for f in spec.fields:
        v = committed.get(f, NO_VALUE) if f in committed else getattr(row, f)
        if v is NO_VALUE:  # never loaded: read the stored row itself
            with session.no_autoflush:
                stored = session.connection().execute(
                    select(spec.model.__table__).where(spec.model.__table__.c.id == state.identity[0])
                ).mappings().first()
            return dict(stored) if stored else {}
        values[f] = v
    return values


def check_row(session: Session, row: Any) -> dict[str, Any] | None:
    """``None`` when the row as stored matches the last seal the chain holds for it (or it was
    inserted in this transaction); else ``{table, row_id, problem, differs?}``."""
    spec = spec_for(row)
    if spec is None:
        return None
    key = (spec.table, str(row.id))
    if key in session.info.get(_CREATED, set()):
        return None
    values = _stored_values(session, spec, row)
    scope = spec.case_of(_Values(values))
    problem = compare(spec, values, _scope_map(session, scope).get(key))
    if problem is None:
        return None
    return {"table": spec.table, "row_id": key[1], **problem}


def ensure_row(session: Session, row: Any) -> None:
    problem = check_row(session, row)
    if problem is None:
        spec = spec_for(row)
        if spec is not None:
            session.info.setdefault(_VERIFIED, set()).add((spec.table, str(row.id)))
        return
    if problem is not None:
        raise Conflict("This record differs from its audited state: it was changed outside the application. "
                       "An auditor and an admin must examine and re-seal it (POST /v1/audit/cases/{id}/reseal).",
                       integrity="broken", **problem)


def values_view(values: dict[str, Any]) -> Any:
    """A row's stored values as an object ``Sealed.case_of`` can read."""
    return _Values(values)


class _Values:
    """Attribute access over a dict (``case_of`` reads rows and stored values alike)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        return None


# --- automatic sealing -------------------------------------------------------------------------


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if not _BY_MODEL:
        return
    created: set[tuple[str, str]] = session.info.setdefault(_CREATED, set())
    verified: set[tuple[str, str]] = session.info.setdefault(_VERIFIED, set())
    pending: dict[tuple[str, str], tuple[Sealed, Any, bool]] = session.info.setdefault(_PENDING, {})
    for row in list(session.new):
        spec = spec_for(row)
        if spec is not None:
            key = (spec.table, str(row.id))
            created.add(key)
            pending[key] = (spec, row, False)
    for deleted, rows in ((False, list(session.dirty)), (True, list(session.deleted))):
        for row in rows:
            spec = spec_for(row)
            if spec is None or (not deleted and not session.is_modified(row)):
                continue
            key = (spec.table, str(row.id))
            if key not in created and key not in verified:
                ensure_row(session, row)
                verified.add(key)
            pending[key] = (spec, row, deleted)


def take_seals(session: Session, case_id: str | None) -> list[dict[str, Any]]:
    """Seals of the rows touched in this transaction whose case is ``case_id``, for the entry
    about to be appended (called by ``audit.append`` after a flush)."""
    pending: dict[tuple[str, str], tuple[Sealed, Any, bool]] = session.info.get(_PENDING, {})
    out = []
    for key, (spec, row, deleted) in list(pending.items()):
        if spec.case_of(row) != case_id:
            continue
        del pending[key]
        out.append({"table": spec.table, "id": key[1], "deleted": True} if deleted
                   else seal_for(spec, key[1], values_of(row, spec)))
    return out


def note_appended(session: Session, *, case_id: str | None, actor: str, detail: dict[str, Any],
                  now: datetime) -> None:
    """Keep the transaction's cached last seals current after an append."""
    session.info[_ACTOR] = actor
    session.info[_NOW] = now
    maps = session.info.get(_MAPS, {})
    if case_id in maps:
        for s in seals_in(detail):
            maps[case_id][(str(s["table"]), str(s["id"]))] = s
    verified: set[tuple[str, str]] = session.info.setdefault(_VERIFIED, set())
    verified.update((str(s["table"]), str(s["id"])) for s in seals_in(detail))


def _before_commit(session: Session) -> None:
    if not _BY_MODEL or session.info.get(_APPENDING):
        return
    session.flush()
    pending: dict[tuple[str, str], tuple[Sealed, Any, bool]] = session.info.get(_PENDING, {})
    if not pending:
        return
    from services.case_api.domain import audit  # audit imports this module

    scopes = sorted({spec.case_of(row) or "" for spec, row, _ in pending.values()})
    session.info[_APPENDING] = True
    try:
        for scope in scopes:
            audit.append(session, actor=session.info.get(_ACTOR, "service:case_api"), action="record.sealed",
                         case_id=scope or None, detail={}, now=_now(session))
    finally:
        session.info[_APPENDING] = False


def _now(session: Session) -> datetime:
    now = session.info.get(_NOW)
    return now if isinstance(now, datetime) else utcnow()


def _after_end(session: Session, *_args: Any) -> None:
    for k in (_PENDING, _CREATED, _VERIFIED, _MAPS, _ACTOR, _NOW):
        session.info.pop(k, None)


event.listen(Session, "before_flush", _before_flush)
event.listen(Session, "before_commit", _before_commit)
event.listen(Session, "after_commit", _after_end)
event.listen(Session, "after_rollback", _after_end)


# --- destruction under a retention schedule ----------------------------------------------------


def record_destruction(session: Session, *, case_id: str | None, table: str, row_id: str, schedule: str,
                       on: date, actor: str = "service:case_api", now: datetime | None = None) -> AuditEntry:
    """Append ``retention.destroyed``: the row's content was destroyed under ``schedule`` on ``on``.
    Call after deleting (or blanking) the row in the same transaction."""
    from services.case_api.domain import audit

    spec = REGISTRY[table]
    session.flush()
    pending: dict[tuple[str, str], tuple[Sealed, Any, bool]] = session.info.get(_PENDING, {})
    pending.pop((table, row_id), None)
    row = session.get(spec.model, row_id)
    seal: dict[str, Any] = {"table": table, "id": row_id, "destroyed": {"schedule": schedule, "on": on.isoformat()}}
    if row is not None and row not in session.deleted:
        sealed = seal_for(spec, row_id, values_of(row, spec))
        seal.update(v=SEAL_VERSION, digest=sealed["digest"], fields=sealed["fields"])
    return audit.append(session, actor=actor, action="retention.destroyed", case_id=case_id,
                        detail={"table": table, "row_id": row_id, "schedule": schedule, "on": on.isoformat(),
                                "seals": [seal]}, now=now or _now(session))


# --- verification of the rows --------------------------------------------------------------------


@dataclass(frozen=True)
class RowReport:
    rows_checked: int
    problems: list[dict[str, Any]]
    destroyed: list[dict[str, Any]]


def verify_rows(session: Session, last: dict[tuple[str, str], dict[str, Any]],
                case_id: str | None = None) -> RowReport:
    """Compare every row of every registered table (of one case, when ``case_id``) with ``last``,
    the last seal per (table, id) collected from the whole chain."""
    problems: list[dict[str, Any]] = []
    destroyed: list[dict[str, Any]] = []
    checked = 0
    seen: set[tuple[str, str]] = set()
    for table, spec in REGISTRY.items():
        if case_id is not None and not spec.scoped:
            continue  # rows of no case (monitoring reviews, posts) are not part of one case's file
        table_ = spec.model.__table__
        q = select(*[table_.c[f] for f in spec.fields])
        if case_id is not None and spec.case_column is not None:
            q = q.where(table_.c[spec.case_column] == case_id)
        for row in session.execute(q).mappings():
            values = dict(row)
            row_case = spec.case_of(_Values(values))
            if case_id is not None and row_case != case_id:
                continue
            checked += 1
            key = (table, str(values["id"]))
            seen.add(key)
            seal = last.get(key)
            problem = compare(spec, values, seal)
            if problem is not None:
                problems.append({"table": table, "id": key[1], "case_id": row_case, **problem})
            elif seal is not None and seal.get("destroyed"):
                destroyed.append(_destroyed(key, seal))
    for key, seal in sorted(last.items()):
        if key in seen or key[0] not in REGISTRY:
            continue
        if case_id is not None and seal.get("_case") != case_id:
            continue
        if seal.get("destroyed"):
            destroyed.append(_destroyed(key, seal))
            continue
        problem = compare(REGISTRY[key[0]], None, seal)
        if problem is not None:
            problems.append({"table": key[0], "id": key[1], "case_id": seal.get("_case"), **problem})
    return RowReport(rows_checked=checked, problems=problems, destroyed=destroyed)


def _destroyed(key: tuple[str, str], seal: dict[str, Any]) -> dict[str, Any]:
    d = seal["destroyed"]
    return {"table": key[0], "id": key[1], "case_id": seal.get("_case"), "schedule": d.get("schedule"),
            "on": d.get("on"), "status": f"destroyed under schedule {d.get('schedule')} on {d.get('on')}"}


def case_file_problems(session: Session, case_id: str) -> RowReport:
    """One case's rows compared with the last seals of the case's entire history."""
    last = {k: {**v, "_case": case_id} for k, v in _scope_map(session, case_id).items()}
    return verify_rows(session, last, case_id=case_id)


def _stored(session: Session, table: str, row_id: str) -> dict[str, Any] | None:
    spec = REGISTRY[table]
    t = spec.model.__table__
    with session.no_autoflush:
        row = session.execute(select(*[t.c[f] for f in spec.fields]).where(t.c.id == row_id)).mappings().first()
    return None if row is None else dict(row)


def stored_digest(session: Session, table: str, row_id: str) -> str | None:
    """The digest of the row as stored now (``None``: no such row)."""
    values = _stored(session, table, row_id)
    return None if values is None else digest(values, REGISTRY[table].fields)


def reseal(session: Session, table: str, row_id: str) -> dict[str, Any]:
    """A seal of the row as stored now (or of its absence), for a confirmed re-seal."""
    values = _stored(session, table, row_id)
    if values is None:
        return {"table": table, "id": row_id, "deleted": True}
    return seal_for(REGISTRY[table], row_id, values)


# --- the registry: every staff-visible record of the case file --------------------------------

LEGACY_CASE_FIELDS = ("id", "reference", "source", "state", "state_entered_at", "due_at", "department", "account_id",
                      "categories", "incident_key", "employee_id", "assignee", "dismissal_reason", "reopen_reason",
                      "finding", "finding_at", "severity", "recommendation", "decision", "outcome_summary",
                      "created_at", "closed_at")
LEGACY_ACTION_FIELDS = ("id", "case_id", "kind", "owner", "due_on", "status", "account_id", "evidence",
                        "completed_at", "result")

register(Case, case_column="id", legacy_fields=LEGACY_CASE_FIELDS)
register(CaseReport)
register(CaseNote)
register(CaseMessage)
register(CaseDecision)
register(RestorativeAction, legacy_fields=LEGACY_ACTION_FIELDS)
register(DueProcess)
register(CaseParty)
register(Review, case_column=None)
register(ReviewFinding)
register(MonitoredPost, case_column=None)
# issue 15 items 1 and 5: links and merges of cases, legal holds
register(CaseLink)
register(LegalHold)
