"""Issue 18 items 1, 2 and 4: review periods that hold, missed cycles that stay missed, honest
coverage with new accounts apart, posts a reviewer can read, URL validation with reasons, and a
risk-ranked sample that includes the top-scored posts. Registry rows are synced through the same
use-case the registry sync runs (sync_registry), the rest over HTTP."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.case_api.domain import monitoring
from shared.schemas.registry import AccountPublic, Platform
from shared.timeutil import FrozenClock
from tests.support.sqlcount import count_statements

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 08:00 in Albuquerque
CADENCE = monitoring.Cadence(default_days=90, grace_days=14)


def _account(handle: str, department: str = "Police") -> AccountPublic:
    return AccountPublic.model_validate({
        "id": f"acct-{handle}", "platform": Platform.facebook, "handle": handle,
        "profile_url": f"https://facebook.com/{handle}", "department": department, "purpose": "news",
        "status": "active", "pio_name": None, "pio_title": None})


@pytest.fixture
def env(make_app, client, token):
    clock = FrozenClock(T0)
    app = make_app("case_api", clock=clock, relay_enabled=False, monitoring_sync_seconds=0)

    def sync(*handles: str) -> monitoring.SyncResult:
        with app.state.db.write() as s:
            return monitoring.sync_registry(s, accounts=[_account(h) for h in handles], now=clock.now(),
                                            cadence=CADENCE, actor="test")

    return {"app": app, "c": client(app), "clock": clock, "sync": sync, "mon": token("monitor", subject="mon-1")}


async def _reviews(env, **params) -> list[dict]:
    r = await env["c"].get("/v1/monitoring/reviews", params={"limit": 100, **params}, headers=env["mon"])
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def _import(env, posts: list[dict]) -> dict:
    r = await env["c"].post("/v1/monitoring/imports", json={"format": "json", "posts": posts}, headers=env["mon"])
    assert r.status_code == 200, r.text
    return r.json()


def _post(n: int, at: datetime, text: str = "Road closed on Central.", **extra) -> dict:
    return {"url": f"https://www.facebook.com/abqpolice/posts/{n}?fbclid=x{n}", "account_id": "acct-abqpolice",
            "posted_at": at.isoformat(), "text": text, **extra}


async def test_a_review_samples_only_its_own_period_and_starts_once_it_has_ended(env):
    env["sync"]("abqpolice")
    (review,) = await _reviews(env)
    assert (review["period_start"], review["period_end"]) == ("2026-12-01", "2027-03-01")
    # on its first day the review cannot start, nor can it on the period's last day
    for day in (0, 89):
        env["clock"].set(T0 + timedelta(days=day))
        r = await env["c"].post(f"/v1/monitoring/reviews/{review['id']}/start", json={}, headers=env["mon"])
        assert r.status_code == 409 and "2027-03-01" in r.json()["detail"], r.text
    env["clock"].set(T0 + timedelta(days=91))
    before = T0 - timedelta(days=1)                       # November: the period before
    inside = T0 + timedelta(days=10)
    after_end = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)   # 00:30 on 1 March in Albuquerque: next period
    last_minute = datetime(2027, 3, 1, 6, 30, tzinfo=UTC)  # 23:30 on 28 February in Albuquerque: this one
    res = await _import(env, [_post(1, before), _post(2, inside), _post(3, after_end), _post(4, last_minute)])
    assert res["imported"] == 4
    r = await env["c"].post(f"/v1/monitoring/reviews/{review['id']}/start", json={"sample_size": 50},
                            headers=env["mon"])
    assert r.status_code == 200, r.text
    posts = (await env["c"].get(f"/v1/monitoring/reviews/{review['id']}/posts", headers=env["mon"])).json()
    assert sorted(p["original_url"].split("?")[0][-1] for p in posts) == ["2", "4"]


async def test_bad_urls_are_refused_with_their_reason_and_the_original_url_is_kept(env):
    env["sync"]("abqpolice")
    env["clock"].set(T0 + timedelta(days=2))
    at = T0 + timedelta(days=1)
    rows = [_post(1, at), {**_post(2, at), "url": "https://not a url/"}, {**_post(3, at), "url": "ftp://x.com/p/1"},
            {**_post(4, at), "url": "facebook.com/abqpolice/posts/4"}, {**_post(5, at), "url": "https://localhost/p"},
            {**_post(6, at), "url": "https://facebook.com/"},
            {**_post(7, at), "screenshot": "javascript:alert(1)"},
            _post(8, at, screenshot="https://archive.example.org/shots/8.png")]
    res = await _import(env, rows)
    assert (res["imported"], res["duplicates"]) == (2, 0)
    reasons = {x["row"]: x["reason"] for x in res["refused"]}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert "spaces" in reasons[2] and "http(s)" in reasons[3] and "http(s)" in reasons[4]
    assert "public domain name" in reasons[5] and "names a site" in reasons[6] and "screenshot" in reasons[7]
    env["clock"].set(T0 + timedelta(days=91))
    (review,) = await _reviews(env)
    await env["c"].post(f"/v1/monitoring/reviews/{review['id']}/start", json={}, headers=env["mon"])
    posts = {p["url"]: p for p in
             (await env["c"].get(f"/v1/monitoring/reviews/{review['id']}/posts", headers=env["mon"])).json()}
    p1 = posts["https://facebook.com/abqpolice/posts/1"]
    assert p1["original_url"] == "https://www.facebook.com/abqpolice/posts/1?fbclid=x1"
    assert posts["https://facebook.com/abqpolice/posts/8"]["screenshot_url"] == "https://archive.example.org/shots/8.png"


async def test_a_reviewer_reads_each_sampled_post_and_the_top_scored_are_in_the_sample(env, token):
    env["sync"]("abqpolice")
    env["clock"].set(T0 + timedelta(days=91))
    at = T0 + timedelta(days=3, hours=2)
    calm = [_post(n, at + timedelta(minutes=n), f"Pool schedule update number {n}.") for n in range(40)]
    heated = [
        _post(100, at, "Library hours this week.", comments=[
            {"author": "resident", "text": "Why were the hours cut?"},
            {"author": "abqpolice", "text": "Maybe check your facts before you post next time."}]),
        _post(101, at, "You are clearly an idiot."),
        _post(102, at, "Vote for Maria Lopez for mayor!"),
    ]
    assert (await _import(env, calm + heated))["imported"] == 43
    (review,) = await _reviews(env)
    r = await env["c"].post(f"/v1/monitoring/reviews/{review['id']}/start", json={"sample_size": 6},
                            headers=env["mon"])
    assert r.status_code == 200, r.text
    posts = (await env["c"].get(f"/v1/monitoring/reviews/{review['id']}/posts", headers=env["mon"])).json()
    assert len(posts) == 6
    top = [p for p in posts if p["sampled_because"] == "top_score"]
    assert {p["url"].rsplit("/", 1)[1] for p in top} == {"100", "101", "102"}
    assert [p["risk_score"] for p in top] == sorted((p["risk_score"] for p in top), reverse=True)
    assert all(p["sampled_because"] == "random" for p in posts[3:])  # low scores are still checked
    attack = next(p for p in posts if p["url"].endswith("/101"))
    assert attack["risk_rules"][0] == "personal_attack" and attack["risk_score"] >= 0.9
    reply = next(p for p in posts if p["url"].endswith("/100"))
    assert reply["risk_rules"] == ["arguing_with_public"] and reply["thread"][1]["author"] == "abqpolice"
    assert reply["account_handle"] == "abqpolice" and reply["platform"] == "facebook"
    assert reply["posted_at_local"] == "2026-12-04 10:00 MST"  # 17:00 UTC
    detail = (await env["c"].get(f"/v1/monitoring/posts/{reply['id']}", headers=env["mon"])).json()
    assert detail["text"] == "Library hours this week." and detail["sampled_because"] is None
    parks = token("department_director", department="Parks")
    assert (await env["c"].get(f"/v1/monitoring/posts/{reply['id']}", headers=parks)).status_code == 404
    assert (await env["c"].get(f"/v1/monitoring/reviews/{review['id']}/posts", headers=parks)).status_code == 404


async def test_missed_cycles_stay_missed_and_the_next_is_scheduled(env):
    env["sync"]("abqpolice")
    (first,) = await _reviews(env)
    # nobody reviews; 200 days later (the first was due on day 104, the second on day 194)
    env["clock"].set(T0 + timedelta(days=200))
    result = env["sync"]("abqpolice")
    assert result.missed == 2 and result.scheduled == 2
    reviews = sorted(await _reviews(env), key=lambda r: r["period_start"])
    assert [r["status"] for r in reviews] == ["missed", "missed", "scheduled"]
    assert reviews[0]["id"] == first["id"]
    assert [r["period_start"] for r in reviews] == [first["period_start"], first["period_end"],
                                                    reviews[1]["period_end"]]
    # a missed review stays missed: it cannot be started late
    r = await env["c"].post(f"/v1/monitoring/reviews/{first['id']}/start", json={}, headers=env["mon"])
    assert r.status_code == 409
    assert env["sync"]("abqpolice").missed == 0  # idempotent
    assert len(await _reviews(env)) == 3
    cov = (await env["c"].get("/v1/monitoring/coverage", headers=env["mon"])).json()
    assert cov == [{"department": "Police", "accounts": 1, "reviewed_on_schedule": 0, "share": 0.0,
                    "new_accounts": 0}]


async def test_coverage_counts_only_accounts_with_a_review_due_and_shows_new_ones(env):
    env["sync"]("abqpolice", "abqpolice_ig")
    env["clock"].advance(timedelta(seconds=30))
    cov = (await env["c"].get("/v1/monitoring/coverage", headers=env["mon"])).json()
    # two accounts registered 30 seconds ago: new, not 100 % covered
    assert cov == [{"department": "Police", "accounts": 0, "reviewed_on_schedule": 0, "share": None,
                    "new_accounts": 2}]
    # one is reviewed on time, the other's review is missed; a third account arrives late
    env["clock"].set(T0 + timedelta(days=91))
    await _import(env, [_post(1, T0 + timedelta(days=5))])
    police = next(r for r in await _reviews(env) if r["account_id"] == "acct-abqpolice")
    r = await env["c"].post(f"/v1/monitoring/reviews/{police['id']}/start", json={}, headers=env["mon"])
    assert r.status_code == 200, r.text
    (post_id,) = r.json()["sample"]
    for item in police["checklist"]:
        r = await env["c"].post(f"/v1/monitoring/reviews/{police['id']}/findings", headers=env["mon"],
                                json={"post_id": post_id, "item_key": item["key"], "result": "pass"})
        assert r.status_code == 201, r.text
    assert (await env["c"].post(f"/v1/monitoring/reviews/{police['id']}/complete", headers=env["mon"])).status_code \
        == 200
    env["clock"].set(T0 + timedelta(days=110))
    env["sync"]("abqpolice", "abqpolice_ig", "abqpolice_x")
    cov = (await env["c"].get("/v1/monitoring/coverage", headers=env["mon"])).json()
    assert cov == [{"department": "Police", "accounts": 2, "reviewed_on_schedule": 1, "share": 0.5,
                    "new_accounts": 1}]
    public = (await env["c"].get("/v1/public/metrics")).json()
    assert public["monitoring_coverage"] == cov


async def test_review_posts_and_post_detail_have_a_constant_query_shape(env):
    env["sync"]("abqpolice")
    env["clock"].set(T0 + timedelta(days=91))
    db = env["app"].state.db

    async def count(url: str) -> int:
        with count_statements(db) as counted:
            r = await env["c"].get(url, headers=env["mon"])
        assert r.status_code == 200, r.text
        return counted.n

    shapes = []
    for n in (1, 50):
        env["sync"]("abqpolice")
        review = next(r for r in await _reviews(env, status="scheduled"))
        start = datetime.combine(date.fromisoformat(review["period_start"]), time.min, tzinfo=UTC)
        end = datetime.combine(date.fromisoformat(review["period_end"]), time.min, tzinfo=UTC)
        env["clock"].set(end + timedelta(hours=12))
        await _import(env, [_post(1000 * n + i, start + timedelta(days=1, minutes=i)) for i in range(n)])
        r = await env["c"].post(f"/v1/monitoring/reviews/{review['id']}/start", json={"sample_size": 50},
                                headers=env["mon"])
        assert r.status_code == 200 and len(r.json()["sample"]) == n, r.text
        shapes.append((await count(f"/v1/monitoring/reviews/{review['id']}/posts"),
                       await count(f"/v1/monitoring/posts/{r.json()['sample'][0]}")))
        # finish it so the next cycle is scheduled
        for item in review["checklist"]:
            for pid in r.json()["sample"]:
                await env["c"].post(f"/v1/monitoring/reviews/{review['id']}/findings", headers=env["mon"],
                                    json={"post_id": pid, "item_key": item["key"], "result": "pass"})
        done = await env["c"].post(f"/v1/monitoring/reviews/{review['id']}/complete", headers=env["mon"])
        assert done.status_code == 200, done.text
    assert shapes[0] == shapes[1], shapes


@pytest.mark.parametrize(("cadence_days", "elapsed_days"), [(7, 3), (30, 45), (90, 104), (90, 105), (30, 400)])
async def test_periods_tile_and_every_past_due_cycle_is_missed(env, cadence_days, elapsed_days):
    """Whatever the cadence and however long nobody looked: the reviews cover consecutive periods
    with no gap or overlap, each one whose due date has passed is missed, and exactly one is
    still to come."""
    cadence = monitoring.Cadence(default_days=cadence_days, grace_days=14)
    with env["app"].state.db.write() as s:
        monitoring.sync_registry(s, accounts=[_account("abqpolice")], now=T0, cadence=cadence, actor="test")
    now = T0 + timedelta(days=elapsed_days)
    for _ in range(2):  # twice: the second pass changes nothing
        with env["app"].state.db.write() as s:
            monitoring.sync_registry(s, accounts=[_account("abqpolice")], now=now, cadence=cadence, actor="test")
    env["clock"].set(now)
    reviews = sorted(await _reviews(env), key=lambda r: r["period_start"])
    today = monitoring.city_today(now)
    for a, b in itertools.pairwise(reviews):
        assert a["period_end"] == b["period_start"]
    for r in reviews:
        assert date.fromisoformat(r["period_end"]) - date.fromisoformat(r["period_start"]) == timedelta(
            days=cadence_days)
        past_due = date.fromisoformat(r["due_on"]) < today
        assert r["status"] == ("missed" if past_due else "scheduled"), (r, today)
    assert sum(r["status"] == "scheduled" for r in reviews) == 1
    assert reviews[-1]["status"] == "scheduled"
