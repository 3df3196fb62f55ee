"""The Transparency page: server-rendered, works without JavaScript, accessible structure, strict CSP,
the widget snippet, overdue reviews shown plainly, Spanish, statistics from case_api when available."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.policy_api.helpers import create_draft, create_policy, full_sections, publish, published_policy
from tests.policy_api.test_registry import create_account

FEEDBACK = "https://feedback.example.gov"


def _no_scripts_but_the_loader(html: str) -> None:
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == [f'<script src="{FEEDBACK}/widget/v1/loader.js" async>'], scripts
    assert not re.search(r"<[^>]*\son\w+\s*=", html)  # no inline handlers anywhere


async def test_page_lists_policies_accounts_and_embeds_the_widget(make_app, client, token, clock):
    app = make_app("policy_api", clock=clock, feedback_public_url=FEEDBACK, case_api_url="http://127.0.0.1:9")
    api = client(app)
    policy, version = await published_policy(api, token)
    ai = await create_policy(api, token, kind="administrative_instruction", identifier="AI 1-19")
    ai_v = await create_draft(api, token, ai["id"], sections=[{"heading": "Purpose", "body_markdown": "x"}])
    await publish(api, token, ai["id"], ai_v["id"], effective_date="2022-07-01", published_on="2022-07-01")
    await create_account(api, lambda *r, **k: token(*r, **k), department="Police")
    r = await api.get("/transparency")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="en">' in html
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in html
    assert html.count("<h1") == 1
    assert "SMP-1" in html and "AI 1-19" in html and "Administrative Instruction" in html
    assert "March 1, 2025" in html and "July 1, 2022" in html
    assert f"/transparency/policies/{policy['id']}" in html
    assert "@cityofalbuquerque" in html and "Jane Doe, Communications Director" in html
    snippet = (f'<div data-civicsocial-widget lang="en"></div><script src="{FEEDBACK}/widget/v1/loader.js" '
               f'async></script>')
    assert snippet in html
    assert f'href="{FEEDBACK}/report?lang=en"' in html
    _no_scripts_but_the_loader(html)
    csp = r.headers["content-security-policy"]
    assert f"script-src 'self' {FEEDBACK}" in csp and f"frame-src {FEEDBACK}" in csp
    assert "default-src 'none'" in csp and "'unsafe-inline'" not in csp
    assert "Cases and monitoring" not in html  # case_api unreachable: section omitted
    # Stylesheet is served from our origin.
    css = await api.get("/transparency/static/transparency.css")
    assert css.status_code == 200 and "@media print" in css.text
    assert (await api.get("/transparency/static/../settings.py")).status_code == 404
    assert version["id"]


async def test_overdue_review_is_shown_plainly(api, token, clock):
    await published_policy(api, token)
    html = (await api.get("/transparency")).text
    assert "Review overdue" not in html and "Next review due on March 1, 2026." in html
    clock.advance(timedelta(days=400))
    html = (await api.get("/transparency")).text
    assert "Review overdue" in html and "it was due on March 1, 2026" in html


async def test_policy_version_and_diff_pages(api, token, clock):
    evil = "Be kind. <script>alert(1)</script> <img src=x onerror=alert(1)>"
    sections = full_sections()
    sections[0]["body_markdown"] = evil
    policy = await create_policy(api, token)
    v1 = await publish(api, token, policy["id"], (await create_draft(api, token, policy["id"],
                                                                      sections=sections))["id"])
    clock.advance(timedelta(days=10))
    draft = await create_draft(api, token, policy["id"], change_summary="Faster replies")
    await api.patch(f"/v1/policies/{policy['id']}/versions/{draft['id']}/sections/{draft['sections'][3]['id']}",
                    json={"body_markdown": "Reply within two business days."}, headers=token("policy_editor",
                                                                                           subject="emp-editor"))
    v2 = await publish(api, token, policy["id"], draft["id"])
    page = await api.get(f"/transparency/policies/{policy['id']}")
    assert page.status_code == 200
    html = page.text
    assert "Reply within two business days." in html and "Faster replies" in html
    assert "<script>alert" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert f"/transparency/policies/{policy['id']}/diff?from={v1['id']}&amp;to={v2['id']}" in html
    assert html.count("<h1") == 1 and "R-24-89 checklist" in html
    old = await api.get(f"/transparency/policies/{policy['id']}/versions/{v1['id']}")
    assert old.status_code == 200 and "This is not the version in force." in old.text
    diff = await api.get(f"/transparency/policies/{policy['id']}/diff", params={"from": v1["id"], "to": v2["id"]})
    assert diff.status_code == 200
    assert ('<del><span class="visually-hidden">[deleted: </span><span class="mark" aria-hidden="true">[-</span>'
            'Text about response_guidelines<span class="mark" aria-hidden="true">-]</span>') in diff.text
    assert '<span class="mark" aria-hidden="true">[+</span>Reply within two business days<span' in diff.text
    # Drafts and unknown ids are not pages.
    d3 = await create_draft(api, token, policy["id"])
    assert (await api.get(f"/transparency/policies/{policy['id']}/versions/{d3['id']}")).status_code == 404
    assert (await api.get("/transparency/policies/nope")).status_code == 404


async def test_spanish(api, token):
    policy, _ = await published_policy(api, token)
    r = await api.get("/transparency", params={"lang": "es"})
    html = r.text
    assert '<html lang="es">' in html and r.headers["content-language"] == "es"
    assert "Políticas" in html and "1 de marzo de 2025" in html
    assert 'data-civicsocial-widget lang="es"' in html
    assert f"/transparency/policies/{policy['id']}?lang=es" in html
    assert 'href="/transparency"' in html  # the toggle back to English
    # Policy text is English: marked so on the Spanish page (WCAG 3.1.2).
    assert '<span lang="en">Social Media Policy</span>' in html
    page = (await api.get(f"/transparency/policies/{policy['id']}", params={"lang": "es"})).text
    assert '<div class="section-body" lang="en">' in page
    assert '<div class="section-body">' in (await api.get(f"/transparency/policies/{policy['id']}")).text
    # an unknown language falls back to English (issue 19 item 6), never a 422
    fallback = await api.get("/transparency", params={"lang": "fr"})
    assert fallback.status_code == 200 and fallback.headers["content-language"] == "en"


async def test_page_etag_304(api, token):
    await published_policy(api, token)
    r = await api.get("/transparency")
    r2 = await api.get("/transparency", headers={"If-None-Match": r.headers["etag"]})
    assert r2.status_code == 304
    assert "public" in r.headers["cache-control"]


async def test_statistics_from_case_api(make_app, client, live, token, clock):
    case_api = live(make_app("case_api"))
    app = make_app("policy_api", clock=clock, case_api_url=case_api.url)
    api = client(app)
    await published_policy(api, token)
    html = (await api.get("/transparency")).text
    assert 'id="statistics"' in html and "Cases and monitoring" in html
    assert "fewer than" in html or "Cases opened" in html


async def test_the_diff_page_compares_words_without_markdown_and_offers_the_unified_diff(api, token, clock):
    """Issue 20 item 4: residents read a word-level comparison (<ins>/<del>, marked in text too, not only
    by colour), never ``---``/``+++``/``@@`` or ``**``; the unified diff is a download."""
    sections = full_sections()
    sections[3]["body_markdown"] = "Staff **reply** within five business days to every question."
    policy = await create_policy(api, token)
    v1 = await publish(api, token, policy["id"], (await create_draft(api, token, policy["id"],
                                                                      sections=sections))["id"])
    clock.advance(timedelta(days=10))
    draft = await create_draft(api, token, policy["id"], change_summary="Faster replies")
    await api.patch(f"/v1/policies/{policy['id']}/versions/{draft['id']}/sections/{draft['sections'][3]['id']}",
                    json={"body_markdown": "Staff **reply** within two business days to every question."},
                    headers=token("policy_editor", subject="emp-editor"))
    v2 = await publish(api, token, policy["id"], draft["id"])
    params = {"from": v1["id"], "to": v2["id"]}
    page = (await api.get(f"/transparency/policies/{policy['id']}/diff", params=params)).text
    body = page[page.index("<main"):]
    for raw in ("+++", "@@", "**", "## "):
        assert raw not in body, raw
    assert ("Staff reply within <del><span class=\"visually-hidden\">[deleted: </span><span class=\"mark\" "
            "aria-hidden=\"true\">[-</span>five<span") in body
    assert "[inserted: </span><span class=\"mark\" aria-hidden=\"true\">[+</span>two<span" in body
    assert "underlined and enclosed in [+ +]" in body
    spanish = (await api.get(f"/transparency/policies/{policy['id']}/diff", params={**params, "lang": "es"})).text
    assert "[eliminado: " in spanish and "[añadido: " in spanish
    api_diff = (await api.get(f"/v1/policies/{policy['id']}/diff", params=params)).json()
    changed = next(s for s in api_diff["sections"] if s["status"] == "changed")
    chunks = [(w["op"], w["text"]) for w in changed["words"]]
    assert chunks == [("same", "Response Guidelines\nStaff reply within "), ("del", "five"), ("ins", "two"),
                      ("same", " business days to every question.")]
    link = f"/transparency/policies/{policy['id']}/diff.patch?from={v1['id']}&amp;to={v2['id']}"
    assert link in page
    patch = await api.get(f"/transparency/policies/{policy['id']}/diff.patch", params=params)
    assert patch.status_code == 200 and patch.headers["content-type"].startswith("text/x-diff")
    assert patch.headers["content-disposition"] == 'attachment; filename="SMP-1-v1-v2.patch"'
    assert "-Staff **reply** within five business days" in patch.text and "@@" in patch.text
    assert (await api.get(f"/transparency/policies/{policy['id']}/diff.patch",
                          params={"from": v1["id"], "to": "nope"})).status_code == 404
