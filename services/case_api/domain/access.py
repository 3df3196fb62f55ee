"""Who may do and see what in case_api: the one access-policy module (issue 14, item 4).

Every read and write of a case goes through here: ``scope.visible_case`` asks ``ensure_visible``
and ``recusal``; the case document every caller receives is built by ``shape_case``; audit entries
are shown through ``shape_audit_entry``; the reporter's view is ``public_view``. The role x field
table is in docs/case_api.md ("Roles and what each sees"); ``FIELDS`` below is that table.

* Department-scoped roles (``department_director``, ``pio``) see only cases of their own
  department (the token's claim mapped through ``identity``'s aliases); anything else is
  ``NotFound`` (404), never 403, so existence does not leak.
* Recusal: the case's subject employee, anyone the case names as involved and any staff member who
  declared a conflict on it get ``Recused`` (rendered exactly as ``NotFound``; audited as
  ``case.recusal_refused``) for every read and write of the case.
* The employee's identity is visible only to ``investigator``, ``hr``, ``admin`` and the
  ``department_director`` of that department; every read of it is audited. Auditors never see it,
  in the case or in the audit trail. PIOs never see the disciplinary action (recommended or decided).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from services.case_api.domain import identity
from shared.auth import Principal, Role
from shared.errors import NotFound, ValidationFailed

STAFF: tuple[str, ...] = (Role.intake, Role.investigator, Role.hr, Role.department_director, Role.pio,
                          Role.auditor, Role.admin)
UNSCOPED: frozenset[str] = frozenset({Role.intake, Role.investigator, Role.hr, Role.auditor, Role.admin})
SCOPED: frozenset[str] = frozenset({Role.department_director, Role.pio})
EMPLOYEE_READERS_UNSCOPED: frozenset[str] = frozenset({Role.investigator, Role.hr, Role.admin})

# function-level permissions
CREATE_CASE = (Role.intake, Role.investigator, Role.admin)
TRIAGE = (Role.intake, Role.investigator, Role.admin)
INVESTIGATE = (Role.investigator, Role.admin)
ASSIGN = (Role.intake, Role.investigator, Role.admin)
IDENTIFY_EMPLOYEE = (Role.investigator, Role.hr, Role.admin)
NAME_INVOLVED = IDENTIFY_EMPLOYEE
DECIDE = (Role.hr, Role.department_director)
APPROVE_DECISION = (Role.hr, Role.department_director)
DECISION_HISTORY = (Role.investigator, Role.hr, Role.department_director, Role.auditor, Role.admin)
CLOSE = (Role.investigator, Role.hr, Role.department_director, Role.admin)
NOTE = (Role.intake, Role.investigator, Role.hr, Role.department_director, Role.pio, Role.admin)
MESSAGE_REPORTER = (Role.intake, Role.investigator)  # issue 14 item 5: only intake and investigators
RESTORATIVE_MANAGE = (Role.hr, Role.department_director, Role.admin)
RESTORATIVE_UPDATE = (Role.hr, Role.department_director, Role.pio, Role.admin)
CONTACT = (Role.investigator, Role.admin)
AUDIT = (Role.auditor, Role.admin)
DECLARE_CONFLICT = STAFF
METRICS = STAFF

# --- the role x field table (docs/case_api.md) ---------------------------------------------
# "employee": employee_id, the involved persons, the recommendation's priors and acknowledgement,
#             and any identity in the audit trail;
# "disciplinary": the recommended action, the recommended restorative actions and the decision.
EMPLOYEE, DISCIPLINARY = "employee", "disciplinary"
FIELDS: dict[str, frozenset[str]] = {
    Role.intake: frozenset({DISCIPLINARY}),
    Role.investigator: frozenset({EMPLOYEE, DISCIPLINARY}),
    Role.hr: frozenset({EMPLOYEE, DISCIPLINARY}),
    Role.department_director: frozenset({EMPLOYEE, DISCIPLINARY}),  # own department only
    Role.pio: frozenset(),
    Role.auditor: frozenset({DISCIPLINARY}),
    Role.admin: frozenset({EMPLOYEE, DISCIPLINARY}),
}
REDACTED = "[redacted]"
# audit detail keys that carry the employee's identity
IDENTITY_KEYS = frozenset({"employee_id", "priors", "policy", "person", "person_key"})


class Recused(NotFound):
    """The caller is the subject of the case, named as involved, or declared a conflict on it.
    Rendered exactly as ``NotFound("No such case.")``; the use-case boundary audits it."""

    def __init__(self, *, case_id: str, reason: str, what: str = "case") -> None:
        super().__init__(f"No such {what}.")
        self.case_id = case_id
        self.reason = reason


class RecusedAssignee(ValidationFailed):
    """Assigning a case to someone recused from it (422, audited as a recusal refusal)."""

    def __init__(self, *, case_id: str) -> None:
        super().__init__("This person may not be assigned to this case.")
        self.case_id = case_id
        self.reason = "assignee"


# --- departments ------------------------------------------------------------------------


def unscoped(principal: Principal) -> bool:
    return principal.has_any(*UNSCOPED)


def department_of(principal: Principal) -> str | None:
    """The token's department claim, mapped through the alias table ("parks" -> the Parks case)."""
    return identity.department(principal.department)


def visible_departments(principal: Principal) -> set[str] | None:
    """None means every department; otherwise the set the principal may see (maybe empty)."""
    if unscoped(principal):
        return None
    dept = department_of(principal)
    if principal.has_any(*SCOPED) and dept:
        return {dept}
    return set()


