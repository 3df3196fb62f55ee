"""Intake stays open under abuse (issue 21 item 1): no shared budget, honeypot and invalid
submissions consume nobody's budget, proof of work under abnormal load (widget) with a slower
no-JavaScript path, and a shared City Hall address can still report.

Each address is a real peer address of the ASGI connection (``httpx.ASGITransport(client=...)``),
which is what the rate limiter keys on when no proxy is trusted.
"""

from __future__ import annotations

import json
import re
import time

import httpx
from sqlalchemy import func, select
from sqlmodel import Session

from services.feedback_api.domain.models import Submission
from services.feedback_api.domain.pow import leading_zero_bits, solve, work_digest
from services.feedback_api.settings import FeedbackSettings
from tests.feedback_api.conftest import report_body

DEFAULTS = FeedbackSettings.model_fields
CHEAP_HASH = {"receipt_hash_memory_kib": 8, "receipt_hash_time_cost": 1, "receipt_pool_size": 0}
# The production defaults for what the issue measured (fb_app raises the per-client limits).
PRODUCTION_LIMITS = {
    "rate_submit_per_client": DEFAULTS["rate_submit_per_client"].default,
    "rate_receipt_per_client": DEFAULTS["rate_receipt_per_client"].default,
}


def at(app, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                             base_url="http://testserver")


def stored(databases) -> int:
    with Session(databases["feedback_api"].engine) as s:
        return int(s.execute(select(func.count()).select_from(Submission)).scalar_one())


def honeypot() -> dict:
    return report_body(website="http://spam.example")


async def test_25_addresses_of_honeypot_reports_do_not_lock_out_a_new_resident(fb_app, databases):
    """The issue's first lockout: 25 addresses x 5 honeypot reports filled the overall 120/minute
    limit and a new resident's first report got 429."""
    assert DEFAULTS["rate_submit_overall"].default is None  # no shared budget by default
    app = fb_app(**PRODUCTION_LIMITS, **CHEAP_HASH)
    for n in range(25):
        async with at(app, f"198.51.100.{n + 1}") as bot:
            for _ in range(5):
                r = await bot.post("/v1/reports", json=honeypot())
                assert r.status_code == 201 and r.json()["receipt"]  # the decoy looks like success
    assert stored(databases) == 0
    async with at(app, "203.0.113.7") as resident:
        r = await resident.post("/v1/reports", json=report_body())
    assert r.status_code == 201, r.text
    # and the honeypot consumed nobody's budget: a bot address still has its 5 real reports
    async with at(app, "198.51.100.1") as same_address:
        assert [(await same_address.post("/v1/reports", json=report_body())).status_code
                for _ in range(5)] == [201] * 5
    assert stored(databases) == 6


async def test_61_addresses_of_wrong_receipts_do_not_block_a_correct_receipt(fb_app):
    """The issue's second lockout: with 61 addresses sending wrong receipts, even a correct receipt
    got 429 (the overall wrong-receipt cap was 300/minute)."""
    assert DEFAULTS["rate_receipt_failures_overall"].default is None
    app = fb_app(**PRODUCTION_LIMITS, **CHEAP_HASH)
    async with at(app, "203.0.113.7") as resident:
        receipt = (await resident.post("/v1/reports", json=report_body())).json()["receipt"]
    for n in range(61):
        async with at(app, f"198.51.100.{n + 1}") as guesser:
            for i in range(5):
                r = await guesser.post("/v1/receipts/status", json={"receipt": f"{n:08d}{i:08d}"})
                assert r.status_code == 404
            if n == 0:  # each guesser is still limited on its own
                assert (await guesser.post("/v1/receipts/status", json={"receipt": "1" * 16})).status_code == 429
    async with at(app, "203.0.113.7") as resident:
        r = await resident.post("/v1/receipts/status", json={"receipt": receipt})
    assert r.status_code == 200, r.text


async def test_invalid_submissions_consume_no_budget(fb_app, databases):
    app = fb_app(rate_submit_per_client="1/minute")
    async with at(app, "203.0.113.9") as c:
        for _ in range(10):
            assert (await c.post("/v1/reports", json=report_body(description=""))).status_code == 422
            assert (await c.post("/v1/reports", json=report_body(seen_on="2999-01-01"))).status_code == 422
        assert (await c.post("/v1/reports", json=report_body())).status_code == 201
        assert (await c.post("/v1/reports", json=report_body())).status_code == 428  # now the budget is used


