"""Who may do and see what in case_api (object-level authorisation lives here).

* Department-scoped roles (``department_director``, ``pio``) see only cases of their own
  department; anything else is ``NotFound`` (404), never 403, so existence does not leak.
* The employee who posted is visible only to ``investigator``, ``hr``, ``admin`` and the
  ``department_director`` of that department. Every read of it is audited.
"""

from __future__ import annotations

from shared.auth import Principal, Role
from shared.errors import NotFound

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
DECIDE = (Role.hr, Role.department_director)
CLOSE = (Role.investigator, Role.hr, Role.department_director, Role.admin)
NOTE = (Role.intake, Role.investigator, Role.hr, Role.department_director, Role.pio, Role.admin)
MESSAGE_REPORTER = (Role.intake, Role.investigator, Role.pio, Role.admin)
RESTORATIVE_MANAGE = (Role.hr, Role.department_director, Role.admin)
RESTORATIVE_UPDATE = (Role.hr, Role.department_director, Role.pio, Role.admin)
AUDIT = (Role.auditor, Role.admin)
METRICS = STAFF


def unscoped(principal: Principal) -> bool:
    return principal.has_any(*UNSCOPED)


def visible_departments(principal: Principal) -> set[str] | None:
    """None means every department; otherwise the set the principal may see (maybe empty)."""
    if unscoped(principal):
        return None
    if principal.has_any(*SCOPED) and principal.department:
        return {principal.department}
    return set()


def can_see(principal: Principal, department: str | None) -> bool:
    deps = visible_departments(principal)
    return deps is None or (department is not None and department in deps)


def ensure_visible(principal: Principal, department: str | None, what: str = "case") -> None:
    if not can_see(principal, department):
        raise NotFound(f"No such {what}.")


def can_see_employee(principal: Principal, department: str | None) -> bool:
    if principal.has_any(*EMPLOYEE_READERS_UNSCOPED):
        return True
    return (principal.has_any(Role.department_director) and principal.department is not None
            and principal.department == department)


def ensure_acts_in_department(principal: Principal, department: str | None, roles: tuple[str, ...]) -> None:
    """For actions by scoped roles (a director deciding, a PIO updating an action): the case must be
    in their department. Unscoped holders of ``roles`` may act anywhere."""
    if principal.has_any(*(r for r in roles if r in UNSCOPED)):
        return
    if principal.department is None or principal.department != department:
        raise NotFound("No such case.")
