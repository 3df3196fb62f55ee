"""Issue 19 item 3: FEEDBACK_API_FRAME_ANCESTORS in CSP source syntax, validated at start; a
wildcard entry is honoured (not dropped), and a parent origin is trusted only when it matches."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.feedback_api.frame_ancestors import InvalidAncestor, parse_all, parse_source, trusted_parent
from services.feedback_api.settings import FeedbackSettings

CITY = ["https://www.cabq.gov", "https://cabq.gov", "https://*.cabq.gov", "http://localhost:8001"]


@pytest.mark.parametrize("origin,trusted", [
    ("https://www.cabq.gov", True), ("https://cabq.gov", True), ("https://staging.cabq.gov", True),
    ("https://pr-12.preview.cabq.gov", True), ("http://localhost:8001", True),
    ("https://evilcabq.gov", False), ("https://cabq.gov.evil.example", False), ("http://www.cabq.gov", False),
    ("https://www.cabq.gov:8443", False), ("http://localhost:8002", False), ("https://www.cabq.gov/x", False),
    ("null", False), ("", False),
])
def test_a_parent_is_trusted_only_when_a_source_matches(origin: str, trusted: bool) -> None:
    assert (trusted_parent(parse_all(CITY), origin) is not None) is trusted


@pytest.mark.parametrize("entry", [
    "cabq.gov", "https://cabq.gov/transparency", "*", "https://*", "ftp://cabq.gov", "https://a*.cabq.gov",
    "https://cabq.gov:99999", "'self'", "https://cabq.gov?x=1", "https://-bad.gov",
])
def test_an_entry_that_is_not_a_csp_origin_source_is_refused(entry: str) -> None:
    with pytest.raises(InvalidAncestor, match=r"cabq|bad|\*|self|ftp"):
        parse_source(entry)


def test_ports_and_default_ports() -> None:
    assert str(parse_source("https://cabq.gov:443")) == "https://cabq.gov"
    assert parse_source("https://cabq.gov:*").matches("https://cabq.gov:8443")
    assert parse_source("https://cabq.gov").matches("https://cabq.gov:443")


def test_an_invalid_entry_stops_the_service_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDBACK_API_FRAME_ANCESTORS", '["https://www.cabq.gov", "cabq.gov/*"]')
    with pytest.raises(ValidationError) as caught:
        FeedbackSettings()
    message = str(caught.value)
    assert "FEEDBACK_API_FRAME_ANCESTORS" in message and "'cabq.gov/*'" in message
    monkeypatch.setenv("FEEDBACK_API_FRAME_ANCESTORS", '["https://www.cabq.gov", "https://*.cabq.gov"]')
    assert FeedbackSettings().frame_ancestors == ["https://www.cabq.gov", "https://*.cabq.gov"]


async def test_the_frame_honours_a_wildcard_entry(fb_app, client) -> None:
    c = client(fb_app(frame_ancestors=["https://*.cabq.gov"]))
    ok = await c.get("/widget/v1/frame", params={"parent": "https://staging.cabq.gov"})
    assert "frame-ancestors https://*.cabq.gov" in ok.headers["content-security-policy"]
    assert '"parentOrigin": "https://staging.cabq.gov"' in ok.text
    other = await c.get("/widget/v1/frame", params={"parent": "https://cabq.gov.evil.example"})
    assert '"parentOrigin": null' in other.text