def can_see(principal: Principal, department: str | None) -> bool:
    deps = visible_departments(principal)
    return deps is None or (department is not None and identity.department(department) in deps)


def ensure_visible(principal: Principal, department: str | None, what: str = "case") -> None:
    if not can_see(principal, department):
        raise NotFound(f"No such {what}.")


def ensure_acts_in_department(principal: Principal, department: str | None, roles: tuple[str, ...]) -> None:
    """For actions by scoped roles (a director deciding, a PIO updating an action): the case must be
    in their department. Unscoped holders of ``roles`` may act anywhere."""
    if principal.has_any(*(r for r in roles if r in UNSCOPED)):
        return
    dept = department_of(principal)
    if dept is None or dept != identity.department(department):
        raise NotFound("No such case.")


# --- recusal ------------------------------------------------------------------------------


def recusal_reason(*, person: str | None, employee_id: str | None, parties: Iterable[tuple[str, str]]) -> str | None:
    """Why ``person`` (a subject or an employee id) is recused from a case, or None.
    ``parties``: (person_key, kind) of the case's involved persons and declared conflicts."""
    key = identity.person_key(person)
    if key is None:
        return None
    if employee_id is not None and identity.person_key(employee_id) == key:
        return "subject"
    for party_key, kind in parties:
        if party_key == key:
            return kind
    return None


def ensure_not_recused(principal: Principal, *, case_id: str, employee_id: str | None,
                       parties: Iterable[tuple[str, str]]) -> None:
    reason = recusal_reason(person=principal.subject, employee_id=employee_id, parties=parties)
    if reason is not None:
        raise Recused(case_id=case_id, reason=reason)


# --- fields -------------------------------------------------------------------------------


def sees(principal: Principal, what: str, department: str | None) -> bool:
    """Whether the principal's roles give them ``what`` ("employee", "disciplinary") on a case of
    ``department``. A director sees the employee of their own department only."""
    for role in principal.roles:
        if what not in FIELDS.get(role, frozenset()):
            continue
        if role == Role.department_director and what == EMPLOYEE:
            dept = department_of(principal)
            if dept is None or dept != identity.department(department):
                continue
        return True
    return False


def can_see_employee(principal: Principal, department: str | None) -> bool:
    return sees(principal, EMPLOYEE, department)


def may_read_employee(principal: Principal) -> bool:
    """Whether any case could show this principal the employee (their reads are audited)."""
    return any(EMPLOYEE in FIELDS.get(r, frozenset()) for r in principal.roles)


@dataclass(frozen=True)
class Visibility:
    employee: bool
    disciplinary: bool


def visibility(principal: Principal, department: str | None) -> Visibility:
    return Visibility(employee=sees(principal, EMPLOYEE, department),
                      disciplinary=sees(principal, DISCIPLINARY, department))


def shape_case(fields: dict[str, Any], seen: Visibility) -> dict[str, Any]:
    """The case document as a caller with ``seen`` may read it (``fields``: the row's columns)."""
    out = dict(fields)
    rec = dict(out["recommendation"]) if out.get("recommendation") else None
    if not seen.employee:
        out["employee_id"] = None
        out["involved"] = []
        if rec:
            rec.pop("priors", None)  # other cases of the same employee would identify them
            rec.pop("policy", None)
    if not seen.disciplinary:
        out["decision"] = None
        if rec:
            rec.pop("action", None)
            rec.pop("restorative", None)
    out["recommendation"] = rec
    out["employee_visible"] = seen.employee
    out["disciplinary_visible"] = seen.disciplinary
    return out


def _scrub(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if k in IDENTITY_KEYS else _scrub(v, keys)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, keys) for v in value]
    if isinstance(value, str) and identity.person_key(value) in keys:
        return REDACTED
    return value


def shape_audit_entry(entry: dict[str, Any], *, seen: Visibility, identities: Iterable[str | None]) -> dict[str, Any]:
    """An audit entry as the caller may read it. Without the employee: identity keys of the detail
    and any string naming the subject or an involved person (the actor of a recusal refusal, the
    from/to of an identification) read ``[redacted]``. Without disciplinary: the decision's action."""
    out = dict(entry)
    if not seen.employee:
        keys = frozenset(k for k in (identity.person_key(i) for i in identities) if k)
        out["detail"] = _scrub(out.get("detail") or {}, keys)
        # seals carry per-column hashes: one of the employee's id could be confirmed by guessing
        out["detail"].pop("seals", None)
        if identity.person_key(out.get("actor")) in keys:
            out["actor"] = REDACTED
        if out.get("action") == "case.employee_identified":
            out["detail"] = {k: REDACTED if k in ("from", "to") else v for k, v in out["detail"].items()}
        out["redacted"] = True
    if not seen.disciplinary and str(out.get("action", "")).startswith("case.decision"):
        out["detail"] = {k: v for k, v in (out.get("detail") or {}).items() if k in ("seals",)}
        out["redacted"] = True
    return out


def require_public_outcome(outcome_summary: str | None) -> None:
    """A dismissal always tells the reporter something: 422 without a public outcome text."""
    if not (outcome_summary or "").strip():
        raise ValidationFailed("A dismissal needs a public outcome: the text the reporter will read.",
                               errors=[{"loc": ["body", "outcome_summary"], "msg": "required when dismissing",
                                        "type": "value_error"}])


def public_view(*, status: str | None, outcome_summary: str | None) -> dict[str, str | None]:
    """All the reporter ever receives about the case: its public status and the public outcome text."""
    return {"status": status, "outcome_summary": outcome_summary}
