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
        if with_version:
            policy = with_version[0]
            feedback = {"policy_id": policy["id"], "version_id": policy["current_version"]["id"],
                        "text": "Please say how quickly a correction is posted after a misleading post.",
                        "rating": 4}
            if policy.get("sections"):
                feedback["section_id"] = policy["sections"][0]["id"]
            _ok(public.post("/v1/feedback", json=feedback))
        print("feedback_api demo receipts (try POST /v1/receipts/status):", ", ".join(receipts))
    finally:
        public.close()
