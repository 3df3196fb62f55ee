"""Issue 15 item 1: every report linked to a case keeps its own testimony, and staff can link or
merge two cases about one incident (audited; testimony and evidence from both kept)."""

from __future__ import annotations

from services.case_api.domain import audit
from tests.case_api.helpers import forward, idem, staff_case
from tests.support.sqlcount import count_statements

SHA_A, SHA_B = "a" * 64, "b" * 64


def _ev(eid: str, sha: str) -> dict:
    return {"id": eid, "media_type": "image/png", "size_bytes": 10, "sha256": sha}


async def _intake(c, svc, body) -> dict:
    r = await c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})
    assert r.status_code in (200, 201), r.text
    return r.json()


async def test_a_second_report_about_the_same_post_keeps_its_own_testimony(make_app, client, token):
    c = client(make_app("case_api", relay_enabled=False))
    svc = token("service:feedback_api", subject="service:feedback_api")
    a = forward(incident_key="post-7", description="First: the reply called me an idiot.", seen_on="2026-11-18",
                evidence=[_ev("ev-a", SHA_A)], links=["https://facebook.com/abqpolice/posts/7"])
    b = forward(incident_key="post-7", description="Second: I saw it too, it was deleted an hour later.",
                categories=["disrespectful_response"], seen_on="2026-11-19", evidence=[_ev("ev-b", SHA_B)],
                links=["https://facebook.com/abqpolice/posts/7?comment=9"])
    case_id = (await _intake(c, svc, a))["case_id"]
    assert (await _intake(c, svc, b))["case_id"] == case_id
    case = (await c.get(f"/v1/cases/{case_id}", headers=token("intake"))).json()
    reports = case["reports"]
    assert [r["report_id"] for r in reports] == [a["report_id"], b["report_id"]]  # in order
    assert reports[1]["description"] == "Second: I saw it too, it was deleted an hour later."
    assert reports[1]["categories"] == ["disrespectful_response"] and reports[1]["seen_on"] == "2026-11-19"
    assert reports[1]["links"] == ["https://facebook.com/abqpolice/posts/7?comment=9"]
    assert reports[1]["evidence"][0]["sha256"] == SHA_B
    assert reports[0]["description"] == "First: the reply called me an idiot." and reports[0]["seen_on"] == "2026-11-18"


async def test_merging_keeps_both_cases_testimony_and_evidence_and_is_audited(make_app, client, token, databases):
    app = make_app("case_api", relay_enabled=False)
    c = client(app)
    svc = token("service:feedback_api", subject="service:feedback_api")
    # the same incident reported under two URLs: two cases
    a = forward(incident_key="url-1", description="Testimony one.", evidence=[_ev("ev-1", SHA_A)])
    b = forward(incident_key="url-2", description="Testimony two, about the same reply.",
                categories=["misleading_information"], evidence=[_ev("ev-2", SHA_B)])
    survivor = (await _intake(c, svc, a))["case_id"]
    other = (await _intake(c, svc, b))["case_id"]
    assert survivor != other
    inv = token("investigator", subject="inv-1")
    r = await c.post(f"/v1/cases/{survivor}/links", json={"other_case_id": other, "kind": "merged",
                                                          "reason": "Same reply, screenshot and URL of the thread."},
                     headers=inv)
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "merged" and r.json()["other_case_id"] == other
    case = (await c.get(f"/v1/cases/{survivor}", headers=token("intake"))).json()
    texts = [x["description"] for x in case["reports"]]
    assert texts == ["Testimony one.", "Testimony two, about the same reply."]
    assert case["reports"][1]["merged_from"] == other
    assert {e["id"] for e in case["evidence"]} == {"ev-1", "ev-2"}
    assert "misleading_information" in case["categories"]
    gone = (await c.get(f"/v1/cases/{other}", headers=token("intake"))).json()
    assert gone["state"] == "dismissed" and gone["dismissal_reason"].startswith("Merged into " + case["reference"])
    # a later message from the second reporter reaches the surviving case
    msg = {"message_id": "m-merge", "body": "One more detail."}
    r = await c.post(f"/v1/intake/reports/{b['report_id']}/messages", json=msg, headers={**svc, **idem("m-merge")})
    assert r.status_code == 201
    msgs = (await c.get(f"/v1/cases/{survivor}/messages", headers=inv)).json()
    assert [m["body"] for m in msgs] == ["One more detail."]
    # both sides list the link; both are audited; the chain still verifies
    links = (await c.get(f"/v1/cases/{other}/links", headers=token("intake"))).json()
    assert [(x["kind"], x["other_case_id"], x["direction"]) for x in links] == [("merged", survivor, "other_case")]
    trail = (await c.get(f"/v1/audit/cases/{survivor}?limit=100", headers=token("auditor"))).json()
    assert "case.merged" in [e["action"] for e in trail]
    trail = (await c.get(f"/v1/audit/cases/{other}?limit=100", headers=token("auditor"))).json()
    assert "case.merged_into" in [e["action"] for e in trail]
    assert audit.verify(app.state.db).ok
    # merging again, or into itself, is refused
    again = await c.post(f"/v1/cases/{survivor}/links", json={"other_case_id": other, "kind": "related",
                                                              "reason": "again"}, headers=inv)
    assert again.status_code == 409
    itself = await c.post(f"/v1/cases/{survivor}/links", json={"other_case_id": survivor, "kind": "related",
                                                               "reason": "x"}, headers=inv)
    assert itself.status_code == 422


