"""Issue 19 item 6: the Spanish Transparency page says everything in Spanish (statistics labels,
departments), keeps ?lang=es on every link of its own, and an unknown language is English."""

from __future__ import annotations

import re

import pytest

from services.policy_api import i18n
from shared.schemas.intake import ViolationCategory
from tests.policy_api.helpers import published_policy


def test_every_metric_key_has_spanish_words() -> None:
    from services.case_api.domain.state_machine import Finding, State

    keys = {"category": [c.value for c in ViolationCategory],
            "state": [s.value for s in State],
            "outcome": ["dismissed", "closed", *(f.value for f in Finding)]}
    for dim, values in keys.items():
        for key in values:
            assert i18n.is_translated(dim, key, "es"), (dim, key)
            assert i18n.label(dim, key, "es") != i18n.label(dim, key, "en"), (dim, key)
    assert i18n.label("department", "Police", "es") == "Policía"
    # a department nobody translated yet stays as written, and is marked as English
    assert i18n.label("department", "Office of Equity", "es") == "Office of Equity"
    assert not i18n.is_translated("department", "Office of Equity", "es")


@pytest.mark.parametrize("given,expected", [("es", "es"), ("es-MX", "es"), ("ES", "es"), ("vi", "en"),
                                            ("", "en"), ("x" * 35, "en")])
async def test_unknown_language_falls_back_to_english(api, token, given, expected) -> None:
    policy, _ = await published_policy(api, token)
    for path in ("/transparency", f"/transparency/policies/{policy['id']}"):
        r = await api.get(path, params={"lang": given})
        assert r.status_code == 200, (path, given, r.text[:200])
        assert r.headers["content-language"] == expected
        assert f'<html lang="{expected}">' in r.text


async def test_spanish_page_translates_departments_and_keeps_the_language_on_links(api, token) -> None:
    policy, version = await published_policy(api, token)  # department "Office of the Mayor"
    pages = [
        "/transparency",
        f"/transparency/policies/{policy['id']}",
        f"/transparency/policies/{policy['id']}/versions/{version['id']}",
    ]
    for path in pages:
        html = (await api.get(path, params={"lang": "es"})).text
        assert "Oficina del Alcalde" in html, path
        assert ">Office of the Mayor<" not in html, path
        for href in re.findall(r'href="([^"]+)"', html):
            if href.startswith("/transparency") and not href.startswith("/transparency/static"):
                same_page_toggle = "lang=" not in href and href.split("?")[0] == path
                assert "lang=es" in href or same_page_toggle, (path, href)
            if "/report" in href:
                assert href.endswith("/report?lang=es"), href


async def test_transparency_page_answers_head_and_is_compressed(api, token) -> None:
    """Issue 19 item 8: HEAD on the public pages (link checkers, CDNs), gzip for phones."""
    policy, _ = await published_policy(api, token)
    for path in ("/transparency", f"/transparency/policies/{policy['id']}", "/transparency/static/transparency.css"):
        got = await api.get(path, headers={"Accept-Encoding": "gzip"})
        assert got.status_code == 200 and got.headers["content-encoding"] == "gzip", path
        head = await api.head(path, headers={"Accept-Encoding": "gzip"})
        assert head.status_code == 200 and head.content == b"", path
        assert head.headers["etag"] == got.headers["etag"]
