"""Issue 18 items 4 and 6: the scorer runs offline, can be swapped behind its one-method interface,
and keeps its held-out figures (a regression floor at what docs/monitoring.md reports)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from services.case_api import risk_eval
from services.case_api.domain import monitoring, post_import, risk
from services.case_api.domain.risk import Assessment, RuleHit
from shared.schemas.registry import AccountPublic, Platform


def test_the_scorer_needs_no_network(monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("the scorer tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    risk._vader.cache_clear()
    try:
        got = risk.PolicyRuleScorer().assess("You people are useless and you never listen to anyone.")
    finally:
        risk._vader.cache_clear()
    assert got.score > 0  # no pattern matched: the score is VADER's negative tone, computed offline


def test_held_out_figures_do_not_regress():
    scores = {s.rule: s for s in risk_eval.evaluate(risk_eval.load("heldout"), risk.default_scorer())}
    assert all((s.precision or 0) >= 0.80 for s in scores.values()), scores
    assert (scores[risk.PERSONAL_ATTACK].recall or 0) >= 0.85
    assert (scores[risk.ARGUING].recall or 0) >= 0.69  # 23/33, below the 0.85 target: docs/monitoring.md says why


def test_the_two_parts_never_share_a_line():
    tune = {e.text for e in risk_eval.load("tune")}
    held = {e.text for e in risk_eval.load("heldout")}
    assert len(tune) + len(held) >= 200 and not tune & held
    assert {e.lang for e in risk_eval.load("heldout")} == {"en", "es"}


class _CitysOwn:
    """A City's own scorer: anything with ``name`` and ``assess``."""

    name = "citys-own"

    def assess(self, text: str, *, replying_to: str | None = None) -> Assessment:
        hit = "pothole" in text.lower()
        return Assessment(score=0.42 if hit else 0.0,
                          hits=(RuleHit(risk.OPINION, 0.42, "pothole"),) if hit else ())


@pytest.mark.parametrize("text", ["Pothole on 4th street fixed today."])
def test_a_city_can_swap_in_its_own_scorer(make_app, text):
    db = make_app("case_api", relay_enabled=False, monitoring_sync_seconds=0).state.db
    account = AccountPublic.model_validate({
        "id": "acct-1", "platform": Platform.facebook, "handle": "abq", "profile_url": "https://facebook.com/abq",
        "department": "Police", "purpose": "n", "status": "active", "pio_name": None, "pio_title": None})
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with db.write() as s:
        monitoring.sync_registry(s, accounts=[account], now=now, cadence=monitoring.Cadence(), actor="t")
    rows = [{"url": "https://facebook.com/abq/posts/1", "account_id": "acct-1", "posted_at": now.isoformat(),
             "text": text}]
    result = post_import.import_stream(db, rows=rows, source="json", now=now, actor="t", scorer=_CitysOwn())
    assert result.imported == 1
    from sqlmodel import select

    from services.case_api.domain.models import MonitoredPost

    with db.read() as s:
        post = s.exec(select(MonitoredPost)).one()
    assert (post.risk_score, post.risk_rules) == (0.42, ["personal_opinion"])