async def test_related_cases_stay_open_and_only_staff_who_may_link_can(make_app, client, token):
    c = client(make_app("case_api", relay_enabled=False))
    one = await staff_case(c, token)
    two = await staff_case(c, token, summary="Another reply on the same thread.")
    r = await c.post(f"/v1/cases/{one['id']}/links", json={"other_case_id": two["id"], "kind": "related",
                                                           "reason": "Same thread"}, headers=token("pio"))
    assert r.status_code == 403
    r = await c.post(f"/v1/cases/{one['id']}/links", json={"other_case_id": two["id"], "kind": "related",
                                                           "reason": "Same thread"}, headers=token("intake"))
    assert r.status_code == 201, r.text
    assert (await c.get(f"/v1/cases/{two['id']}", headers=token("intake"))).json()["state"] == "received"
    # another department's director cannot see (or link) either case
    parks = token("department_director", department="Parks and Recreation")
    assert (await c.get(f"/v1/cases/{one['id']}/links", headers=parks)).status_code == 404


async def test_merge_refused_once_a_case_has_a_finding(make_app, client, token):
    from tests.case_api.helpers import sustained

    c = client(make_app("case_api", relay_enabled=False))
    done = await sustained(c, token, employee="emp-9", severity=1)
    fresh = await staff_case(c, token)
    r = await c.post(f"/v1/cases/{fresh['id']}/links", json={"other_case_id": done["id"], "kind": "merged",
                                                             "reason": "same"}, headers=token("investigator"))
    assert r.status_code == 409


async def test_links_list_query_shape(make_app, client, token):
    app = make_app("case_api", relay_enabled=False)
    c = client(app)
    hub = await staff_case(c, token)
    hdr = token("intake")

    async def add() -> None:
        other = await staff_case(c, token)
        r = await c.post(f"/v1/cases/{hub['id']}/links", json={"other_case_id": other["id"], "kind": "related",
                                                               "reason": "same incident"}, headers=hdr)
        assert r.status_code == 201

    async def count() -> int:
        with count_statements(app.state.db) as counted:
            r = await c.get(f"/v1/cases/{hub['id']}/links", headers=hdr)
        assert r.status_code == 200
        return counted.n

    await add()
    one = await count()
    for _ in range(49):
        await add()
    assert len((await c.get(f"/v1/cases/{hub['id']}/links", headers=hdr)).json()) == 50
    assert await count() == one
