"""Residents' policy feedback in the policy record (issue 20 item 5): policy staff link a piece of
feedback (checked against a live feedback_api, read before the write) to the version or review it
informed, with what changed; the public sees those links without references; query shape."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from sqlmodel import select

from services.policy_api.domain.models import ChangeLogEntry, PolicyFeedbackLink
from tests.policy_api.helpers import create_draft, full_sections, published_policy
from tests.support.live import free_port
from tests.support.sqlcount import count_statements


def _feedback_server(make_app, live, tmp_path):
    return live(make_app("feedback_api", secrets_dir=str(tmp_path / "secrets"),
                         policy_api_url=f"http://127.0.0.1:{free_port()}", case_api_url=f"http://127.0.0.1:{free_port()}",
                         rate_submit_per_client="1000/minute", directory_timeout_seconds=0.5))


async def _feedback(fb_url: str, policy_id: str, version_id: str, text: str = "Please define arguing.") -> str:
    async with httpx.AsyncClient(base_url=fb_url, timeout=10) as c:
        r = await c.post("/v1/feedback", json={"policy_id": policy_id, "version_id": version_id, "text": text})
        assert r.status_code == 201, r.text
        return r.json()["reference"]


async def test_feedback_is_linked_to_the_version_and_the_review_it_informed(make_app, live, client, token, tmp_path):
    fb = _feedback_server(make_app, live, tmp_path)
    app = make_app("policy_api", feedback_api_url=fb.url)
    api = client(app)
    policy, v1 = await published_policy(api, token)
    pid = policy["id"]
    other, other_v = await published_policy(api, token, identifier="AI-1-19", kind="administrative_instruction")
    r = await api.post(f"/v1/policies/{pid}/reviews", json={"outcome": "revision_started", "notes": "Annual review"},
                       headers=token("policy_approver", subject="emp-approver"))
    assert r.status_code == 201, r.text
    review_id = r.json()["id"]
    ref = await _feedback(fb.url, pid, v1["id"])
    editor = token("policy_editor", subject="emp-editor")
    url = f"/v1/policies/{pid}/feedback-links"

    draft = await create_draft(api, token, pid, sections=full_sections(" Arguing means a back-and-forth."))
    r = await api.post(url, json={"feedback_reference": ref, "version_id": draft["id"],
                                  "what_changed": "Section 1 now defines arguing."}, headers=editor)
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["target_type"] == "version" and link["version_label"] == draft["label"]
    assert link["feedback_reference"] == ref and link["linked_by"] == "emp-editor"
    r = await api.post(url, json={"feedback_reference": ref, "review_id": review_id, "what_changed": ""},
                       headers=token("policy_approver"))
    assert r.status_code == 201 and r.json()["reviewed_on"] is not None

    # refused: twice the same; neither or both targets; unknown reference; another policy's feedback or version
    same = {"feedback_reference": ref, "version_id": draft["id"]}
    assert (await api.post(url, json=same, headers=editor)).status_code == 409
    assert (await api.post(url, json={"feedback_reference": ref}, headers=editor)).status_code == 422
    both = {"feedback_reference": ref, "version_id": draft["id"], "review_id": review_id}
    assert (await api.post(url, json=both, headers=editor)).status_code == 422
    r = await api.post(url, json={"feedback_reference": "F-NONE-XXXX", "version_id": draft["id"]}, headers=editor)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "feedback_reference"]
    elsewhere = await _feedback(fb.url, other["id"], other_v["id"])
    r = await api.post(url, json={"feedback_reference": elsewhere, "version_id": draft["id"]}, headers=editor)
    assert r.status_code == 422 and "another policy" in r.json()["detail"]
    r = await api.post(url, json={"feedback_reference": ref, "version_id": other_v["id"]}, headers=editor)
    assert r.status_code == 404
    assert (await api.post(url, json={"feedback_reference": "../x", "version_id": draft["id"]},
                           headers=editor)).status_code == 422
    assert (await api.post(url, json=same, headers=token("records_manager"))).status_code == 403
    assert (await api.post(url, json=same)).status_code == 401

    # staff see both links with references; the public only the review's (the version is a draft), no reference
    staff_items = (await api.get(url, headers=editor)).json()["items"]
    assert len(staff_items) == 2
    public = (await api.get(url)).json()
    assert public["total"] == 1
    assert public["items"][0]["target_type"] == "review"
    assert public["items"][0]["feedback_reference"] is None and public["items"][0]["linked_by"] is None
    with app.state.db.read() as s:
        actions = s.exec(select(ChangeLogEntry.action).where(ChangeLogEntry.entity_id == pid)).all()
    assert actions.count("feedback.linked") == 2

    # feedback_api down: the link is not recorded unchecked
    fb.stop()
    r = await api.post(url, json={"feedback_reference": ref, "version_id": v1["id"]}, headers=editor)
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"


async def test_query_shape_of_the_feedback_links(make_app, client, token):
    app = make_app("policy_api")
    api = client(app)
    policy, v1 = await published_policy(api, token)
    pid = policy["id"]
    def add(n: int, start: int) -> None:
        with app.state.db.write() as s:
            for i in range(start, start + n):
                s.add(PolicyFeedbackLink(policy_id=pid, feedback_reference=f"F-{i:04d}-TEST", target_type="version",
                                         target_id=v1["id"], what_changed="Clearer text.",
                                         feedback_received_on=date(2026, 11, 1), linked_by="emp-editor",
                                         linked_at=datetime(2026, 11, 2, tzinfo=UTC)))

    async def count(**headers) -> int:
        with count_statements(app.state.db) as counted:
            r = await api.get(f"/v1/policies/{pid}/feedback-links", params={"limit": 100}, headers=headers)
        assert r.status_code == 200
        return counted.n

    add(1, 0)
    one_public, one_staff = await count(), await count(**token("policy_editor"))
    add(49, 1)
    assert (await api.get(f"/v1/policies/{pid}/feedback-links", params={"limit": 100})).json()["total"] == 50
    assert one_public == await count() == 3
    assert one_staff == await count(**token("policy_editor")) == 3
