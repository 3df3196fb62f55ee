"""Monitoring and review (§1.A.5): scheduling from a REAL running policy_api registry, an import
with good and bad rows, a failed checklist item creating (then attaching to) a case, overdue
detection on a controllable clock, and the coverage figure (also on the public metrics)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.post_urls import incident_key
from shared.timeutil import FrozenClock
from tests.case_api.helpers import forward, idem

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
async def registry(make_app, client, token, live):
    """policy_api with two Police accounts and one Parks account, served on loopback."""
    policy_app = make_app("policy_api")
    server = live(policy_app)
    c = client(make_app("policy_api"))
    admin = token("admin", subject="records-admin")
    ids = {}
    for handle, dept in [("abqpolice", "Police"), ("abqpolice_ig", "Police"), ("abqparks", "Parks")]:
        r = await c.post("/v1/accounts", headers=admin, json={
            "platform": "facebook", "handle": handle, "profile_url": f"https://facebook.com/{handle}",
            "department": dept, "purpose": "news"})
        assert r.status_code == 201, r.text
        ids[handle] = r.json()["id"]
    return {"url": server.url, "ids": ids, "client": c, "admin": admin}


def _csv(rows: list[list[str]]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["Post URL", "Account", "Timestamp", "Content", "Comments"])
    w.writerows(rows)
    return buf.getvalue()


async def test_monitoring_cycle_end_to_end(registry, make_app, client, token):
    clock = FrozenClock(T0)
    app = make_app("case_api", clock=clock, policy_api_url=registry["url"])
    c = client(app)
    mon = token("monitor", subject="mon-1")
    ids = registry["ids"]

    # 1. scheduling from the registry
    r = await c.post("/v1/monitoring/sync", headers=mon)
    assert r.status_code == 200, r.text
    assert r.json()["scheduled"] == 3 and sorted(r.json()["added"]) == sorted(ids.values())
    again = (await c.post("/v1/monitoring/sync", headers=mon)).json()
    assert again["scheduled"] == 0 and again["added"] == []  # idempotent
    r = await registry["client"].patch(f"/v1/accounts/{ids['abqparks']}", json={"status": "retired"},
                                       headers=registry["admin"])
    assert r.status_code == 200, r.text
    retired = (await c.post("/v1/monitoring/sync", headers=mon)).json()
    assert retired["deactivated"] == [ids["abqparks"]] and retired["cancelled"] == 1
    open_reviews = (await c.get("/v1/monitoring/reviews", params={"status": "scheduled"}, headers=mon)).json()
    assert open_reviews["total"] == 2
    review = next(x for x in open_reviews["items"] if x["account_id"] == ids["abqpolice"])
    assert review["due_on"] == (T0.date() + timedelta(days=90 + 14)).isoformat()
    assert {i["element"] for i in review["checklist"]} >= {"prohibition_on_personal_attacks", "response_guidelines"}

    # 2. import: an archiving service's CSV with good and bad rows
    clock.set(T0 + timedelta(days=95))
    day = (T0 + timedelta(days=10)).strftime("%m/%d/%Y %H:%M")
    archive = _csv([
        ["https://www.facebook.com/abqpolice/posts/111?fbclid=abc", "abqpolice", day, "Road closed on Central.",
         "resident1: why?\nabqpolice: Because you never read anything, obviously."],
        ["https://facebook.com/abqpolice/posts/222", "@abqpolice", day, "Join us at the fair!", ""],
        ["", "abqpolice", day, "no url", ""],
        ["https://facebook.com/abqpolice/posts/333", "someone_else", day, "unknown account", ""],
        ["https://facebook.com/abqpolice/posts/444", "abqpolice", "last tuesday", "bad time", ""],
        ["https://facebook.com/abqpolice/posts/555", "abqpolice", "2099-01-01T00:00:00Z", "future", ""],
        ["https://facebook.com/abqpolice/posts/111", "abqpolice", day, "same post again", ""],
    ])
    r = await c.post("/v1/monitoring/imports", json={"format": "archivesocial", "csv": archive}, headers=mon)
    assert r.status_code == 200, r.text
    res = r.json()
    assert (res["received"], res["imported"], res["duplicates"]) == (7, 2, 1)
    assert [x["row"] for x in res["refused"]] == [3, 4, 5, 6]
    assert "missing post URL" in res["refused"][0]["reason"] and "unknown account" in res["refused"][1]["reason"]
    r = await c.post("/v1/monitoring/imports", json={"format": "archivesocial", "csv": archive}, headers=mon)
    assert r.json()["imported"] == 0 and r.json()["duplicates"] == 3  # re-import is idempotent
    r = await c.post("/v1/monitoring/imports", headers=mon, json={"format": "json", "posts": [
        {"url": "https://facebook.com/abqpolice_ig/posts/9", "account_id": ids["abqpolice_ig"],
         "posted_at": (T0 + timedelta(days=3)).isoformat(), "text": "Safety tip", "comments": []}]})
    assert r.json()["imported"] == 1

    # 3. a review: sample, findings, a failed item opens a case with the post as evidence
    r = await c.post(f"/v1/monitoring/reviews/{review['id']}/start", json={"sample_size": 5}, headers=mon)
    assert r.status_code == 200, r.text
    sample = r.json()["sample"]
    assert len(sample) == 2
    items = [i["key"] for i in review["checklist"]]
    case_ids = set()
    for post_id in sample:
        for key in items:
            r = await c.post(f"/v1/monitoring/reviews/{review['id']}/findings", headers=mon,
                             json={"post_id": post_id, "item_key": key, "result": "pass"}) \
                if key not in ("no_personal_attacks", "respectful_and_professional") else None
            if r is not None:
                assert r.status_code == 201, r.text
    findings = []
    for post_id in sample:
        for key in ("no_personal_attacks", "respectful_and_professional"):
            res_ = "fail" if post_id == sample[0] else "pass"
            r = await c.post(f"/v1/monitoring/reviews/{review['id']}/findings", headers=mon,
                             json={"post_id": post_id, "item_key": key, "result": res_, "note": "Mocked a resident."})
            assert r.status_code == 201, r.text
            findings.append(r.json())
            if r.json()["case_id"]:
                case_ids.add(r.json()["case_id"])
    assert len(case_ids) == 1  # two failed items on one post: one case
    case_id = case_ids.pop()
    case = (await c.get(f"/v1/cases/{case_id}", headers=token("investigator"))).json()
    assert case["source"] == "monitoring" and case["department"] == "Police" and case["state"] == "received"
    assert case["evidence"][0]["kind"] == "monitored_post" and case["links"]
    assert set(case["categories"]) == {"personal_attack", "disrespectful_response"}
    # a public report about the same post attaches to the same case
    post_url = case["links"][0]
    svc = token("service:feedback_api", subject="service:feedback_api")
    body = forward(incident_key=incident_key(post_url), links=[post_url])
    r = await c.post("/v1/intake/reports", json=body, headers={**svc, **idem(body["report_id"])})
    assert r.status_code == 200 and r.json()["case_id"] == case_id

    by_element = (await c.get("/v1/monitoring/findings-by-element", headers=mon)).json()
    assert by_element["prohibition_on_personal_attacks"] == {"fail": 1, "pass": 1}

    # 4. complete (all items done) on time; the next review is scheduled
    clock.set(T0 + timedelta(days=100))
    r = await c.post(f"/v1/monitoring/reviews/{review['id']}/complete", headers=mon)
    assert r.status_code == 200 and r.json()["status"] == "completed"
    nxt = (await c.get("/v1/monitoring/reviews", params={"status": "scheduled"}, headers=mon)).json()
    assert any(x["account_id"] == ids["abqpolice"] and x["period_start"] == review["period_end"]
               for x in nxt["items"])

    # 5. overdue detection and coverage with the clock past the other account's due date
    due = (await c.get("/v1/monitoring/reviews/due", params={"within_days": 10}, headers=mon)).json()
    assert [x["account_id"] for x in due["items"]] == [ids["abqpolice_ig"]]
    assert (await c.get("/v1/monitoring/reviews/overdue", headers=mon)).json()["total"] == 0
    clock.set(T0 + timedelta(days=106))
    over = (await c.get("/v1/monitoring/reviews/overdue", headers=mon)).json()
    assert [x["account_id"] for x in over["items"]] == [ids["abqpolice_ig"]]
    cov = (await c.get("/v1/monitoring/coverage", headers=mon)).json()
    assert cov == [{"department": "Police", "accounts": 2, "reviewed_on_schedule": 1, "share": 0.5,
                    "new_accounts": 0}]
    public = (await c.get("/v1/public/metrics")).json()
    assert public["monitoring_coverage"] == cov
    assert (await c.get("/v1/audit/verify", headers=token("auditor"))).json()["ok"] is True


async def test_incomplete_review_cannot_complete_and_writes_need_monitor(registry, make_app, client, token):
    clock = FrozenClock(T0)
    c = client(make_app("case_api", clock=clock, policy_api_url=registry["url"]))
    mon = token("monitor")
    await c.post("/v1/monitoring/sync", headers=mon)
    assert (await c.post("/v1/monitoring/sync", headers=token("investigator"))).status_code == 403
    rv = (await c.get("/v1/monitoring/reviews", headers=mon)).json()["items"][0]
    r = await c.post(f"/v1/monitoring/reviews/{rv['id']}/start", json={}, headers=mon)
    assert r.status_code == 409  # nothing imported yet
    clock.advance(timedelta(days=91))  # the 90-day period has ended: the review may start
    acct = rv["account_id"]
    await c.post("/v1/monitoring/imports", headers=mon, json={"format": "json", "account_id": acct, "posts": [
        {"url": "https://facebook.com/x/posts/1", "posted_at": (T0 + timedelta(days=1)).isoformat(), "text": "hi"}]})
    r = await c.post(f"/v1/monitoring/reviews/{rv['id']}/start", json={}, headers=mon)
    assert r.status_code == 200
    r = await c.post(f"/v1/monitoring/reviews/{rv['id']}/complete", headers=mon)
    assert r.status_code == 409 and r.json()["missing"] == len(rv["checklist"])
    # a department-scoped reader sees only their department's reviews
    parks = token("department_director", department="Parks")
    parks_reviews = (await c.get("/v1/monitoring/reviews", headers=parks)).json()["items"]
    assert parks_reviews and all(x["department"] == "Parks and Recreation" for x in parks_reviews)
    police_review = next(x for x in (await c.get("/v1/monitoring/reviews", headers=mon)).json()["items"]
                         if x["department"] == "Police")
    assert (await c.get(f"/v1/monitoring/reviews/{police_review['id']}", headers=parks)).status_code == 404


async def test_sync_fails_loudly_when_the_registry_is_down(make_app, client, token):
    c = client(make_app("case_api", policy_api_url="http://127.0.0.1:9", http_retries=0))
    r = await c.post("/v1/monitoring/sync", headers=token("monitor"))
    assert r.status_code == 502 and r.headers["content-type"] == "application/problem+json"


def test_json_import_rows_keep_their_threads():
    from services.case_api.domain.post_import import parse_thread

    assert parse_thread(json.dumps([{"author": "a", "text": "t"}]))[0]["author"] == "a"
    assert parse_thread("bob: hello\nplain line") == [
        {"author": "bob", "text": "hello", "at": None}, {"author": None, "text": "plain line", "at": None}]


def test_background_sync_schedules_new_accounts_and_ends_retired_ones(registry, make_app, live, token):
    import time

    import httpx

    server = live(make_app("case_api", policy_api_url=registry["url"], monitoring_sync_seconds=0.2))
    ids = registry["ids"]

    def reviews(status: str) -> set[str]:
        with httpx.Client(base_url=server.url, headers=token("monitor")) as c:
            return {r["account_id"] for r in c.get("/v1/monitoring/reviews", params={"status": status,
                                                                                      "limit": 100}).json()["items"]}

    def wait(pred) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if pred():
                return
            time.sleep(0.1)
        raise AssertionError("the background sync did not get there")

    wait(lambda: reviews("scheduled") == set(ids.values()))
    with httpx.Client(base_url=registry["url"], headers=registry["admin"]) as p:
        assert p.patch(f"/v1/accounts/{ids['abqparks']}", json={"status": "retired"}).status_code == 200
    wait(lambda: reviews("cancelled") == {ids["abqparks"]})
