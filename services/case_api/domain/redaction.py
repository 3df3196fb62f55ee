"""Redaction of a case file for a public-records (IPRA) export: the rule table of docs/records.md
as data, and one pure function applying it. Every redaction is logged (rule, where, what) and the
log travels with the export (in the PDF and in the manifest).

The patterns are deliberately broad (any e-mail address, anything shaped like a US phone number,
any @handle): a false positive costs a word of a public record, a false negative a resident's
contact. Machinery of our own because the rules are this City's (docs/records.md); the parsing
is the standard library's ``re``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from services.case_api.domain.casefile import CaseFile


@dataclass(frozen=True)
class Rule:
    id: str
    what: str
    authority: str


RULES: tuple[Rule, ...] = (
    Rule("R1", "Reporter identity and contact: whether a contact was given, and any e-mail address, phone "
               "number or @handle in the reports' text, the case summary and links",
         "R-24-89 (reporters are never identified); IPRA, NMSA 1978 §§ 14-2-1.1 and 14-2-6 (protected "
         "personal identifier information) and § 14-2-1 (as otherwise provided by law)"),
    Rule("R2", "Correspondence with the reporter (messages both ways): withheld",
         "R-24-89 (reporter anonymity); the correspondence identifies the reporter by its content"),
    Rule("R3", "Personnel matters: the employee concerned and others the case names, the finding, severity, "
               "recommended and decided discipline, decisions and amendments, due process, internal notes, "
               "and the details of audit entries",
         "IPRA, NMSA 1978 § 14-2-1: letters or memoranda that are matters of opinion in personnel files"),
    Rule("R4", "Evidence files: not included; listed by id, type, size and SHA-256 only (a screenshot may show "
               "the reporter's own account)", "R-24-89 (reporter anonymity)"),
)
RULE = {r.id: r for r in RULES}
MARK = "[redacted {rule}]"

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\w)(?:\+?1[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)")
HANDLE = re.compile(r"(?<![\w/])@[A-Za-z0-9_.]{2,30}")


def _scrub(text: str | None, where: str, log: list[dict[str, Any]]) -> str | None:
    if not text:
        return text
    out = text
    for name, pattern in (("e-mail address", EMAIL), ("phone number", PHONE), ("@handle", HANDLE)):
        found = len(pattern.findall(out))
        if found:
            out = pattern.sub(MARK.format(rule="R1"), out)
            log.append(_entry("R1", where, f"{found} {name}(s)"))
    return out


def _entry(rule: str, where: str, what: str) -> dict[str, Any]:
    return {"rule": rule, "where": where, "what": what, "authority": RULE[rule].authority}


def redact(doc: CaseFile) -> CaseFile:
    """The public-records copy of a case file built with neither the employee nor the discipline
    visible (``access.Visibility(False, False)``), with the rules above applied and logged."""
    log: list[dict[str, Any]] = []
    case = doc.case.model_copy()
    case.summary = _scrub(case.summary, "case summary", log) or ""
    case.links = [_scrub(x, "case links", log) or "" for x in case.links]
    case.outcome_summary = _scrub(case.outcome_summary, "outcome summary", log)
    withheld = {k: getattr(case, k) for k in ("employee_id", "involved", "finding", "finding_at", "severity",
                                               "recommendation", "decision", "dismissal_reason", "reopen_reason")}
    if any(v not in (None, [], "") for v in withheld.values()):
        log.append(_entry("R3", "case", "employee, involved persons, finding, severity, recommendation, decision, "
                                        "dismissal and reopening reasons"))
    case.employee_id, case.involved, case.finding, case.finding_at, case.severity = None, [], None, None, None
    case.recommendation, case.decision, case.dismissal_reason, case.reopen_reason = None, None, None, None
    reports = []
    for i, r in enumerate(doc.reports, 1):
        r = r.model_copy()
        where = f"report {i} ({r.reference})"
        if r.has_contact:
            log.append(_entry("R1", where, "whether the reporter gave a contact"))
        r.has_contact = False
        r.description = _scrub(r.description, where + " text", log)
        r.links = [_scrub(x, where + " links", log) or "" for x in r.links]
        reports.append(r)
    if doc.messages:
        log.append(_entry("R2", "messages", f"{len(doc.messages)} message(s) with the reporter withheld"))
    if doc.notes:
        log.append(_entry("R3", "internal notes", f"{len(doc.notes)} note(s) withheld"))
    if doc.decisions:
        log.append(_entry("R3", "decisions", f"{len(doc.decisions)} decision record(s) withheld"))
    timeline = [t.model_copy(update={"detail": {}}) for t in doc.timeline]
    if any(t.detail for t in doc.timeline):
        log.append(_entry("R3", "timeline", "details of the audit entries (kept: number, time, actor, action, hash)"))
    actions = [a.model_copy(update={"description": _scrub(a.description, "restorative action", log),
                                    "evidence": _scrub(a.evidence, "restorative action evidence", log)})
               for a in doc.restorative_actions]
    links = [x.model_copy(update={"reason": _scrub(x.reason, "linked case reason", log) or ""})
             for x in doc.linked_cases]
    if doc.evidence:
        log.append(_entry("R4", "evidence", f"{len(doc.evidence)} file(s) listed by hash, not included"))
    return doc.model_copy(update={
        "audience": "public_records", "employee_visible": False, "disciplinary_visible": False, "case": case,
        "reports": reports, "notes": [], "messages": [], "decisions": [], "timeline": timeline,
        "restorative_actions": actions, "linked_cases": links, "redactions": log,
    })
