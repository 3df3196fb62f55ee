"""The queue, case search and the case page, over case_api (and policy_api for account names)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from services.staff_console import roles as R
from services.staff_console.messages import t
from services.staff_console.upstream import ApiProblem
from services.staff_console.web import Form, User, UserApi, opt, render, submit
from shared.web.routing import APIRouter

router = APIRouter()

STATES = ["received", "triaged", "investigating", "finding_recorded", "actions", "closed", "dismissed"]
FINDINGS = ["sustained", "not_sustained", "unfounded", "exonerated"]
ACTIONS = ["retraining", "verbal_counseling", "written_reprimand", "suspension", "termination"]
RESTORATIVE_KINDS = ["public_correction", "public_apology", "post_removal", "privilege_revocation",
                     "retraining_completion", "trust_rebuilding_plan"]
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _roles(session: Any) -> set[str]:
    return set(session.who["roles"])


@router.get("/queue")
def queue(request: Request, session: User, api: UserApi) -> Response:
    me = session.who["subject"]
    lists = {
        "new": api.get("case_api", "/v1/cases", state="received", limit=25),
        "due_soon": api.get("case_api", "/v1/cases/due-soon", limit=25),
        "overdue": api.get("case_api", "/v1/cases/overdue", limit=25),
        "mine": api.get("case_api", "/v1/cases", assignee=me, limit=25),
    }
    return render(request, "queue.html", lists=lists)


@router.get("/cases")
def search(request: Request, session: User, api: UserApi, state: str | None = None, department: str | None = None,
           assignee: str | None = None, offset: int = 0) -> Response:
    state = state if state in STATES else None
    page = api.get("case_api", "/v1/cases", state=state, department=department, assignee=assignee, limit=25,
                   offset=max(0, min(offset, 1_000_000)))
    return render(request, "search.html", page=page, states=STATES,
                  filters={"state": state or "", "department": department or "", "assignee": assignee or ""})


@router.get("/cases/{case_id}")
def case_page(request: Request, session: User, api: UserApi, case_id: str) -> Response:
    roles = _roles(session)
    base = f"/v1/cases/{case_id}"
    case = api.get("case_api", base)
    notes = api.get("case_api", base + "/notes")
    messages = api.get("case_api", base + "/messages")
    actions = api.get("case_api", base + "/restorative-actions")
    audit = api.get("case_api", f"/v1/audit/cases/{case_id}") if R.may(roles, R.AUDIT) else None
    ladder = None
    if case["state"] == "investigating" and R.may(roles, R.INVESTIGATE):
        ladder = api.get("case_api", "/v1/ladder")
    account = None
    if case.get("account_id"):
        try:
            account = api.get("policy_api", f"/v1/accounts/{case['account_id']}")
        except ApiProblem:
            account = None
    transitions = [s for s in case.get("allowed_transitions", [])
                   if R.may(roles, R.transition_roles(s)) and s not in ("finding_recorded", "actions")]
    # finding_recorded is reached by the finding form, actions by recording the decision
    return render(request, "case.html", case=case, notes=notes, messages=messages, actions=actions, audit=audit,
                  ladder=ladder, account=account, transitions=transitions, findings=FINDINGS,
                  decision_actions=ACTIONS, restorative_kinds=RESTORATIVE_KINDS, image_types=IMAGE_TYPES)


def _back(case_id: str) -> str:
    return f"/cases/{case_id}"


@router.post("/cases/{case_id}/transition")
def transition(request: Request, session: User, api: UserApi, form: Form, case_id: str) -> Response:
    body = {"to": str(form.get("to") or ""), "reason": opt(form, "reason"), "department": opt(form, "department"),
            "outcome_summary": opt(form, "outcome_summary")}
    return submit(request, form_id="transition", back=_back(case_id), form=form,
                  call=lambda: api.post("case_api", f"/v1/cases/{case_id}/transitions", body),
                  success=t("case.transition.done", state=t(f"state.{body['to']}")))


@router.post("/cases/{case_id}/reopen")
def reopen(request: Request, session: User, api: UserApi, form: Form, case_id: str) -> Response:
    return submit(request, form_id="reopen", back=_back(case_id), form=form,
                  call=lambda: api.post("case_api", f"/v1/cases/{case_id}/reopen", {"reason": opt(form, "reason")}),
                  success=t("case.reopen.done"))


@router.post("/cases/{case_id}/assign")
def assign(request: Request, session: User, api: UserApi, form: Form, case_id: str) -> Response:
    assignee = opt(form, "assignee")
    return submit(request, form_id="assign", back=_back(case_id), form=form,
                  call=lambda: api.post("case_api", f"/v1/cases/{case_id}/assignee", {"assignee": assignee}),
                  success=t("case.assign.done", who=assignee) if assignee else t("case.assign.cleared"))


@router.post("/cases/{case_id}/employee")
def employee(request: Request, session: User, api: UserApi, form: Form, case_id: str) -> Response:
    return submit(request, form_id="employee", back=_back(case_id), form=form,
                  call=lambda: api.post("case_api", f"/v1/cases/{case_id}/employee",
                                        {"employee_id": opt(form, "employee_id")}),
                  success=t("case.employee.done"))


@router.post("/cases/{case_id}/finding")
def finding(request: Request, session: User, api: UserApi, form: Form, case_id: str) -> Response:
    severity = opt(form, "severity")
    body = {"finding": str(form.get("finding") or ""), "summary": opt(form, "summary"),
            "severity": int(severity) if severity and severity.isdigit() else severity}
    return submit(request, form_id="finding", back=_back(case_id), form=form,
                  call=lambda: api.post("case_api", f"/v1/cases/{case_id}/finding", body),
                  success=t("case.finding.done"))


@router.post("/cases/{case_id}/decision")
def decision(request: Request, session: User, api: UserApi, form: Form, case_id: str) -> Response:
    body = {"action": str(form.get("action") or ""), "justification": opt(form, "justification")}
    return submit(request, form_id="decision", back=_back(case_id), form=form,
                  call=lambda: api.post("case_api", f"/v1/cases/{case_id}/decision", body),
                  success=t("case.decision.done"))


@router.post("/cases/{case_id}/notes")
def add_note(request: Request, session: User, api: UserApi, form: Form, case_id: str) -> Response:
    return submit(request, form_id="note", back=_back(case_id), form=form,
                  call=lambda: api.post("case_api", f"/v1/cases/{case_id}/notes", {"body": opt(form, "body") or ""}),
                  success=t("case.note.done"))


@router.post("/cases/{case_id}/messages")
def add_message(request: Request, session: User, api: UserApi, form: Form, case_id: str) -> Response:
    return submit(request, form_id="message", back=_back(case_id), form=form,
                  call=lambda: api.post("case_api", f"/v1/cases/{case_id}/messages",
                                        {"body": opt(form, "body") or "", "report_id": opt(form, "report_id")}),
                  success=t("case.message.done"))


@router.post("/cases/{case_id}/restorative")
def add_restorative(request: Request, session: User, api: UserApi, form: Form, case_id: str) -> Response:
    body = {"kind": str(form.get("kind") or ""), "owner": opt(form, "owner") or "", "due_on": opt(form, "due_on"),
            "description": opt(form, "description"), "account_id": opt(form, "account_id")}
    return submit(request, form_id="restorative", back=_back(case_id), form=form,
                  call=lambda: api.post("case_api", f"/v1/cases/{case_id}/restorative-actions", body),
                  success=t("case.restorative.done"))


@router.post("/cases/{case_id}/restorative/{action_id}")
def update_restorative(request: Request, session: User, api: UserApi, form: Form, case_id: str,
                       action_id: str) -> Response:
    body = {"status": str(form.get("status") or ""), "evidence": opt(form, "evidence")}
    return submit(request, form_id=f"ra-{action_id}", back=_back(case_id), form=form,
                  call=lambda: api.post("case_api", f"/v1/restorative-actions/{action_id}/status", body),
                  success=t("case.restorative.updated"))


@router.get("/cases/{case_id}/evidence/{evidence_id}")
def evidence(request: Request, session: User, api: UserApi, case_id: str, evidence_id: str) -> Response:
    """An evidence file through the console (case_api strips metadata and audits the read): images
    shown in the page, anything else downloaded, never rendered by the browser as a document."""
    upstream = api.raw("case_api", f"/v1/cases/{case_id}/evidence/{evidence_id}")
    media = upstream.headers.get("content-type", "application/octet-stream").split(";")[0].strip().lower()
    inline = media in IMAGE_TYPES
    headers = {"content-disposition": ("inline" if inline else "attachment") + f'; filename="evidence-{evidence_id}"',
               "content-security-policy": "default-src 'none'; sandbox", "x-content-type-options": "nosniff"}
    return Response(upstream.content, media_type=media if inline else "application/octet-stream", headers=headers)
