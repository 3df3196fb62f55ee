"""The version lifecycle over HTTP: two-person rule, completeness, immutability, diffs, roles."""

from __future__ import annotations

import re

from tests.policy_api.helpers import (
    ATTEST,
    ELEMENT_KEYS,
    create_draft,
    create_policy,
    full_sections,
    publish,
    published_policy,
)


async def test_lifecycle_to_published_and_public_reads(api, token):
    policy, version = await published_policy(api, token)
    assert version["state"] == "published" and version["effective_date"] == "2025-03-01"
    r = await api.get("/v1/policies")
    page = r.json()
    assert page["total"] == 1
    item = page["items"][0]
    assert item["current_version"]["id"] == version["id"]
    assert item["review_status"]["next_review_due"] == "2026-03-01" and item["review_status"]["overdue"] is False
    r = await api.get(f"/v1/policies/{policy['id']}/versions/{version['id']}")
    body = r.json()
    assert [s["elements"] for s in body["sections"]] == [[k] for k in ELEMENT_KEYS]
    assert body["sections"][0]["body_html"] == "<p>Text about behavioral_expectations.</p>\n"
    assert body.get("staff") is None


async def test_drafts_are_hidden_from_the_public(api, token):
    policy = await create_policy(api, token)
    draft = await create_draft(api, token, policy["id"], sections=full_sections())
    assert (await api.get(f"/v1/policies/{policy['id']}")).status_code == 404
    assert (await api.get(f"/v1/policies/{policy['id']}/versions/{draft['id']}")).status_code == 404
    assert (await api.get("/v1/policies")).json()["total"] == 0
    staff = token("policy_editor")
    r = await api.get(f"/v1/policies/{policy['id']}/versions/{draft['id']}", headers=staff)
    assert r.status_code == 200 and r.json()["staff"]["allowed_actions"] == ["submit"]
    assert r.headers["cache-control"] == "private, no-cache"
    r = await api.get("/v1/policies", params={"include_unpublished": True}, headers=staff)
    assert r.json()["total"] == 1
    assert (await api.get("/v1/policies", params={"include_unpublished": True})).status_code == 401


async def test_two_person_rule(api, token):
    policy = await create_policy(api, token)
    draft = await create_draft(api, token, policy["id"], sections=full_sections(), editor="emp-7")
    base = f"/v1/policies/{policy['id']}/versions/{draft['id']}"
    await api.post(base + "/submit", headers=token("policy_editor", subject="emp-7"))
    # The author holds the approver role too, but cannot approve their own version.
    r = await api.post(base + "/approve", json=ATTEST,
                       headers=token("policy_approver", "policy_editor", subject="emp-7"))
    assert r.status_code == 403
    problem = r.json()
    assert problem["type"] == "urn:civicsocial:problem:two-person-rule"
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await api.post(base + "/approve", json=ATTEST, headers=token("policy_approver", subject="emp-8"))
    assert r.status_code == 200 and r.json()["staff"]["approved_by"] == "emp-8"


async def test_anyone_who_edited_counts_as_an_author(api, token):
    policy = await create_policy(api, token)
    draft = await create_draft(api, token, policy["id"], sections=full_sections(), editor="emp-1")
    base = f"/v1/policies/{policy['id']}/versions/{draft['id']}"
    section = draft["sections"][0]["id"]
    r = await api.patch(f"{base}/sections/{section}", json={"body_markdown": "Edited."},
                        headers=token("policy_approver", subject="emp-2"))
    assert r.status_code == 200
    await api.post(base + "/submit", headers=token("policy_editor", subject="emp-1"))
    r = await api.post(base + "/approve", json=ATTEST, headers=token("policy_approver", subject="emp-2"))
    assert r.status_code == 403


async def test_policy_editor_cannot_approve_or_publish(api, token):
    policy = await create_policy(api, token)
    draft = await create_draft(api, token, policy["id"], sections=full_sections())
    base = f"/v1/policies/{policy['id']}/versions/{draft['id']}"
    await api.post(base + "/submit", headers=token("policy_editor"))
    r = await api.post(base + "/approve", json=ATTEST, headers=token("policy_editor", subject="someone-else"))
    assert r.status_code == 403 and r.json()["type"] == "urn:civicsocial:problem:forbidden"
    r = await api.post(base + "/publish", headers=token("policy_editor", subject="someone-else"))
    assert r.status_code == 403


