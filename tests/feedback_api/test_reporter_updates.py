"""Reporter updates, opt-in (issue 17, item 3), against a real SMTP server: a resident who gave an
email and ticked "tell me when there is an update" hears that there is one, and nothing more;
without the tick, or after erasing their contact, nothing is sent."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlmodel import Session

import services.feedback_api.main  # noqa: F401 - registers every feedback_api table before the first reset
from services.feedback_api.domain.models import OutboxMessage, Submission
from services.feedback_api.domain.reporter_updates import UpdateOptIn
from tests.feedback_api.conftest import report_body
from tests.feedback_api.test_intake_abuse import FORM_TOKEN, at, nojs_form
from tests.support.smtp import smtp_sink

CASE = {"subject": "service:case_api"}
AT = datetime(2026, 11, 24, 15, 42, 7, tzinfo=UTC).isoformat()


@pytest.fixture
def sink(tmp_path):
    with smtp_sink(tmp_path) as s:
        yield s


def _app(fb_app, sink):
    return fb_app(relay_enabled=False, notify=sink.settings(), public_base_url="https://feedback.cabq.gov")


async def _file(c, engine, **over) -> tuple[str, str, str]:
    r = await c.post("/v1/reports", json=report_body(**over))
    assert r.status_code == 201, r.text
    with Session(engine) as s:
        report_id = s.execute(select(Submission.id).where(Submission.reference == r.json()["reference"])).scalar_one()
    return report_id, r.json()["reference"], r.json()["receipt"]


async def _event(c, token, report_id: str, event_id: str, **body) -> None:
    event = {"event_id": event_id, "kind": "message", "message": "Officer Smith apologised.", "at": AT, **body}
    r = await c.post(f"/v1/internal/reports/{report_id}/events", json=event,
                     headers={**token("service:case_api", **CASE), "Idempotency-Key": event_id})
    assert r.status_code == 200, r.text


async def test_an_opted_in_reporter_hears_only_that_there_is_an_update(fb_app, client, token, databases, sink):
    app = _app(fb_app, sink)
    c = client(app)
    engine = databases["feedback_api"].engine
    report_id, reference, _ = await _file(c, engine, contact_email="resident@example.org", notify_updates=True)
    await _event(c, token, report_id, "ev-1")
    await _event(c, token, report_id, "ev-1")  # a redelivery of the same event: one email
    app.state.relay.drain()
    assert len(sink.messages) == 1
    m = sink.messages[0]
    assert m["To"] == "resident@example.org" and m["Subject"] == "An update on your report"
    body = m.get_payload(decode=True).decode()
    assert body.strip().splitlines() == [
        "There is an update on a report you made to the City of Albuquerque. You can read it with your receipt code.",
        "", "https://feedback.cabq.gov/report"]
    text = m.as_string()
    assert reference not in text and "Smith" not in text and report_id not in text
    # a status change is an update too
    await _event(c, token, report_id, "ev-2", kind="status", status="closed", message=None,
                 outcome_summary="The post was removed.")
    app.state.relay.drain()
    assert len(sink.messages) == 2 and "removed" not in sink.messages[1].as_string()
    with Session(engine) as s:  # delivered rows are purged: nothing of the update is kept
        assert s.execute(select(OutboxMessage).where(OutboxMessage.topic == "reporter_update")).all() == []


async def test_nothing_is_sent_without_the_tick_or_without_an_email(fb_app, client, token, databases, sink):
    app = _app(fb_app, sink)
    c = client(app)
    engine = databases["feedback_api"].engine
    no_tick, _, _ = await _file(c, engine, contact_email="resident@example.org")
    no_email, _, _ = await _file(c, engine, notify_updates=True)
    await _event(c, token, no_tick, "ev-1")
    await _event(c, token, no_email, "ev-2")
    app.state.relay.drain()
    assert sink.messages == []
    with Session(engine) as s:
        assert s.execute(select(UpdateOptIn)).all() == []


async def test_erasing_the_contact_withdraws_consent_even_for_a_queued_update(fb_app, client, token, databases,
                                                                              sink):
    app = _app(fb_app, sink)
    c = client(app)
    engine = databases["feedback_api"].engine
    report_id, _, receipt = await _file(c, engine, contact_email="resident@example.org", notify_updates=True)
    await _event(c, token, report_id, "ev-1")  # queued, not yet sent
    assert (await c.post("/v1/receipts/contact/delete", json={"receipt": receipt})).status_code == 204
    app.state.relay.drain()
    await _event(c, token, report_id, "ev-2")
    app.state.relay.drain()
    assert sink.messages == []
    with Session(engine) as s:
        assert s.execute(select(UpdateOptIn)).all() == []
        assert s.execute(select(OutboxMessage).where(OutboxMessage.topic == "reporter_update")).all() == []


async def test_the_form_explains_the_tick_and_records_it_only_when_ticked(fb_app, client, databases, sink):
    ours = {"Sec-Fetch-Site": "same-origin", "Origin": "https://feedback.cabq.gov"}

    app = _app(fb_app, sink)
    async with at(app, "203.0.113.7") as resident:
        page = await resident.get("/report")
        assert 'name="notify_updates"' in page.text and 'aria-describedby="cs-notify_updates-hint"' in page.text
        assert "say only that there is an update" in page.text and "erase your email" in page.text
        spanish = await resident.get("/report", params={"lang": "es"})
        assert "Avísenme por correo cuando haya una novedad" in spanish.text
        assert FORM_TOKEN.search(page.text)
        for ticked in (True, False):
            token = app.state.guard.challenges.issue(now=time.time() - 30).text
            form = nojs_form(token, contact_email="resident@example.org")
            if ticked:
                form["notify_updates"] = "true"
            r = await resident.post("/report", data=form, headers=ours)
            assert r.status_code == 200 and 'id="cs-reference"' in r.text
    with Session(databases["feedback_api"].engine) as s:
        assert len(s.execute(select(UpdateOptIn)).all()) == 1
