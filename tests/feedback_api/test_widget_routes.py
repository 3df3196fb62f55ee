"""The widget's GETs stay fast while reports are filed: the frame, loader and assets are async
(no thread hop), send no SQL and read no file per request (issue 13 item 7)."""

from __future__ import annotations

import inspect

import pytest

from services.feedback_api import widget
from tests.support.sqlcount import count_statements

PATHS = ["/widget/v1/frame?lang=es", "/widget/v1/loader.js", "/widget/v1/static/widget.js",
         "/widget/v1/static/widget.css"]


@pytest.mark.parametrize("path", PATHS)
async def test_widget_gets_touch_no_database(fb_app, client, path):
    app = fb_app()
    c = client(app)
    with count_statements(app.state.db) as counted:
        first = await c.get(path)
        second = await c.get(path)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and counted.n == 0


def test_widget_gets_are_async():
    for handler in (widget.widget_frame, widget.widget_loader, widget.widget_static):
        assert inspect.iscoroutinefunction(handler), handler.__name__


async def test_frame_is_rendered_per_language_and_configured_origin(fb_app, client):
    c = client(fb_app(frame_ancestors=["https://www.cabq.gov"]))
    ok = await c.get("/widget/v1/frame", params={"parent": "https://www.cabq.gov"})
    other = await c.get("/widget/v1/frame", params={"parent": "https://evil.example"})
    assert "https://www.cabq.gov" in ok.text and "evil.example" not in other.text
    assert "frame-ancestors https://www.cabq.gov" in ok.headers["content-security-policy"]
    assert (await c.get("/widget/v1/static/../main.py")).status_code == 404


async def test_assets_are_versioned_cached_for_a_year_and_revalidated(fb_app, client):
    """Issue 19 item 8: the pages name each asset by its content hash; that URL is cached for a year,
    any other revalidates with its ETag (304, no body). The frame stays no-store."""
    c = client(fb_app())
    frame = await c.get("/widget/v1/frame")
    assert frame.headers["cache-control"] == "no-store"
    for name in ("widget.js", "widget.css"):
        url = widget.static_url(name)
        assert url in frame.text and url in (await c.get("/report")).text
        versioned = await c.get(url)
        assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
        plain = await c.get(f"/widget/v1/static/{name}")
        assert plain.headers["cache-control"] == "public, no-cache" and plain.content == versioned.content
        again = await c.get(f"/widget/v1/static/{name}", headers={"If-None-Match": plain.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
    loader = await c.get("/widget/v1/loader.js")
    assert "max-age=300" in loader.headers["cache-control"] and loader.headers["etag"]
    assert (await c.get("/widget/v1/loader.js", headers={"If-None-Match": loader.headers["etag"]})).status_code == 304


@pytest.mark.parametrize("path", ["/widget/v1/static/widget.js", "/widget/v1/loader.js", "/report?lang=es"])
async def test_public_pages_are_compressed_and_answer_head(fb_app, client, path):
    c = client(fb_app())
    got = await c.get(path, headers={"Accept-Encoding": "gzip"})
    assert got.headers["content-encoding"] == "gzip" and "accept-encoding" in got.headers["vary"].lower()
    head = await c.head(path, headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers.get("content-encoding") == "gzip"


async def test_posted_forms_are_never_compressed(fb_app, client):
    """A POST answer can hold a receipt next to what was typed (the BREACH shape): left as it is."""
    c = client(fb_app())
    r = await c.post("/report/status", data={"lang": "en", "receipt": "123"}, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "content-encoding" not in r.headers


@pytest.mark.parametrize("lang,expected", [("es", "es"), ("vi", "en"), (None, "en")])
async def test_privacy_page_and_the_notice_on_every_form(fb_app, client, lang, expected):
    """Issue 19 item 2: what is stored, who sees it, no IP address, how long, before sending."""
    c = client(fb_app())
    page = await c.get("/privacy", params={"lang": lang} if lang else {})
    assert page.status_code == 200 and f'<html lang="{expected}"' in page.text
    assert widget.translator(expected)("privacy.short") in page.text
    report = (await c.get("/report", params={"lang": expected})).text
    assert report.count('class="cs-privacy"') == 2  # the report form and the feedback form
    assert f'href="/privacy?lang={expected}"' in report
    assert (await c.head("/privacy")).status_code == 200


async def test_nojs_form_names_the_file_the_server_refused(fb_app, client):
    """Issue 19 item 7: without JavaScript too, a refused file is named on its field."""
    c = client(fb_app())
    page = await c.get("/report", params={"lang": "en"})
    token = page.text.split('name="form_token" value="')[1].split('"')[0]
    r = await c.post("/report", headers={"Sec-Fetch-Site": "same-origin"}, data={
        "lang": "en", "form_token": token, "account_id": "__other", "account_text": "@ABQPolice",
        "platform": "facebook", "categories": "personal_attack", "description": "A reply insulted a resident.",
    }, files=[("evidence", ("holiday.png", b"this is not an image at all", "image/png"))])
    assert r.status_code == 200
    assert 'id="cs-evidence-error"' in r.text and "“holiday.png”" in r.text
    assert "<title>Error:" in r.text and 'role="alert"' in r.text