async def test_a_honeypot_flood_from_one_address_ends_in_429_without_blocking_real_reports(fb_app, databases):
    app = fb_app(rate_submit_rejected_per_client="3/minute", rate_submit_per_client="2/minute")
    async with at(app, "198.51.100.50") as c:
        assert [(await c.post("/v1/reports", json=honeypot())).status_code for _ in range(5)] == [201] * 3 + [429] * 2
        assert (await c.post("/v1/reports", json=report_body())).status_code == 201  # its own real budget is intact
    assert stored(databases) == 1


async def test_a_shared_city_hall_address_reports_past_its_budget_with_proof_of_work(fb_app, databases):
    app = fb_app(rate_submit_per_client="3/minute", rate_submit_pow_per_client="4/minute", pow_difficulty_bits=8)
    async with at(app, "192.0.2.10") as city_hall:  # many residents behind one address
        assert [(await city_hall.post("/v1/reports", json=report_body())).status_code for _ in range(3)] == [201] * 3
        statuses = []
        for _ in range(6):
            r = await city_hall.post("/v1/reports", json=report_body())
            assert r.status_code == 428 and r.headers["content-type"] == "application/problem+json"
            problem = r.json()
            assert problem["type"] == "urn:civicsocial:problem:proof-of-work-required" and problem["bits"] == 8
            proof = f"{problem['challenge']}:{solve(problem['challenge'], problem['bits'])}"
            r = await city_hall.post("/v1/reports", json=report_body(), headers={"Proof-Of-Work": proof})
            statuses.append(r.status_code)
            # a proof is spent once
            assert (await city_hall.post("/v1/reports", json=report_body(),
                                         headers={"Proof-Of-Work": proof})).status_code in (428, 429)
        assert statuses == [201] * 4 + [429] * 2  # the larger proof-of-work budget, then 429
    assert stored(databases) == 7


async def test_abnormal_load_asks_everyone_for_proof_of_work(fb_app, databases):
    app = fb_app(pow_trigger_clients_per_minute=10, pow_difficulty_bits=8, **CHEAP_HASH)
    statuses = []
    for n in range(11):  # more distinct clients in a minute than the threshold
        async with at(app, f"198.51.100.{n + 1}") as bot:
            statuses.append((await bot.post("/v1/reports", json=honeypot())).status_code)
    assert statuses == [201] * 10 + [428]
    async with at(app, "203.0.113.7") as resident:
        r = await resident.post("/v1/reports", json=report_body())
        assert r.status_code == 428
        challenge, bits = r.json()["challenge"], r.json()["bits"]
        wrong = next(str(n) for n in range(1000) if leading_zero_bits(work_digest(challenge, str(n))) < bits)
        tampered = challenge[:-2] + ("AA" if not challenge.endswith("AA") else "BB")
        for bad in (f"{challenge}:x", f"{challenge}:{wrong}", f"{tampered}:{solve(tampered, bits)}", "garbage"):
            assert (await resident.post("/v1/reports", json=report_body(),
                                        headers={"Proof-Of-Work": bad})).status_code == 428
        started = time.perf_counter()
        nonce = solve(challenge, bits)
        r = await resident.post("/v1/reports", json=report_body(), headers={"Proof-Of-Work": f"{challenge}:{nonce}"})
        assert r.status_code == 201, r.text
        assert time.perf_counter() - started < 5
        # feedback goes through the same gate
        r = await resident.post("/v1/feedback", json={"policy_id": "p", "version_id": "v", "text": "x"})
        assert r.status_code == 428
    assert stored(databases) == 1


FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def nojs_form(token: str, **overrides) -> dict[str, str]:
    form = {"lang": "en", "form_token": token, "pow_nonce": "", "account_id": "__other",
            "account_text": "@abqcityexample", "platform": "facebook", "categories": "personal_attack",
            "links": "https://www.facebook.com/abq/posts/123", "description": "Insulted a resident.", "website": ""}
    form.update(overrides)
    return form


SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:8002"}