async def test_anonymous_cannot_write(api, token):
    r = await api.post("/v1/policies", json={"kind": "other", "identifier": "X", "title": "X", "department": "X"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"].startswith("Bearer")
    policy, version = await published_policy(api, token)
    for path in ("/versions", f"/versions/{version['id']}/retire", "/reviews"):
        r = await api.post(f"/v1/policies/{policy['id']}{path}", json={})
        assert r.status_code == 401, path
    r = await api.post("/v1/policies", json={}, headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401


async def test_completeness_refusal_names_each_missing_element(api, token):
    policy = await create_policy(api, token)
    sections = [s for s in full_sections() if s["elements"][0] not in ("restorative_actions", "policy_review")]
    draft = await create_draft(api, token, policy["id"], sections=sections)
    base = f"/v1/policies/{policy['id']}/versions/{draft['id']}"
    r = await api.get(base + "/completeness", headers=token("policy_editor"))
    check = r.json()
    assert check["complete"] is False and check["missing"] == ["restorative_actions", "policy_review"]
    assert len(check["items"]) == 8
    await api.post(base + "/submit", headers=token("policy_editor"))
    r = await api.post(base + "/approve", json=ATTEST, headers=token("policy_approver", subject="emp-approver"))
    assert r.status_code == 422
    problem = r.json()
    assert problem["missing_elements"] == ["restorative_actions", "policy_review"]
    assert "Restorative actions" in problem["detail"] and "Policy review" in problem["detail"]
    assert [e["loc"][-1] for e in problem["errors"]] == ["restorative_actions", "policy_review"]
    # Fix it: back to draft, add a section covering both, and it goes through.
    await api.post(base + "/return", headers=token("policy_approver", subject="emp-approver"))
    r = await api.post(base + "/sections", json={"heading": "Restoring trust and review",
                                                  "body_markdown": "Corrections and apologies; reviewed yearly.",
                                                  "elements": ["restorative_actions", "policy_review"]},
                       headers=token("policy_editor"))
    assert r.status_code == 201
    version = await publish(api, token, policy["id"], draft["id"])
    assert version["state"] == "published"


async def test_completeness_applies_only_to_social_media_policies(api, token):
    policy = await create_policy(api, token, kind="administrative_instruction", identifier="AI 1-19")
    draft = await create_draft(api, token, policy["id"], sections=[{"heading": "Purpose", "body_markdown": "x"}])
    r = await api.get(f"/v1/policies/{policy['id']}/versions/{draft['id']}/completeness", headers=token("admin"))
    assert r.json()["applies"] is False and r.json()["complete"] is True
    version = await publish(api, token, policy["id"], draft["id"])
    assert version["state"] == "published"


async def test_unknown_element_key_is_422_with_path(api, token):
    policy = await create_policy(api, token)
    r = await api.post(f"/v1/policies/{policy['id']}/versions",
                       json={"sections": [{"heading": "A", "elements": ["behavioral_expectations", "bogus"]}]},
                       headers=token("policy_editor"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "sections", 0, "elements", 1]


async def test_published_versions_are_immutable(api, token):
    policy, version = await published_policy(api, token)
    base = f"/v1/policies/{policy['id']}/versions/{version['id']}"
    editor = token("admin", subject="emp-admin")
    section = version["sections"][0]["id"]
    attempts = [
        api.patch(base, json={"change_summary": "sneaky"}, headers=editor),
        api.put(base + "/sections", json=full_sections("!"), headers=editor),
        api.post(base + "/sections", json={"heading": "New"}, headers=editor),
        api.patch(f"{base}/sections/{section}", json={"body_markdown": "changed"}, headers=editor),
        api.delete(f"{base}/sections/{section}", headers=editor),
    ]
    for attempt in attempts:
        r = await attempt
        assert r.status_code == 409, r.text
        assert r.json()["type"] == "urn:civicsocial:problem:immutable-version"
    r = await api.get(base)
    assert r.json()["sections"] == version["sections"] and r.json()["change_summary"] == version["change_summary"]


async def test_illegal_transitions_are_409(api, token):
    policy, version = await published_policy(api, token)
    base = f"/v1/policies/{policy['id']}/versions/{version['id']}"
    for action in ("submit", "approve", "publish", "return"):
        r = await api.post(f"{base}/{action}", headers=token("admin", subject="emp-admin"))
        assert r.status_code == 409, action
        assert r.json()["type"] == "urn:civicsocial:problem:invalid-transition"
    draft = await create_draft(api, token, policy["id"])
    r = await api.post(f"/v1/policies/{policy['id']}/versions/{draft['id']}/publish", headers=token("admin"))
    assert r.status_code == 409
    assert r.json()["allowed"] == ["submit"]
    # Only one open version at a time.
    r = await api.post(f"/v1/policies/{policy['id']}/versions", json={}, headers=token("policy_editor"))
    assert r.status_code == 409


async def test_new_version_supersedes_and_diff(api, token, clock):
    from datetime import timedelta

    policy, v1 = await published_policy(api, token)
    clock.advance(timedelta(days=30))
    draft = await create_draft(api, token, policy["id"], change_summary="Clarified responses")
    assert [s["key"] for s in draft["sections"]] == [s["key"] for s in v1["sections"]]
    base = f"/v1/policies/{policy['id']}/versions/{draft['id']}"
    editor = token("policy_editor", subject="emp-editor")
    sections = draft["sections"]
    await api.patch(f"{base}/sections/{sections[3]['id']}",
                    json={"body_markdown": "Respond within two business days.\nBe courteous."}, headers=editor)
    await api.delete(f"{base}/sections/{sections[7]['id']}", headers=editor)
    await api.post(base + "/sections", json={"heading": "Review schedule", "body_markdown": "Every year.",
                                             "elements": ["policy_review"]}, headers=editor)
    v2 = await publish(api, token, policy["id"], draft["id"])
    assert v2["label"] == "2" and v2["effective_date"] == "2025-03-31"
    r = await api.get(f"/v1/policies/{policy['id']}/versions/{v1['id']}")
    assert r.json()["state"] == "superseded" and r.json()["ended_on"] == "2025-03-31"
    r = await api.get(f"/v1/policies/{policy['id']}/diff", params={"from": v1["id"], "to": v2["id"]})
    assert r.status_code == 200
    d = r.json()
    assert d["counts"] == {"added": 1, "removed": 1, "changed": 1, "unchanged": 6}
    changed = next(s for s in d["sections"] if s["status"] == "changed")
    assert changed["key"] == "response-guidelines"
    assert "-Text about response_guidelines." in changed["unified_diff"]
    assert "+Respond within two business days." in changed["unified_diff"]
    assert changed["unified_diff"].startswith("--- v1/response-guidelines\n+++ v2/response-guidelines\n")
    removed = next(s for s in d["sections"] if s["status"] == "removed")
    assert removed["key"] == "policy-review" and removed["elements_removed"] == ["policy_review"]
    added = next(s for s in d["sections"] if s["status"] == "added")
    assert added["heading_after"] == "Review schedule"
    r = await api.get(f"/v1/policies/{policy['id']}/history")
    assert [e["event"] for e in r.json()["items"]] == ["published", "superseded", "published"]
    r = await api.get(f"/v1/policies/{policy['id']}/versions")
    assert [v["label"] for v in r.json()["items"]] == ["2", "1"]


async def test_markdown_is_sanitised(api, token):
    policy = await create_policy(api, token, kind="other", identifier="X-1")
    evil = ('Hello <script>alert(1)</script> <img src=x onerror="alert(2)">\n\n'
            '[click](javascript:alert(3)) <a href="#" onclick="alert(4)">a</a>\n\n'
            '<iframe src="https://evil.example"></iframe> [ok](https://www.cabq.gov/)')
    draft = await create_draft(api, token, policy["id"], sections=[{"heading": "H", "body_markdown": evil}])
    html = draft["sections"][0]["body_html"]
    assert "<script" not in html and "<img" not in html and "<iframe" not in html and "<a href=\"#\"" not in html
    assert 'href="javascript' not in html
    assert not re.search(r"<[^>]*\son\w+\s*=", html)
    assert '<a href="https://www.cabq.gov/" rel="noopener noreferrer nofollow">ok</a>' in html
    assert draft["sections"][0]["body_markdown"] == evil


async def test_etag_304_on_policy_reads(api, token):
    policy, version = await published_policy(api, token)
    for path in ("/v1/policies", f"/v1/policies/{policy['id']}", f"/v1/policies/{policy['id']}/versions",
                 f"/v1/policies/{policy['id']}/versions/{version['id']}", "/v1/elements", "/v1/feed.atom",
                 f"/v1/policies/{policy['id']}/review", f"/v1/policies/{policy['id']}/history",
                 f"/v1/policies/{policy['id']}/versions/{version['id']}/completeness"):
        r = await api.get(path)
        assert r.status_code == 200, path
        etag = r.headers["etag"]
        assert "public" in r.headers["cache-control"], path
        r2 = await api.get(path, headers={"If-None-Match": f'W/{etag}, "other"'})
        assert r2.status_code == 304, path
        assert r2.headers["etag"] == etag


async def test_change_log_records_version_writes(api, token):
    _policy, version = await published_policy(api, token)
    r = await api.get("/v1/changes", params={"entity_id": version["id"]}, headers=token("records_manager"))
    actions = [e["action"] for e in r.json()["items"]]
    assert actions == ["version.created", "version.submit", "version.approve", "version.publish"]
    publish_entry = r.json()["items"][-1]
    assert publish_entry["before"]["state"] == "approved" and publish_entry["after"]["state"] == "published"
    assert publish_entry["actor"] == "emp-approver"
    assert (await api.get("/v1/changes")).status_code == 401


async def test_atom_feed(api, token):
    await published_policy(api, token)
    r = await api.get("/v1/feed.atom")
    assert r.headers["content-type"].startswith("application/atom+xml")
    assert b"<entry>" in r.content or b"<entry" in r.content
    assert b"Published: SMP-1" in r.content
