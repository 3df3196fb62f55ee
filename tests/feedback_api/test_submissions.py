"""Filing reports and feedback over the API: bounds, types, metadata stripping, honeypot,
incidents, encrypted contact, public headers."""

from __future__ import annotations

import io
import json

from PIL import Image
from sqlalchemy import func, select, text
from sqlmodel import Session

from services.feedback_api.domain.models import Contact, Evidence, Incident, OutboxMessage, Submission
from services.feedback_api.domain.pow import solve
from shared.schemas.intake import ReportForward
from tests.feedback_api.conftest import jpeg_with_gps, png_bytes, report_body


def _count(engine, model) -> int:
    with Session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


async def test_json_report_is_stored_with_its_outbox_entry(fb_app, client, databases):
    app = fb_app()
    r = await client(app).post("/v1/reports", json=report_body())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "violation_report" and body["status"] == "received"
    assert body["reference"].startswith("R-") and len(body["receipt"]) == 16 and body["receipt"].isdigit()
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"
    engine = databases["feedback_api"].engine
    with Session(engine) as s:
        sub = s.execute(select(Submission)).scalar_one()
        assert sub.receipt_hash and body["receipt"] not in sub.receipt_hash
        assert sub.reference_check == "free_text" and sub.received_on.isoformat() == sub.updated_on.isoformat()
        msg = s.execute(select(OutboxMessage)).scalar_one()
        assert msg.idempotency_key == sub.id and msg.payload["reference"] == body["reference"]
        assert msg.payload["incident_key"] == sub.incident_key and msg.payload["has_contact"] is False
        assert "T" not in msg.payload["received_on"]  # a date, not a time


async def test_outbox_row_names_its_peer_and_the_request(fb_app, client, databases):
    c = client(fb_app())
    r = await c.post("/v1/reports", json=report_body(), headers={"X-Request-ID": "req-intake-1"})
    assert r.status_code == 201
    with Session(databases["feedback_api"].engine) as s:
        msg = s.execute(select(OutboxMessage)).scalar_one()
    assert (msg.topic, msg.peer, msg.request_id) == ("report.forward", "case_api", "req-intake-1")
    ReportForward.model_validate(msg.payload)  # the shared model, as case_api will validate it