async def test_abnormal_load_lets_a_resident_without_javascript_through_on_the_slow_allowance(fb_app, databases):
    app = fb_app(pow_trigger_clients_per_minute=0, nojs_min_form_seconds=5, rate_submit_slow_per_client="2/minute")
    async with at(app, "203.0.113.7") as resident:
        page = await resident.get("/report")
        assert "<noscript>" in page.text and "cs-busy-note" in page.text
        token = FORM_TOKEN.search(page.text).group(1)
        # sent at once (a script would): asked to wait, answers kept, a fresh token given
        r = await resident.post("/report", data=nojs_form(token), headers=SAME_ORIGIN)
        assert r.status_code == 200 and "Many reports are arriving right now" in r.text
        assert "Insulted a resident." in r.text and FORM_TOKEN.search(r.text).group(1) != token
        assert stored(databases) == 0
        # a person takes longer than five seconds to fill in the form
        for _ in range(2):
            old = app.state.guard.challenges.issue(now=time.time() - 30).text
            r = await resident.post("/report", data=nojs_form(old), headers=SAME_ORIGIN)
            assert r.status_code == 200 and 'id="cs-reference"' in r.text, r.text[-2000:]
            assert (await resident.post("/report", data=nojs_form(old), headers=SAME_ORIGIN)).status_code == 200
        assert stored(databases) == 2  # each token admits once
        old = app.state.guard.challenges.issue(now=time.time() - 30).text
        r = await resident.post("/report", data=nojs_form(old), headers=SAME_ORIGIN)
        assert "too many attempts" in r.text  # the slow allowance is per client, then 429's message
    assert stored(databases) == 2


# --- cross-site forms (issue 21 item 6) ---------------------------------------------------------------


async def test_report_form_is_refused_from_another_site(fb_app, databases):
    app = fb_app(cors_origins=["https://www.cabq.gov"])
    async with at(app, "203.0.113.7") as browser:
        token = FORM_TOKEN.search((await browser.get("/report")).text).group(1)
        for headers in (
            {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site", "Origin": "https://other.cabq.gov"},
            {"Origin": "https://evil.example"},
            {"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"},
            {},  # an old browser, without the form token
        ):
            r = await browser.post("/report", data=nojs_form(token if headers else ""), headers=headers)
            assert r.status_code == 403, headers
            assert "only be sent from the City" in r.text
        forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        assert (await browser.post("/report", data=nojs_form(forged))).status_code == 403
    assert stored(databases) == 0


async def test_report_form_from_our_pages_and_old_browsers_with_the_token_is_accepted(fb_app, databases):
    app = fb_app(cors_origins=["https://www.cabq.gov"])
    async with at(app, "203.0.113.7") as browser:
        token = FORM_TOKEN.search((await browser.get("/report")).text).group(1)
        for headers in (
            SAME_ORIGIN,
            {"Sec-Fetch-Site": "none"},
            {"Origin": "http://127.0.0.1:8002"},
            {"Sec-Fetch-Site": "same-site", "Origin": "https://www.cabq.gov"},  # a configured City origin
            {},  # an old browser: neither header, the signed token of the page it was served
        ):
            r = await browser.post("/report", data=nojs_form(token), headers=headers)
            assert r.status_code == 200 and 'id="cs-reference"' in r.text, headers
    assert stored(databases) == 5


# --- the widget's solver (widget.js, run by node's Web Crypto, checked by the server) -----------------


def test_the_widgets_solver_finds_proofs_the_server_accepts(fb_app):
    import subprocess
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "services/feedback_api/widget/static/widget.js").read_text()
    functions = [re.search(rf"(?:async )?function {name}\(.*?\n}}\n", source, re.S).group(0)
                 for name in ("zeroBits", "solveChallenge")]
    app = fb_app(pow_difficulty_bits=12)
    challenges = app.state.guard.challenges
    issued = [challenges.issue().text for _ in range(3)]
    script = "\n".join(functions) + (
        f"\nconst started = Date.now();\nconst out = [];\nfor (const c of {json.dumps(issued)}) "
        "out.push(await solveChallenge(c, 12));"
        "\nconsole.log(JSON.stringify({nonces: out, ms: Date.now() - started}));\n")
    run = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60,
                         check=True)
    result = json.loads(run.stdout)
    for challenge, nonce in zip(issued, result["nonces"], strict=True):
        assert challenges.verify_work(f"{challenge}:{nonce}")
        assert not challenges.verify_work(f"{challenge}:{nonce}")  # spent
