"""Sign-in and sign-out. Dev: a picker (role, department, person) that signs a dev token.
Production: OIDC Authorization Code with PKCE (``oidc.py``)."""

from __future__ import annotations

import time
from typing import Any

import structlog
from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from services.staff_console import roles as R
from services.staff_console.messages import t
from services.staff_console.upstream import Api, ApiProblem
from services.staff_console.web import Form, User, opt, redirect, render, session_of
from shared.web.routing import APIRouter

router = APIRouter()
log = structlog.get_logger("staff_console.auth")

DEV_ROLES = ["intake", "investigator", "hr", "department_director", "pio", "auditor", "monitor",
             "policy_editor", "policy_approver", "records_manager", "admin"]


def _safe_next(value: str | None) -> str:
    """Only a local path: never an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def home_for(roles: set[str]) -> str:
    if R.may(roles, R.CASE_STAFF):
        return "/queue"
    if R.may(roles, R.MONITOR_WRITE):
        return "/monitoring"
    if R.may(roles, R.POLICY_STAFF):
        return "/policies"
    return "/account"


def _whoami(request: Request, token: str) -> dict[str, Any]:
    """Who the APIs say this token is (case_api's verifier; policy_api's is configured alike)."""
    me = Api(request.app.state.peers, token).get("case_api", "/auth/whoami")
    return {"subject": me["subject"], "roles": sorted(me.get("roles") or []), "department": me.get("department")}


@router.get("/", include_in_schema=False)
def index(request: Request) -> Response:
    session = session_of(request)
    if session.user:
        return redirect(home_for(set(session.who["roles"])))
    return redirect("/login")


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    settings = request.app.state.settings
    return render(request, "login.html", next=_safe_next(next), dev_roles=DEV_ROLES,
                  departments=settings.dev_departments)


@router.post("/login")
def dev_login(request: Request, form: Form) -> Response:
    settings = request.app.state.settings
    session = session_of(request)
    if settings.mode != "dev":
        return redirect("/login")
    role = str(form.get("role") or "")
    department = opt(form, "department")
    subject = opt(form, "subject") or ""
    errors = []
    if role not in DEV_ROLES:
        errors.append(["role", t("login.error.role")])
    if department is not None and department not in settings.dev_departments:
        errors.append(["department", t("login.error.department")])
    if not subject or len(subject) > 100:
        errors.append(["subject", t("login.error.subject")])
    if errors:
        session.form = {"id": "login", "status": 422, "detail": t("login.error.summary"), "errors": errors,
                        "values": {"role": role, "department": department or "", "subject": subject,
                                   "next": str(form.get("next") or "")}}
        return redirect("/login")
    user: dict[str, Any] = {"subject": subject, "roles": [role], "department": department}
    token, expires = request.app.state.tokens.dev_token(user)
    try:
        user = _whoami(request, token)
    except ApiProblem as problem:
        session.form = {"id": "login", "status": problem.status, "detail": t("login.error.refused"),
                        "errors": [], "values": {}}
        return redirect("/login")
    session.sign_in(user=user, access_token=token, refresh_token=None, expires_at=expires, now=time.time())
    log.info("signed_in", mode="dev", subject=user["subject"], roles=user["roles"])
    nxt = _safe_next(str(form.get("next") or ""))
    return redirect(nxt if nxt != "/" else home_for(set(user["roles"])))


@router.get("/auth/login")
def oidc_login(request: Request, next: str | None = None) -> Response:
    session = session_of(request)
    url, pending = request.app.state.oidc.begin(_safe_next(next))
    session.login = pending
    return RedirectResponse(url, status_code=303)


@router.get("/auth/callback")
def oidc_callback(request: Request) -> Response:
    session = session_of(request)
    pending = session.login
    session.login = None
    params = request.query_params
    if (pending is None or time.time() - float(pending.get("started", 0)) > 600
            or params.get("state") != pending.get("state")):
        return render(request, "error.html", status_code=400, title_key="error.login.title",
                      detail_key="error.login.state")
    if params.get("error"):
        return render(request, "error.html", status_code=400, title_key="error.login.title",
                      detail_key="error.login.refused")
    callback = request.app.state.settings.public_base_url.rstrip("/") + "/auth/callback?" + str(params)
    try:
        token = request.app.state.oidc.finish(pending, callback)
        user = _whoami(request, token["access_token"])
    except Exception as exc:  # noqa: BLE001 - the IdP or the API refused: say so, log the kind
        log.warning("oidc_callback_failed", error=type(exc).__name__)
        return render(request, "error.html", status_code=400, title_key="error.login.title",
                      detail_key="error.login.refused")
    session.sign_in(user=user, access_token="", refresh_token=None, expires_at=None, now=time.time())
    request.app.state.tokens.store(session, token)
    log.info("signed_in", mode="oidc", subject=user["subject"], roles=user["roles"])
    nxt = _safe_next(pending.get("next"))
    return redirect(nxt if nxt != "/" else home_for(set(user["roles"])))


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    request.state.session_ended = True
    return redirect("/login?signed_out=1")


@router.get("/account")
def account(request: Request, session: User) -> Response:
    return render(request, "account.html")


@router.get("/not-available/{what}")
def not_available(request: Request, session: User, what: str) -> Response:
    if what not in ("records", "council-report", "due-process"):
        return render(request, "error.html", status_code=404, title_key="error.notfound.title",
                      detail_key="error.notfound.detail")
    return render(request, "not_available.html", what=what)
