"""Monitoring reviews (R-24-89 §1.A.5) over case_api: each sampled post with its text, links,
Albuquerque time, account, comment thread, screenshot link, risk score and the rules it matched;
and the PIOs' draft check (POST /v1/drafts/check), which stores nothing."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from services.staff_console.messages import t
from services.staff_console.upstream import ApiProblem
from services.staff_console.web import Form, User, UserApi, opt, render, submit
from shared.web.routing import APIRouter

router = APIRouter()


@router.get("/monitoring")
def monitoring(request: Request, session: User, api: UserApi, within_days: int = 30) -> Response:
    within_days = max(1, min(within_days, 366))
    due = api.get("case_api", "/v1/monitoring/reviews/due", within_days=within_days, limit=50)
    overdue = api.get("case_api", "/v1/monitoring/reviews/overdue", limit=50)
    in_progress = api.get("case_api", "/v1/monitoring/reviews", status="in_progress", limit=50)
    return render(request, "monitoring.html", due=due, overdue=overdue, in_progress=in_progress,
                  within_days=within_days, handles=_handles(api))


def _handles(api: UserApi) -> dict[str, str]:
    """Account id -> handle, from the public registry (one page of 100; ids beyond show as ids)."""
    page = api.get("policy_api", "/v1/accounts", limit=100)
    return {a["id"]: f"{a['handle']} ({a['platform']})" for a in page.get("items", [])}


@router.get("/monitoring/reviews/{review_id}")
def review(request: Request, session: User, api: UserApi, review_id: str) -> Response:
    item = api.get("case_api", f"/v1/monitoring/reviews/{review_id}")
    findings = api.get("case_api", f"/v1/monitoring/reviews/{review_id}/findings")
    by_cell = {(f["post_id"], f["item_key"]): f for f in findings}
    total = len(item.get("sample") or []) * len(item.get("checklist") or [])
    posts = api.get("case_api", f"/v1/monitoring/reviews/{review_id}/posts") if item.get("sample") else []
    return render(request, "review.html", review=item, by_cell=by_cell, done=len(by_cell), total=total,
                  handles=_handles(api), posts=posts)


MAX_DRAFT = 5000


@router.get("/drafts")
def drafts(request: Request, session: User) -> Response:
    return render(request, "drafts.html", result=None, text="", replying_to="")


@router.post("/drafts")
def check_draft(request: Request, session: User, api: UserApi, form: Form) -> Response:
    """Rendered in the answer itself (no redirect, no flash): the draft is kept nowhere, not even
    in the console's session."""
    text = str(form.get("text") or "")[:MAX_DRAFT]
    replying_to = str(form.get("replying_to") or "")[:MAX_DRAFT]
    error = None
    result = None
    if not text.strip():
        error = t("drafts.empty")
    else:
        try:
            result = api.post("case_api", "/v1/drafts/check", {"text": text, "replying_to": replying_to or None})
        except ApiProblem as problem:
            if problem.status in (401,):
                raise
            error = problem.detail
    response = render(request, "drafts.html", result=result, text=text, replying_to=replying_to, error=error,
                      status_code=422 if error else 200)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/monitoring/reviews/{review_id}/start")
def start(request: Request, session: User, api: UserApi, form: Form, review_id: str) -> Response:
    size = opt(form, "sample_size") or "10"
    body = {"sample_size": int(size) if size.isdigit() else size, "reviewer": session.who["subject"]}
    return submit(request, form_id="start", back=f"/monitoring/reviews/{review_id}", form=form,
                  call=lambda: api.post("case_api", f"/v1/monitoring/reviews/{review_id}/start", body),
                  success=t("review.start.done"))


@router.post("/monitoring/reviews/{review_id}/findings")
def add_finding(request: Request, session: User, api: UserApi, form: Form, review_id: str) -> Response:
    post_id = str(form.get("post_id") or "")
    item_key = str(form.get("item_key") or "")
    body = {"post_id": post_id, "item_key": item_key, "result": str(form.get("result") or ""),
            "note": opt(form, "note")}
    return submit(request, form_id=f"f-{post_id}-{item_key}", back=f"/monitoring/reviews/{review_id}", form=form,
                  call=lambda: api.post("case_api", f"/v1/monitoring/reviews/{review_id}/findings", body),
                  success=t("review.finding.done"))


@router.post("/monitoring/reviews/{review_id}/complete")
def complete(request: Request, session: User, api: UserApi, form: Form, review_id: str) -> Response:
    return submit(request, form_id="complete", back=f"/monitoring/reviews/{review_id}", form=form,
                  call=lambda: api.post("case_api", f"/v1/monitoring/reviews/{review_id}/complete"),
                  success=t("review.complete.done"))
