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


# issue 17: demo staff in the directory, enrolled for notifications (``make run`` keeps their mail in data/mail)
DEMO_STAFF: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("demo-intake", ("intake",), None), ("demo-investigator", ("investigator",), None), ("demo-hr", ("hr",), None),
    ("demo-director-police", ("department_director",), "Police"), ("demo-monitor", ("monitor",), None))


def _notifications(ctx: DemoContext) -> None:
    admin = ctx.client("case_api", roles=["admin"], subject="demo-loader")
    try:
        for subject, roles, department in DEMO_STAFF:
            r = admin.post("/scim/v2/Users", json={"userName": subject, "active": True})
            if r.status_code not in (201, 409):
                _ok(r)
            with ctx.client("case_api", roles=list(roles), department=department, subject=subject) as person:
                _ok(person.put("/v1/notifications/preferences", json={"modes": {}}))
    finally:
        admin.close()


def load(ctx: DemoContext) -> None:
    _notifications(ctx)
    intake = ctx.client("case_api", roles=["intake"], subject="demo-intake")
    inv = ctx.client("case_api", roles=["investigator"], subject="demo-investigator")
    hr = ctx.client("case_api", roles=["hr"], subject="demo-hr")
    try:
        existing = _ok(inv.get("/v1/cases", params={"limit": 100}))["items"]
        if any(c["source"] == "staff" for c in existing):
            return  # already loaded (cases forwarded by feedback_api's demo do not count)

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
        _monitoring(ctx)
    finally:
        for c in (intake, inv, hr):
            c.close()


def _monitoring(ctx: DemoContext) -> None:
    """Schedule reviews from policy_api's registry (its demo accounts) and import a few posts."""
    mon = ctx.client("case_api", roles=["monitor"], subject="demo-monitor")
    try:
        if mon.post("/v1/monitoring/sync").status_code != 200:
            return  # policy_api not reachable: the background sync will catch up
        reviews = _ok(mon.get("/v1/monitoring/reviews", params={"status": "scheduled", "limit": 1}))["items"]
        if not reviews:
            return
        account = reviews[0]["account_id"]
        posts = [
            {"url": f"https://example.org/demo/{account}/posts/{i}", "posted_at": f"2026-0{i}-15T16:00:00Z",
             "text": text, "comments": [{"author": "resident", "text": "Thanks for the update"}]}
            for i, text in enumerate(["Road closure on Central this weekend.", "Free swim lessons start Monday.",
                                      "Reminder: report potholes through 311."], start=1)
        ]
        _ok(mon.post("/v1/monitoring/imports", json={"format": "json", "account_id": account, "posts": posts}))
    finally:
        mon.close()
