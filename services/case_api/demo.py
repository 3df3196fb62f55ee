"""Demo data for ``civicsocial dev``: a few cases in different states, created over HTTP with dev
tokens (feedback_api's demo forwards a few public reports as well)."""

from __future__ import annotations

from typing import Any

import httpx

from services.devkit import DemoContext


def _ok(resp: httpx.Response) -> Any:
    if resp.status_code >= 400:
        raise RuntimeError(f"case_api demo: {resp.request.method} {resp.request.url.path} -> {resp.status_code} "
                           f"{resp.text[:300]}")
    return resp.json()


def load(ctx: DemoContext) -> None:
    intake = ctx.client("case_api", roles=["intake"], subject="demo-intake")
    inv = ctx.client("case_api", roles=["investigator"], subject="demo-investigator")
    hr = ctx.client("case_api", roles=["hr"], subject="demo-hr")
    try:
        if _ok(inv.get("/v1/cases", params={"limit": 1}))["total"] > 0:
            return  # not an empty database: leave it alone

        def case(department: str, summary: str, categories: list[str], platform: str = "facebook") -> str:
            body = {"department": department, "summary": summary, "categories": categories, "platform": platform,
                    "account_text": f"@abq{department.lower()}"}
            return str(_ok(intake.post("/v1/cases", json=body))["id"])

        def move(case_id: str, to: str, **extra: Any) -> None:
            _ok(inv.post(f"/v1/cases/{case_id}/transitions", json={"to": to, **extra}))

        case("Parks", "Reply to a resident called their question 'ridiculous'.", ["disrespectful_response"])

        triaged = case("Transit", "Account argued with a rider about route changes over several replies.",
                       ["arguing_with_public"], platform="x")
        move(triaged, "triaged")
        _ok(inv.post(f"/v1/cases/{triaged}/assignee", json={"assignee": "demo-investigator"}))

        sustained = case("Police", "Post mocked a named resident's comment under the City's name.",
                         ["personal_attack"])
        move(sustained, "triaged")
        move(sustained, "investigating")
        _ok(inv.post(f"/v1/cases/{sustained}/employee", json={"employee_id": "emp-demo-1"}))
        _ok(inv.post(f"/v1/cases/{sustained}/notes", json={"body": "Screenshots archived; PIO interviewed."}))
        found = _ok(inv.post(f"/v1/cases/{sustained}/finding", json={
            "finding": "sustained", "severity": 3,
            "summary": "The post did not meet the City's standards; it was removed and corrected."}))
        _ok(hr.post(f"/v1/cases/{sustained}/decision", json={"action": found["recommendation"]["action"]}))
        _ok(hr.post(f"/v1/cases/{sustained}/restorative-actions", json={
            "kind": "public_correction", "owner": "demo-pio", "due_on": "2030-01-31",
            "description": "Post a correction and a respectful reply on the thread."}))

        dismissed = case("Parks", "Report about a private individual's page, not a City account.", ["other"])
        move(dismissed, "dismissed", reason="Not an official City account.",
             outcome_summary="The account reported is not an official City account.")

        closed = case("Police", "Reply said a road closure was 'not our problem'.", ["disrespectful_response"])
        move(closed, "triaged")
        move(closed, "investigating")
        _ok(inv.post(f"/v1/cases/{closed}/finding", json={"finding": "not_sustained"}))
        move(closed, "closed", outcome_summary="Reviewed: the reply was curt but within the response guidelines.")
    finally:
        for c in (intake, inv, hr):
            c.close()
