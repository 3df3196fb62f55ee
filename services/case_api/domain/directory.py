"""Migrating existing free-text identities to their keys (issue 14, item 1).

Cases written before ``identity`` kept employee ids, assignees and departments as typed. This
use-case rewrites each case whose values are not canonical, one audited, re-sealed change per case
(``case.keys_canonicalised``), so the audit chain and the row seals stay valid; monitored accounts
and reviews get their department mapped too. It reports what it could not map (departments the
alias table does not know) and the cases it refused to touch because their row no longer matches
its seal (an edit outside the application is never laundered). Idempotent: run it again after
adding an alias. ``civicsocial cases canonicalise`` runs it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from services.case_api.domain import audit, identity
from services.case_api.domain.models import Case, MonitoredAccount, Review
from shared.db import Database


@dataclass
class CanonicalReport:
    cases_checked: int = 0
    cases_changed: int = 0
    accounts_changed: int = 0
    reviews_changed: int = 0
    unmapped_departments: dict[str, int] = field(default_factory=dict)
    skipped_unsealed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"cases_checked": self.cases_checked, "cases_changed": self.cases_changed,
                "accounts_changed": self.accounts_changed, "reviews_changed": self.reviews_changed,
                "unmapped_departments": self.unmapped_departments, "skipped_unsealed": self.skipped_unsealed}


def canonicalise_existing(db: Database, *, now: datetime, actor: str = "service:case_api",
                          batch: int = 500) -> CanonicalReport:
    report = CanonicalReport()
    unmapped: Counter[str] = Counter()
    last = ""
    while True:
        with db.write() as s:
            rows = list(s.exec(select(Case).where(col(Case.id) > last).order_by(col(Case.id)).limit(batch)))
            if not rows:
                break
            last = rows[-1].id
            for case in rows:
                report.cases_checked += 1
                mapped = identity.map_department(case.department)
                if not mapped.known and mapped.value:
                    unmapped[mapped.value] += 1
                changes: dict[str, dict[str, str | None]] = {}
                for name, value in (("employee_id", identity.person_key(case.employee_id)),
                                    ("assignee", identity.person_key(case.assignee)), ("department", mapped.value)):
                    if getattr(case, name) != value:
                        changes[name] = {"from": getattr(case, name), "to": value}
                if not changes:
                    continue
                if not audit.is_sealed(s, case):
                    report.skipped_unsealed.append(case.id)
                    continue
                for name, change in changes.items():
                    setattr(case, name, change["to"])
                s.add(case)
                s.flush()
                audit.append(s, actor=actor, action="case.keys_canonicalised", case_id=case.id, detail=changes,
                             now=now, seal=[case])
                report.cases_changed += 1
    with db.write() as s:
        for account in s.exec(select(MonitoredAccount)):
            dept = identity.department(account.department) or account.department
            if dept != account.department:
                account.department = dept
                s.add(account)
                report.accounts_changed += 1
        for review in s.exec(select(Review)):
            dept = identity.department(review.department) or review.department
            if dept != review.department:
                review.department = dept
                s.add(review)
                report.reviews_changed += 1
    report.unmapped_departments = dict(sorted(unmapped.items()))
    return report
