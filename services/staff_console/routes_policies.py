"""Policies over policy_api: the list, drafting a version section by section, the R-24-89
completeness checklist, submit / approve / publish (the two-person rule is policy_api's), diffs."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from services.staff_console import roles as R
from services.staff_console.messages import t
from services.staff_console.web import Form, User, UserApi, opt, redirect, render, submit
from shared.web.routing import APIRouter

router = APIRouter()
KINDS = ["social_media_policy", "administrative_instruction", "department_guideline", "other"]


@router.get("/policies")
def policies(request: Request, session: User, api: UserApi) -> Response:
    staff = R.may(set(session.who["roles"]), R.POLICY_STAFF)
    page = api.get("policy_api", "/v1/policies", include_unpublished="true" if staff else None, limit=100)
    due = api.get("policy_api", "/v1/reviews/due", within_days=60, limit=50) if staff else {"items": []}
    return render(request, "policies.html", page=page, due=due, kinds=KINDS)


@router.post("/policies")
def create_policy(request: Request, session: User, api: UserApi, form: Form) -> Response:
    body = {"kind": str(form.get("kind") or ""), "identifier": opt(form, "identifier") or "",
            "title": opt(form, "title") or "", "department": opt(form, "department") or ""}
    return submit(request, form_id="policy", back="/policies", form=form,
                  call=lambda: api.post("policy_api", "/v1/policies", body), success=t("policy.create.done"),
                  after=lambda p: f"/policies/{p['id']}")


@router.get("/policies/{policy_id}")
def policy(request: Request, session: User, api: UserApi, policy_id: str) -> Response:
    item = api.get("policy_api", f"/v1/policies/{policy_id}")
    history = api.get("policy_api", f"/v1/policies/{policy_id}/history", limit=20)
    return render(request, "policy.html", policy=item, history=history)


@router.post("/policies/{policy_id}/versions")
def new_version(request: Request, session: User, api: UserApi, form: Form, policy_id: str) -> Response:
    body = {"label": opt(form, "label"), "change_summary": opt(form, "change_summary") or ""}
    return submit(request, form_id="version", back=f"/policies/{policy_id}", form=form,
                  call=lambda: api.post("policy_api", f"/v1/policies/{policy_id}/versions", body),
                  success=t("version.create.done"), after=lambda v: f"/policies/{policy_id}/versions/{v['id']}")


def _version_path(policy_id: str, version_id: str) -> str:
    return f"/v1/policies/{policy_id}/versions/{version_id}"


@router.get("/policies/{policy_id}/versions/{version_id}")
def version(request: Request, session: User, api: UserApi, policy_id: str, version_id: str) -> Response:
    item = api.get("policy_api", f"/v1/policies/{policy_id}")
    ver = api.get("policy_api", _version_path(policy_id, version_id))
    completeness = api.get("policy_api", _version_path(policy_id, version_id) + "/completeness")
    elements = api.get("policy_api", "/v1/elements")
    roles = set(session.who["roles"])
    staff: dict[str, Any] = ver.get("staff") or {}
    actions = [a for a in staff.get("allowed_actions", []) if R.may(roles, R.VERSION_ACTIONS.get(a, set()))]
    me = session.who["subject"]
    own_work = me == staff.get("author_id") or me in (staff.get("contributors") or [])
    return render(request, "version.html", policy=item, version=ver, completeness=completeness, elements=elements,
                  actions=actions, own_work=own_work, editable=ver["state"] == "draft" and R.may(roles, R.POLICY_EDIT))


@router.post("/policies/{policy_id}/versions/{version_id}/sections")
def add_section(request: Request, session: User, api: UserApi, form: Form, policy_id: str,
                version_id: str) -> Response:
    body = {"heading": opt(form, "heading") or "", "body_markdown": str(form.get("body_markdown") or ""),
            "elements": [str(e) for e in form.getlist("elements")]}
    return submit(request, form_id="section-new", back=f"/policies/{policy_id}/versions/{version_id}", form=form,
                  call=lambda: api.post("policy_api", _version_path(policy_id, version_id) + "/sections", body),
                  success=t("section.add.done"))


@router.post("/policies/{policy_id}/versions/{version_id}/sections/{section_id}")
def edit_section(request: Request, session: User, api: UserApi, form: Form, policy_id: str, version_id: str,
                 section_id: str) -> Response:
    path = _version_path(policy_id, version_id) + f"/sections/{section_id}"
    back = f"/policies/{policy_id}/versions/{version_id}"
    if form.get("delete"):
        return submit(request, form_id=f"s-{section_id}", back=back, form=form,
                      call=lambda: api.call("policy_api", "DELETE", path), success=t("section.delete.done"))
    body = {"heading": opt(form, "heading") or "", "body_markdown": str(form.get("body_markdown") or ""),
            "elements": [str(e) for e in form.getlist("elements")]}
    return submit(request, form_id=f"s-{section_id}", back=back, form=form,
                  call=lambda: api.call("policy_api", "PATCH", path, json=body), success=t("section.edit.done"))


@router.post("/policies/{policy_id}/versions/{version_id}/actions/{action}")
def version_action(request: Request, session: User, api: UserApi, form: Form, policy_id: str, version_id: str,
                   action: str) -> Response:
    if action not in R.VERSION_ACTIONS:
        return redirect(f"/policies/{policy_id}/versions/{version_id}")
    body: dict[str, Any] = {"note": opt(form, "note")}
    if action == "publish":
        body["effective_date"] = opt(form, "effective_date")
    if action == "approve":  # the approver attests each R-24-89 element, one by one (policy_api checks)
        body["attested_elements"] = [str(e) for e in form.getlist("attested_elements")]
    return submit(request, form_id="lifecycle", back=f"/policies/{policy_id}/versions/{version_id}", form=form,
                  call=lambda: api.post("policy_api", _version_path(policy_id, version_id) + f"/{action}", body),
                  success=t(f"version.{action}.done"))


@router.get("/policies/{policy_id}/diff")
def diff(request: Request, session: User, api: UserApi, policy_id: str, from_: str | None = None,
         to: str | None = None) -> Response:
    item = api.get("policy_api", f"/v1/policies/{policy_id}")
    from_ = from_ or request.query_params.get("from")
    result = None
    if from_ and to:
        result = api.get("policy_api", f"/v1/policies/{policy_id}/diff", **{"from": from_, "to": to})
    return render(request, "diff.html", policy=item, diff=result, selected={"from": from_ or "", "to": to or ""})
