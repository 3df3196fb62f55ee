"""The Council report summarises residents' policy feedback (counts read from a live feedback_api
before any transaction, the links recorded in policy_api, what changed), the approver's attestation of
each element, and every retirement step (issue 20 items 2 and 5)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import httpx

from services.policy_api.domain import council_report
from services.policy_api.domain.models import PolicyFeedbackLink
from shared.schemas.policy_feedback import PolicyFeedbackCounts
from shared.timeutil import FrozenClock
from tests.policy_api.helpers import create_draft, full_sections, publish, published_policy
from tests.support.live import free_port
from tests.support.sqlcount import count_statements

NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_report_counts_feedback_and_shows_attestations_and_retirements(make_app, live, token, tmp_path):
    fb = live(make_app("feedback_api", secrets_dir=str(tmp_path / "secrets"), rate_submit_per_client="1000/minute",
                       policy_api_url=f"http://127.0.0.1:{free_port()}", case_api_url=f"http://127.0.0.1:{free_port()}",
                       directory_timeout_seconds=0.5))
    port = free_port()
    server = live(make_app("policy_api", clock=FrozenClock(NOW), public_base_url=f"http://127.0.0.1:{port}",
                           case_api_url=f"http://127.0.0.1:{free_port()}", feedback_api_url=fb.url), port)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as api, \
            httpx.AsyncClient(base_url=fb.url, timeout=10) as fbc:
        policy, v1 = await published_policy(api, token, identifier="SMP-1")
        pid = policy["id"]
        refs = []
        for text in ("Please define arguing.", "Say who answers comments.", "Thanks, clear."):
            r = await fbc.post("/v1/feedback", json={"policy_id": pid, "version_id": v1["id"], "text": text})
            refs.append(r.json()["reference"])
        staff = token("policy_editor", subject="emp-editor")
        assert (await fbc.post(f"/v1/staff/feedback/{refs[0]}/replies", json={"body": "Section 1 will define it."},
                               headers=staff)).status_code == 201
        assert (await fbc.post(f"/v1/staff/feedback/{refs[2]}/transitions", json={"action": "close"},
                               headers=staff)).status_code == 200
        # the feedback informs version 2 and the review
        draft = await create_draft(api, token, pid, sections=full_sections(" Arguing means a back-and-forth."))
        r = await api.post(f"/v1/policies/{pid}/feedback-links", headers=staff,
                           json={"feedback_reference": refs[0], "version_id": draft["id"],
                                 "what_changed": "Section 1 now defines arguing with the public."})
        assert r.status_code == 201, r.text
        await publish(api, token, pid, draft["id"], approver="emp-approver-2")
        r = await api.post(f"/v1/policies/{pid}/reviews", json={"outcome": "reaffirmed", "notes": "Annual review."},
                           headers=token("policy_approver", subject="emp-approver"))
        review_id = r.json()["id"]
        # the review records the feedback received by then, by triage state (read from feedback_api)
        assert r.json()["feedback_at_review"] == {"received": 1, "considered": 0, "answered": 1, "closed": 1}
        public = (await api.get(f"/v1/policies/{pid}/reviews")).json()["items"][0]
        assert public["feedback_at_review"] == {"received": 1, "considered": 0, "answered": 1, "closed": 1}
        r = await api.post(f"/v1/policies/{pid}/feedback-links", headers=staff,
                           json={"feedback_reference": refs[1], "review_id": review_id, "what_changed": ""})
        assert r.status_code == 201, r.text
        # a retirement requested, withdrawn, requested again and confirmed
        ai, ai_v = await published_policy(api, token, identifier="AI 2-20", kind="administrative_instruction")
        base = f"/v1/policies/{ai['id']}/versions/{ai_v['id']}"
        rm, approver = token("records_manager", subject="emp-rm"), token("policy_approver", subject="emp-ap")
        r = await api.post(base + "/retire", json={"reason": "Superseded by SMP-1."}, headers=rm)
        assert r.status_code == 200
        assert (await api.post(base + "/retire/withdraw", json={"reason": "Wait for Council."},
                               headers=rm)).status_code == 200
        assert (await api.post(base + "/retire", json={"reason": "SMP-1 covers it."}, headers=rm)).status_code == 200
        assert (await api.post(base + "/retire/confirm", headers=approver)).status_code == 200

        report = (await api.post("/v1/council-reports", headers=token("records_manager"))).json()
        html = (await api.get(report["html_url"], headers=token("admin"))).text
        text = _text(html)
        assert "Residents' feedback on the policies (§1.B): 3 received, 1 answered, 1 closed, 1 not yet looked at; " \
               "2 links" in text
        assert "SMP-1 3 1 0 1 1 2" in text  # received, not yet looked at, considered, answered, closed, linked
        assert f"SMP-1 version {draft['label']}" in text  # what the feedback informed
        assert "Section 1 now defines arguing with the public." in text
        assert "Considered; no change." in text and "Residents' feedback considered: 1" in text
        assert "Residents' feedback received by then: 3 (1 answered, 1 closed)" in text
        for ref in refs:
            assert ref not in html  # no references in a document for Council
        # attestations: every element of the version in force, by its approver
        assert text.count("Yes — emp-approver-2") == 8
        # retirements with their history
        assert "AI 2-20" in text and "request withdrawn emp-rm" in text and "Wait for Council." in text
        assert "retired (confirmed) emp-ap" in text and "SMP-1 covers it." in text

        fb.stop()
        r = await api.post(f"/v1/policies/{pid}/reviews", json={"outcome": "reaffirmed"},
                           headers=token("policy_approver", subject="emp-approver"))
        assert r.status_code == 201 and r.json()["feedback_at_review"] is None  # not counted, not invented
        report = (await api.post("/v1/council-reports", headers=token("records_manager"))).json()
        text = _text((await api.get(report["html_url"], headers=token("admin"))).text)
        assert "counts not available (feedback_api did not answer)" in text
        assert "Section 1 now defines arguing with the public." in text  # the links are policy_api's own


async def test_the_report_reads_feedback_links_and_retirements_in_a_fixed_number_of_statements(make_app, client,
                                                                                                token):
    app = make_app("policy_api", clock=FrozenClock(NOW))
    api = client(app)
    policy, v1 = await published_policy(api, token)
    page = council_report.TransparencyCheck(url="http://x/transparency", checked_at=NOW, status=None, sha256=None)
    chain = council_report.ChainHead(available=False, note="n/a")

    def add_links(n: int, start: int) -> None:
        with app.state.db.write() as s:
            s.add_all([PolicyFeedbackLink(policy_id=policy["id"], feedback_reference=f"F-{i:04d}-TEST",
                                          target_type="version", target_id=v1["id"], what_changed="Clearer.",
                                          feedback_received_on=date(2026, 11, 1), linked_by="emp-editor",
                                          linked_at=NOW) for i in range(start, start + n)])

    def statements() -> tuple[int, council_report.ReportData]:
        with count_statements(app.state.db) as counted:
            data = council_report.gather(app.state.db, now=NOW, actor="t", transparency=page, metrics=None,
                                         chain=chain, feedback=PolicyFeedbackCounts(items=[]))
        return counted.n, data

    add_links(1, 0)
    one, data = statements()
    assert len(data.feedback_linked) == 1 and data.feedback[0].linked == 1
    add_links(49, 1)
    ai, ai_v = await published_policy(api, token, identifier="AI 2-20", kind="administrative_instruction")
    base = f"/v1/policies/{ai['id']}/versions/{ai_v['id']}"
    await api.post(base + "/retire", json={"reason": "Gone."}, headers=token("records_manager", subject="emp-rm"))
    await api.post(base + "/retire/confirm", headers=token("policy_approver", subject="emp-ap"))
    many, data = statements()
    assert len(data.feedback_linked) == 50 and [e.event for e in data.retirement_history] == ["requested", "retired"]
    assert one == many