async def test_unknown_fields_and_missing_account_are_422(fb_app, client):
    c = client(fb_app())
    r = await c.post("/v1/reports", json=report_body(reporter_ip="1.2.3.4"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert any(e["loc"][-1] == "reporter_ip" for e in r.json()["errors"])
    r = await c.post("/v1/reports", json=report_body(account_text=None))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "account_id"]
    r = await c.post("/v1/reports", json=report_body(links=["https://x.com/a/status/1"] * 11))
    assert r.status_code == 422
    r = await c.post("/v1/reports", json=report_body(links=["file:///etc/passwd"]))
    assert r.status_code == 422
    r = await c.post("/v1/reports", json=report_body(description="x" * 5001))
    assert r.status_code == 422
    r = await c.post("/v1/reports", json=report_body(categories=["being_mean"]))
    assert r.status_code == 422
    r = await c.post("/v1/reports", json=report_body(seen_on="2999-01-01"))
    assert r.status_code == 422
    r = await c.post("/v1/reports", json=report_body(contact_email="not-an-email"))
    assert r.status_code == 422
    r = await c.post("/v1/reports", content=b"account_text=x", headers={"content-type": "text/plain"})
    assert r.status_code == 415 and r.headers["content-type"] == "application/problem+json"


async def test_honeypot_answers_like_success_but_stores_nothing(fb_app, client, databases):
    c = client(fb_app())
    r = await c.post("/v1/reports", json=report_body(website="http://spam.example"))
    assert r.status_code == 201
    assert set(r.json()) == {"reference", "receipt", "kind", "status"} and len(r.json()["receipt"]) == 16
    r = await c.post("/v1/feedback", json={"policy_id": "p1", "version_id": "v1", "text": "spam", "website": "x"})
    assert r.status_code == 201
    engine = databases["feedback_api"].engine
    assert _count(engine, Submission) == 0 and _count(engine, OutboxMessage) == 0
    r = await c.post("/v1/receipts/status", json={"receipt": r.json()["receipt"]})
    assert r.status_code == 404


async def test_multipart_report_strips_exif_gps_from_stored_image(fb_app, client, databases, token):
    app = fb_app()
    c = client(app)
    files = [("evidence", ("holiday.pdf", jpeg_with_gps(), "application/pdf")),  # name and type lie
             ("evidence", ("b.png", png_bytes(), "image/png"))]
    r = await c.post("/v1/reports", data={"report": json.dumps(report_body())}, files=files)
    assert r.status_code == 201, r.text
    engine = databases["feedback_api"].engine
    with Session(engine) as s:
        rows = list(s.execute(select(Evidence).order_by(Evidence.media_type)).scalars())
        forwarded = s.execute(select(OutboxMessage)).scalar_one().payload["evidence"]
    assert [e.media_type for e in rows] == ["image/jpeg", "image/png"]
    jpeg = next(e for e in rows if e.media_type == "image/jpeg")
    stored = Image.open(io.BytesIO(jpeg.content))
    assert not stored.getexif() and not stored.getexif().get_ifd(0x8825)
    assert b"SpyCam" not in jpeg.content and b"Exif" not in jpeg.content
    assert {e["id"] for e in forwarded} == {e.id for e in rows}
    # case_api reads it back through the internal endpoint
    svc = token("service:case_api", subject="service:case_api")
    r = await c.get(f"/v1/internal/evidence/{jpeg.id}", headers=svc)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.headers["content-disposition"].startswith("attachment") and r.content == jpeg.content
    assert (await c.get(f"/v1/internal/evidence/{jpeg.id}")).status_code == 401
    assert (await c.get(f"/v1/internal/evidence/{jpeg.id}", headers=token("investigator"))).status_code == 403


async def test_wrong_type_oversized_and_too_many_uploads_are_refused(fb_app, client, databases):
    app = fb_app(max_file_bytes=20_000, max_files=2)
    c = client(app)
    data = {"report": json.dumps(report_body())}
    def one(name, content, ctype):
        return [("evidence", (name, content, ctype))]

    r = await c.post("/v1/reports", data=data, files=one("cat.jpg", b"MZ\x90\x00" + b"\0" * 100, "image/jpeg"))
    assert r.status_code == 415 and r.headers["content-type"] == "application/problem+json"
    r = await c.post("/v1/reports", data=data, files=one("x.pdf", b"%PDF-1.4 fake", "application/pdf"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    r = await c.post("/v1/reports", data=data, files=one("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 30_000, "image/png"))
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    three = [("evidence", (f"{i}.png", png_bytes(), "image/png")) for i in range(3)]
    r = await c.post("/v1/reports", data=data, files=three)
    assert r.status_code in (400, 422) and r.headers["content-type"] == "application/problem+json"
    # the whole body over the route's limit: refused before it is read
    huge = b"\0" * (app.state.settings.upload_body_limit + 10)
    r = await c.post("/v1/reports", data=data, files=one("huge.png", huge, "image/png"))
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    # other routes keep the default 1 MiB limit
    big = b"{" + b" " * 1_100_000 + b"}"
    r = await c.post("/v1/feedback", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = await c.post("/v1/reports", data={"report": json.dumps(report_body()), "extra": "x"})
    assert r.status_code == 422
    r = await c.post("/v1/reports", data={"report": json.dumps(report_body(unknown=1))})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"][:2] == ["body", "report"]
    assert _count(databases["feedback_api"].engine, Submission) == 0


async def test_reports_of_the_same_post_become_one_incident(fb_app, client, databases):
    c = client(fb_app())
    for link in ("https://www.facebook.com/abq/posts/123", "https://m.facebook.com/abq/posts/123?fbclid=1",
                 "https://facebook.com/abq/posts/123/"):
        assert (await c.post("/v1/reports", json=report_body(links=[link]))).status_code == 201
    other = report_body(links=["https://facebook.com/abq/posts/999"])
    assert (await c.post("/v1/reports", json=other)).status_code == 201
    engine = databases["feedback_api"].engine
    with Session(engine) as s:
        counts = sorted(i.report_count for i in s.execute(select(Incident)).scalars())
        keys = {m.payload["incident_key"] for m in s.execute(select(OutboxMessage)).scalars()}
    assert counts == [1, 3] and len(keys) == 2


async def test_contact_email_is_encrypted_readable_by_case_api_and_erasable(fb_app, client, databases, token):
    app = fb_app()
    c = client(app)
    r = await c.post("/v1/reports", json=report_body(contact_email="worried.resident@example.org"))
    receipt = r.json()["receipt"]
    engine = databases["feedback_api"].engine
    with Session(engine) as s:
        contact = s.execute(select(Contact)).scalar_one()
        report_id = contact.submission_id
        assert "worried" not in contact.ciphertext
        for table in ("submissions", "outbox"):
            assert "worried.resident" not in str(s.execute(text(f"SELECT * FROM {table}")).all())
    svc = token("service:case_api", subject="service:case_api")
    r = await c.get(f"/v1/internal/reports/{report_id}/contact", headers=svc)
    assert r.status_code == 200 and r.json() == {"email": "worried.resident@example.org"}
    assert (await c.get(f"/v1/internal/reports/{report_id}/contact", headers=token("admin"))).status_code == 403
    assert (await c.post("/v1/receipts/status", json={"receipt": receipt})).json()["has_contact"] is True
    assert (await c.post("/v1/receipts/contact/delete", json={"receipt": receipt})).status_code == 204
    assert (await c.get(f"/v1/internal/reports/{report_id}/contact", headers=svc)).status_code == 404
    assert (await c.post("/v1/receipts/status", json={"receipt": receipt})).json()["has_contact"] is False


async def test_feedback_is_accepted_unverified_when_policy_api_is_down(fb_app, client, databases, token):
    c = client(fb_app())
    r = await c.post("/v1/feedback", json={"policy_id": "pol-1", "version_id": "ver-1", "section_id": "s-2",
                                           "text": "Please define 'arguing'.", "rating": 4})
    assert r.status_code == 201 and r.json()["kind"] == "policy_feedback" and r.json()["reference"].startswith("F-")
    bad_rating = {"policy_id": "p", "version_id": "v", "text": "x", "rating": 6}
    assert (await c.post("/v1/feedback", json=bad_rating)).status_code == 422
    bad_id = {"policy_id": "../admin", "version_id": "v", "text": "x"}
    assert (await c.post("/v1/feedback", json=bad_id)).status_code == 422
    r = await c.get("/v1/staff/feedback", headers=token("policy_editor"))
    assert r.status_code == 200 and r.json()["total"] == 1
    item = r.json()["items"][0]
    assert item["reference_check"] == "unverified" and item["text"] == "Please define 'arguing'."
    assert "contact" not in item
    assert (await c.get("/v1/staff/feedback", headers=token("investigator"))).status_code == 403
    assert _count(databases["feedback_api"].engine, OutboxMessage) == 0


async def test_report_naming_an_account_is_accepted_unverified_when_policy_api_is_down(fb_app, client, databases):
    c = client(fb_app())
    r = await c.post("/v1/reports", json=report_body(account_id="acct-1", account_text=None))
    assert r.status_code == 201
    with Session(databases["feedback_api"].engine) as s:
        assert s.execute(select(Submission.reference_check)).scalar_one() == "unverified"


async def test_options_and_policy_proxy_when_policy_api_is_down(fb_app, client):
    c = client(fb_app())
    r = await c.get("/v1/public/options")
    assert r.status_code == 200
    assert r.json()["limits"]["max_files"] == 5 and "application/pdf" in r.json()["limits"]["allowed_types"]
    assert len(r.json()["categories"]) == 6
    r = await c.get("/v1/public/policies")
    assert r.status_code == 503 and r.headers["retry-after"] and r.headers["content-type"] == "application/problem+json"


async def test_submissions_are_rate_limited_per_client(fb_app, client):
    c = client(fb_app(rate_submit_per_client="2/minute"))
    assert (await c.post("/v1/reports", json=report_body())).status_code == 201
    assert (await c.post("/v1/feedback", json={"policy_id": "p", "version_id": "v", "text": "x"})).status_code == 201
    r = await c.post("/v1/reports", json=report_body())  # past its own budget: a proof of work, or wait
    assert r.status_code == 428 and r.json()["challenge"]
    limited = client(fb_app(rate_submit_per_client="1/minute", rate_submit_pow_per_client="1/minute",
                            pow_difficulty_bits=4))
    assert (await limited.post("/v1/reports", json=report_body())).status_code == 201
    for expected in (201, 429):  # with a proof: the proof-of-work budget (1/minute), then 429
        challenge = (await limited.post("/v1/reports", json=report_body())).json()["challenge"]
        proof = f"{challenge}:{solve(challenge, 4)}"
        r = await limited.post("/v1/reports", json=report_body(), headers={"Proof-Of-Work": proof})
        assert r.status_code == expected
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.headers["content-type"] == "application/problem+json" and r.json()["status"] == 429


async def test_control_characters_and_lone_surrogates_are_refused(fb_app, client, databases):
    c = client(fb_app())
    for patch in ({"description": "before\x00after"}, {"account_text": "City\x00of"}, {"description": "esc \x1b[31m"},
                  {"links": ["https://www.facebook.com/cabq/posts/1\x00"]}):
        r = await c.post("/v1/reports", json=report_body(**patch))
        assert r.status_code == 422, patch
    raw = b'{"account_text": "x", "platform": "x", "categories": ["other"], "description": "lone \\ud800 here"}'
    r = await c.post("/v1/reports", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    ok = await c.post("/v1/reports", json=report_body(description="tabs\tand\nnewlines \U0001f3dc are fine"))
    assert ok.status_code == 201
    assert (await c.post("/v1/receipts/status", json={"receipt": "\x00" * 16})).status_code == 422
    assert _count(databases["feedback_api"].engine, Submission) == 1


async def test_cors_allows_only_configured_city_origins(fb_app, client):
    c = client(fb_app(cors_origins=["https://www.cabq.gov"]))
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = await c.options("/v1/reports", headers={"Origin": "https://www.cabq.gov", **pre})
    assert ok.headers.get("access-control-allow-origin") == "https://www.cabq.gov"
    bad = await c.options("/v1/reports", headers={"Origin": "https://evil.example", **pre})
    assert "access-control-allow-origin" not in bad.headers
    r = await c.get("/v1/public/options", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
