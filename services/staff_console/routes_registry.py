"""The registry of official accounts and their posting privileges, over policy_api."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from services.staff_console import roles as R
from services.staff_console.messages import t
from services.staff_console.web import Form, User, UserApi, opt, render, submit
from shared.web.routing import APIRouter

router = APIRouter()
STATUSES = ["active", "suspended", "retired"]


@router.get("/registry")
def registry(request: Request, session: User, api: UserApi, status: str | None = None,
             department: str | None = None, offset: int = 0) -> Response:
    status = status if status in STATUSES else None
    page = api.get("policy_api", "/v1/accounts", status=status, department=department, limit=50,
                   offset=max(0, min(offset, 1_000_000)))
    return render(request, "registry.html", page=page, statuses=STATUSES,
                  filters={"status": status or "", "department": department or ""})


@router.get("/registry/{account_id}")
def account(request: Request, session: User, api: UserApi, account_id: str) -> Response:
    item = api.get("policy_api", f"/v1/accounts/{account_id}")
    privileges = history = None
    if R.may(set(session.who["roles"]), R.RECORDS):
        privileges = api.get("policy_api", f"/v1/accounts/{account_id}/privileges", include_inactive="true",
                             limit=100)
        history = api.get("policy_api", f"/v1/accounts/{account_id}/privileges/history", limit=100)
    return render(request, "account_detail.html", account=item, privileges=privileges, history=history)


@router.post("/registry/{account_id}/privileges/{action}")
def privilege(request: Request, session: User, api: UserApi, form: Form, account_id: str, action: str) -> Response:
    action = "grant" if action == "grant" else "revoke"
    body = {"employee_id": opt(form, "employee_id") or "", "reason": opt(form, "reason") or "",
            "case_reference": opt(form, "case_reference")}
    return submit(request, form_id=action, back=f"/registry/{account_id}", form=form,
                  call=lambda: api.post("policy_api", f"/v1/accounts/{account_id}/privileges/{action}", body),
                  success=t(f"registry.{action}.done", who=body["employee_id"]))
