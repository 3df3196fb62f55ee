"""Issue 20 item 2: a policy record that tells the truth (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.policy_api.domain.completeness import is_substantive
from tests.policy_api.helpers import (
    ATTEST,
    ELEMENT_KEYS,
    create_draft,
    create_policy,
    full_sections,
    publish,
    published_policy,
)


@pytest.mark.parametrize("body", ["", "   \n\t", "TBD", "**TODO**", "To be written.", "Lorem ipsum dolor sit amet",
                                  "...", "- \n- ", "insert text here", "x"])
def test_placeholder_text_is_not_substantive(body):
    assert not is_substantive(body)


async def test_an_empty_section_covers_no_element(api, token):
    policy = await create_policy(api, token)
    sections = full_sections()
    sections[7] = {**sections[7], "body_markdown": "  TBD  "}
    sections[6] = {**sections[6], "body_markdown": ""}
    draft = await create_draft(api, token, policy["id"], sections=sections)
    base = f"/v1/policies/{policy['id']}/versions/{draft['id']}"
    check = (await api.get(base + "/completeness", headers=token("policy_editor"))).json()
    assert check["missing"] == ["restorative_actions", "policy_review"]
    await api.post(base + "/submit", headers=token("policy_editor", subject="emp-editor"))
    r = await api.post(base + "/approve", json=ATTEST, headers=token("policy_approver", subject="emp-approver"))
    assert r.status_code == 422 and r.json()["missing_elements"] == ["restorative_actions", "policy_review"]


async def test_an_imported_version_keeps_its_real_date_and_is_overdue(api, token):
    ai = await create_policy(api, token, kind="administrative_instruction", identifier="AI 1-19")
    draft = await create_draft(api, token, ai["id"], sections=full_sections())
    v = await publish(api, token, ai["id"], draft["id"], effective_date="2022-07-01", published_on="2022-07-01")
    assert v["published_on"] == "2022-07-01" and v["backdated"] is False
    status = (await api.get(f"/v1/policies/{ai['id']}/review")).json()
    assert status["basis_date"] == "2022-07-01" and status["next_review_due"] == "2023-07-01"
    assert status["overdue"] is True
    due = (await api.get("/v1/reviews/due", params={"within_days": 0}, headers=token("policy_editor"))).json()
    assert [d["identifier"] for d in due["items"]] == ["AI 1-19"]


async def test_publication_date_cannot_be_in_the_future(api, token):
    policy = await create_policy(api, token)
    draft = await create_draft(api, token, policy["id"], sections=full_sections())
    base = f"/v1/policies/{policy['id']}/versions/{draft['id']}"
    await api.post(base + "/submit", headers=token("policy_editor", subject="emp-editor"))
    await api.post(base + "/approve", json=ATTEST, headers=token("policy_approver", subject="emp-approver"))
    r = await api.post(base + "/publish", json={"published_on": "2030-01-01"}, headers=token("policy_approver"))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "published_on"]


async def test_effective_date_before_the_policy_existed_is_refused_and_backdating_is_shown(api, token, clock):
    policy = await create_policy(api, token)  # created 2025-03-01 (the frozen clock)
    draft = await create_draft(api, token, policy["id"], sections=full_sections())
    base = f"/v1/policies/{policy['id']}/versions/{draft['id']}"
    await api.post(base + "/submit", headers=token("policy_editor", subject="emp-editor"))
    await api.post(base + "/approve", json=ATTEST, headers=token("policy_approver", subject="emp-approver"))
    r = await api.post(base + "/publish", json={"effective_date": "2020-01-01"}, headers=token("policy_approver"))
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "effective_date_too_early"
    clock.set(datetime(2025, 3, 20, 12, tzinfo=UTC))
    r = await api.post(base + "/publish", json={"effective_date": "2025-03-05"}, headers=token("policy_approver"))
    assert r.status_code == 200, r.text
    assert r.json()["published_on"] == "2025-03-20" and r.json()["backdated"] is True


async def test_an_editor_alone_cannot_change_the_review_interval(api, token):
    policy = await create_policy(api, token)
    url = f"/v1/policies/{policy['id']}"
    r = await api.patch(url, json={"review_interval_months": 60}, headers=token("policy_editor", subject="emp-e"))
    assert r.status_code == 403 and r.json()["type"] == "urn:civicsocial:problem:approver-required"
    r = await api.patch(url, json={"review_interval_months": 60, "title": "Renamed"},
                        headers=token("records_manager", subject="emp-r"))
    assert r.status_code == 403
    unchanged = (await api.get(url, headers=token("policy_editor"))).json()
    assert unchanged["title"] == "Social Media Policy"
    # The editor may still change other metadata, and restating the same interval is no change.
    r = await api.patch(url, json={"title": "Renamed", "review_interval_months": 12},
                        headers=token("policy_editor", subject="emp-e"))
    assert r.status_code == 200, r.text
    r = await api.patch(url, json={"review_interval_months": 24}, headers=token("policy_approver", subject="emp-a"))
    assert r.status_code == 200
    changes = (await api.get("/v1/changes", params={"entity_id": policy["id"]}, headers=token("policy_editor"))).json()
    by_approver = [c for c in changes["items"] if c["actor"] == "emp-a"]
    assert [(c["before"]["review_interval_months"], c["after"]["review_interval_months"]) for c in by_approver] \
        == [(12, 24)]


async def test_the_approver_attests_each_element(api, token):
    policy = await create_policy(api, token)
    draft = await create_draft(api, token, policy["id"], sections=full_sections())
    base = f"/v1/policies/{policy['id']}/versions/{draft['id']}"
    await api.post(base + "/submit", headers=token("policy_editor", subject="emp-editor"))
    approver = token("policy_approver", subject="emp-approver")
    r = await api.post(base + "/approve", headers=approver)
    assert r.status_code == 422 and r.json()["missing_attestations"] == ELEMENT_KEYS
    r = await api.post(base + "/approve", json={"attested_elements": ELEMENT_KEYS[:6]}, headers=approver)
    assert r.status_code == 422
    problem = r.json()
    assert problem["missing_attestations"] == ["restorative_actions", "policy_review"]
    assert [e["loc"] for e in problem["errors"]] == [["body", "attested_elements", "restorative_actions"],
                                                    ["body", "attested_elements", "policy_review"]]
    r = await api.post(base + "/approve", json={"attested_elements": [*ELEMENT_KEYS, "made_up"]}, headers=approver)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "unknown_element"
    r = await api.post(base + "/approve", json={"attested_elements": list(reversed(ELEMENT_KEYS))}, headers=approver)
    assert r.status_code == 200, r.text
    assert r.json()["staff"]["attested_elements"] == ELEMENT_KEYS
    # Returned for changes, the attestation is void: the next approval attests again.
    r = await api.post(base + "/return", headers=approver)
    assert r.json()["staff"]["attested_elements"] == []


async def test_retiring_needs_two_people_and_the_policy_stays_listed_as_retired(api, token):
    policy, version = await published_policy(api, token, identifier="AI 2-20", kind="administrative_instruction")
    base = f"/v1/policies/{policy['id']}/versions/{version['id']}"
    requester, other = token("records_manager", subject="emp-r"), token("policy_approver", subject="emp-a")
    r = await api.post(base + "/retire/confirm", headers=other)  # nothing requested yet
    assert r.status_code == 409
    r = await api.post(base + "/retire", json={"reason": "Replaced by the City policy SMP-1."},
                       headers=token("policy_editor", subject="emp-e"))
    assert r.status_code == 403
    r = await api.post(base + "/retire", json={"reason": "Replaced by the City policy SMP-1."}, headers=requester)
    assert r.status_code == 200 and r.json()["state"] == "published"
    assert r.json()["staff"]["retirement_requested_by"] == "emp-r"
    assert (await api.post(base + "/retire", json={"reason": "Again."}, headers=other)).status_code == 409
    # The requester cannot confirm (even holding the approver role), and records staff may not confirm.
    r = await api.post(base + "/retire/confirm", headers=token("policy_approver", "records_manager", subject="emp-r"))
    assert r.status_code == 403 and r.json()["type"] == "urn:civicsocial:problem:two-person-rule"
    assert (await api.post(base + "/retire/confirm", headers=token("records_manager", subject="emp-x"))).status_code \
        == 403
    r = await api.post(base + "/retire/confirm", headers=other)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "retired" and r.json()["staff"]["retired_by"] == "emp-a"

    listed = (await api.get("/v1/policies")).json()["items"]
    assert [(p["identifier"], p["status"], p["retired_on"], p["current_version"]) for p in listed] == [
        ("AI 2-20", "retired", "2025-03-01", None)]
    history = (await api.get(f"/v1/policies/{policy['id']}/history")).json()["items"]
    assert sorted(e["event"] for e in history) == ["published", "retired"]
    page = (await api.get("/transparency")).text
    assert "AI 2-20" in page and "Retired" in page and "without a successor" in page
    assert (await api.get(f"/transparency/policies/{policy['id']}")).status_code == 200
    feed = (await api.get("/v1/feed.atom")).text
    assert f"urn:civicsocial:policy-retirement:{version['id']}" in feed
    assert "Retired: AI 2-20" in feed and "Replaced by the City policy SMP-1." in feed


async def test_policy_in_force_takes_the_employees_department_into_account(api, token, clock):
    """A Police policy, back-dated to 2020 and published later, is not the policy in force for a Parks
    employee; the citywide one is. For a Police employee (given, or known from their posting privileges)
    the department's own policy comes first."""
    _, city_v = await published_policy(api, token, identifier="SMP-1")  # effective 2025-03-01
    police = await create_policy(api, token, identifier="APD-SOP-1-9", department="Police", citywide=False)
    assert police["citywide"] is False
    draft = await create_draft(api, token, police["id"], sections=full_sections())
    clock.advance(timedelta(days=30))
    police_v = await publish(api, token, police["id"], draft["id"], effective_date="2025-03-01")
    r = await api.post("/v1/accounts", json={"platform": "facebook", "handle": "AlbuquerquePolice", "department":
                                             "police", "profile_url": "https://www.facebook.com/AlbuquerquePolice"},
                       headers=token("records_manager"))
    account = r.json()
    await api.post(f"/v1/accounts/{account['id']}/privileges/grant", json={"employee_id": "emp-apd", "reason": "PIO"},
                   headers=token("records_manager"))
    svc = token("service:case_api", subject="service:case_api")

    async def in_force(employee, **params):
        r = await api.get("/v1/acknowledgements/check", params={"employee_id": employee, "on": "2025-04-15", **params},
                          headers=svc)
        assert r.status_code == 200, r.text
        return r.json()["version_id"]

    assert await in_force("emp-parks") == city_v["id"]
    assert await in_force("emp-parks", department="Parks and Recreation") == city_v["id"]
    assert await in_force("emp-x", department="Police") == police_v["id"]
    assert await in_force("emp-apd") == police_v["id"]  # from the account they post on
    # Before the privilege was granted (2025-03-31), emp-apd's department was not known from it.
    r = await api.get("/v1/acknowledgements/check", params={"employee_id": "emp-apd", "on": "2025-03-15"},
                      headers=svc)
    assert r.json()["version_id"] == city_v["id"]
