"""Demo data for ``civicsocial dev``: a few anonymous violation reports (two about the same post,
so case_api links them as one incident), one with an image, a reporter message and a piece of
policy feedback, all over the public API. The reports reach case_api through the outbox."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any

import httpx
from PIL import Image

from services.devkit import DemoContext
from services.feedback_api.routers.open311 import DEV_OPEN311_KEY


def _ok(resp: httpx.Response) -> Any:
    if resp.status_code >= 400:
        raise RuntimeError(f"feedback_api demo: {resp.request.method} {resp.request.url.path} -> "
                           f"{resp.status_code} {resp.text[:300]}")
    return resp.json() if resp.content else None


def _screenshot() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (240, 240, 245)).save(out, "PNG")
    return out.getvalue()


def load(ctx: DemoContext) -> None:
    public = ctx.client("feedback_api")
    try:
        # listing needs an api_key: dev mode's well-known one (production has none)
        if _ok(public.get("/open311/v2/requests.json", params={"api_key": DEV_OPEN311_KEY})):
            return  # not an empty database: leave it alone
        try:
            accounts = _ok(public.get("/v1/public/accounts"))
        except RuntimeError:
            accounts = []
        seen = (date.today() - timedelta(days=2)).isoformat()
        first = accounts[0] if accounts else None
        about = {"account_id": first["id"]} if first else {"account_text": "@cabq"}
        platform = first["platform"] if first else "facebook"
        post = "https://www.facebook.com/cityofalbuquerque/posts/demo-1001"

        receipts: list[str] = []
        report = {**about, "platform": platform, "links": [post], "seen_on": seen,
                  "categories": ["arguing_with_public", "disrespectful_response"],
                  "description": "The account replied to a resident's question about trash pickup with "
                                 "'maybe read the schedule before complaining'."}
        receipts.append(_ok(public.post("/v1/reports", json=report))["receipt"])
        same_post = {**report, "links": [post + "?fbclid=demo"], "categories": ["disrespectful_response"],
                     "description": "Same reply, I saw it too; it was later edited."}
        _ok(public.post("/v1/reports", json=same_post))
        with_image = {"account_text": "@abq_transit_demo", "platform": "x",
                      "links": ["https://x.com/abq_transit_demo/status/424242"], "seen_on": seen,
                      "categories": ["personal_opinion"],
                      "description": "The transit account posted a political opinion about a council member.",
                      "contact_email": "demo.reporter@example.org"}
        r = public.post("/v1/reports", data={"report": json.dumps(with_image)},
                        files=[("evidence", ("screenshot.png", _screenshot(), "image/png"))])
        receipts.append(_ok(r)["receipt"])
        _ok(public.post("/v1/receipts/messages",
                        json={"receipt": receipts[0], "body": "The reply has since been deleted."}))

        policies = []
        try:
            policies = _ok(public.get("/v1/public/policies"))
        except RuntimeError:
            pass
        with_version = [p for p in policies if p.get("current_version")]
        with_version.sort(key=lambda p: p.get("kind") != "social_media_policy")  # the City policy first
        if with_version:
            policy = with_version[0]
            feedback = {"policy_id": policy["id"], "version_id": policy["current_version"]["id"],
                        "text": "Please say how quickly a correction is posted after a misleading post.",
                        "rating": 4}
            if policy.get("sections"):
                feedback["section_id"] = policy["sections"][0]["id"]
            filed = _ok(public.post("/v1/feedback", json=feedback))
            second = _ok(public.post("/v1/feedback", json={
                "policy_id": policy["id"], "version_id": policy["current_version"]["id"],
                "text": "Will residents be told when a comment of theirs is hidden?"}))
            _triage(ctx, policy["id"], filed["reference"], second["reference"])
        print("feedback_api demo receipts (try POST /v1/receipts/status):", ", ".join(receipts))
    finally:
        public.close()


def _triage(ctx: DemoContext, policy_id: str, answered: str, considered: str) -> None:
    """Policy staff answer the first piece of feedback through its receipt and link it to the draft it
    informed (policy_api checks the reference here); the second is being considered."""
    staff = ctx.client("feedback_api", roles=["policy_editor"], subject="emp-2001")
    editor = ctx.client("policy_api", roles=["policy_editor"], subject="emp-2001")
    try:
        _ok(staff.post(f"/v1/staff/feedback/{answered}/replies", json={
            "body": "Thank you. The new policy's draft says corrections are posted within one business day."}))
        _ok(staff.post(f"/v1/staff/feedback/{considered}/transitions",
                       json={"action": "consider", "note": "For the response-guidelines section."}))
        versions = _ok(editor.get(f"/v1/policies/{policy_id}/versions", params={"limit": 100}))["items"]
        draft = next((v for v in versions if v.get("state") == "draft"), None)
        if draft is not None:
            r = editor.post(f"/v1/policies/{policy_id}/feedback-links", json={
                "feedback_reference": answered, "version_id": draft["id"],
                "what_changed": "Corrections: the draft now says they are posted within one business day."})
            if r.status_code >= 400:  # policy_api cannot reach this feedback_api: the demo goes on without it
                print("feedback_api demo: feedback not linked in policy_api:", r.status_code)
    finally:
        staff.close()
        editor.close()
