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
