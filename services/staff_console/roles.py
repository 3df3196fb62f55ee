"""Which actions the console offers to which roles. This only hides what the API would refuse;
the APIs decide (a hidden form's request is still answered 403 or 404 by them). Mirrors
case_api's ``domain/access.py`` and policy_api's ``routers/_common.py``."""

from __future__ import annotations

from collections.abc import Iterable

CASE_STAFF = {"intake", "investigator", "hr", "department_director", "pio", "auditor", "admin"}
TRIAGE = {"intake", "investigator", "admin"}
INVESTIGATE = {"investigator", "admin"}
ASSIGN = {"intake", "investigator", "admin"}
IDENTIFY_EMPLOYEE = {"investigator", "hr", "admin"}
DECIDE = {"hr", "department_director"}
CLOSE = {"investigator", "hr", "department_director", "admin"}
REOPEN = {"investigator", "hr", "admin"}
NOTE = {"intake", "investigator", "hr", "department_director", "pio", "admin"}
MESSAGE_REPORTER = {"intake", "investigator"}  # case_api: only they write to a reporter
RESTORATIVE_MANAGE = {"hr", "department_director", "admin"}
RESTORATIVE_UPDATE = {"hr", "department_director", "pio", "admin"}
AUDIT = {"auditor", "admin"}
MONITOR_READ = {"monitor", *CASE_STAFF}
MONITOR_WRITE = {"monitor", "admin"}

POLICY_STAFF = {"policy_editor", "policy_approver", "records_manager", "admin"}
POLICY_EDIT = POLICY_STAFF
POLICY_APPROVE = {"policy_approver", "admin"}
POLICY_PUBLISH = {"policy_approver", "records_manager", "admin"}
RECORDS = {"records_manager", "admin"}

# policy_api version actions -> the roles that may take them
VERSION_ACTIONS = {"submit": POLICY_EDIT, "return": POLICY_APPROVE, "approve": POLICY_APPROVE,
                   "publish": POLICY_PUBLISH, "retire": POLICY_PUBLISH}


def transition_roles(target: str) -> set[str]:
    if target in ("triaged", "dismissed"):
        return TRIAGE
    if target == "investigating":
        return INVESTIGATE
    return CLOSE


def may(roles: Iterable[str], allowed: Iterable[str]) -> bool:
    return not set(allowed).isdisjoint(roles)
