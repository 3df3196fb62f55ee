"""The escalation ladder (§1.A.6): the packaged matrix is valid, lookups are monotone, and a
broken matrix is refused."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.case_api.domain import ladder
from services.case_api.domain.ladder import ACTION_RANK, DisciplinaryAction, MatrixInvalid

MATRIX = ladder.load()
RAW = json.loads((ladder.MATRIX_DIR / f"{MATRIX.version}.json").read_text())


def test_packaged_matrices_are_valid_and_versioned():
    versions = ladder.available_versions()
    assert versions and MATRIX.version == versions[-1]
    for v in versions:
        assert ladder.problems(ladder.load(v)) == []
    assert MATRIX.lookback_months == 24
    assert set(MATRIX.severity_criteria) == {1, 2, 3, 4}


def test_first_minor_incident_is_retraining_and_repeat_is_heavier():
    first = ladder.recommend(MATRIX, severity=1, prior_count=0)
    second = ladder.recommend(MATRIX, severity=1, prior_count=1)
    assert first.action == DisciplinaryAction.retraining
    assert ACTION_RANK[second.action] > ACTION_RANK[first.action]
    assert ladder.recommend(MATRIX, severity=4, prior_count=9).action == DisciplinaryAction.termination


@given(severity=st.integers(1, 4), priors=st.integers(0, 50), more=st.integers(0, 50))
def test_more_priors_never_lighter(severity, priors, more):
    a = ladder.recommend(MATRIX, severity=severity, prior_count=priors)
    b = ladder.recommend(MATRIX, severity=severity, prior_count=priors + more)
    assert ACTION_RANK[b.action] >= ACTION_RANK[a.action]


@given(s1=st.integers(1, 4), s2=st.integers(1, 4), priors=st.integers(0, 50))
def test_higher_severity_never_lighter(s1, s2, priors):
    lo, hi = sorted((s1, s2))
    a = ladder.recommend(MATRIX, severity=lo, prior_count=priors)
    b = ladder.recommend(MATRIX, severity=hi, prior_count=priors)
    assert ACTION_RANK[b.action] >= ACTION_RANK[a.action]


ACTIONS = [a.value for a in DisciplinaryAction]


@given(st.lists(st.lists(st.sampled_from(ACTIONS), min_size=4, max_size=4), min_size=4, max_size=4))
def test_validation_accepts_exactly_the_monotone_matrices(grid):
    data = copy.deepcopy(RAW)
    data["cells"] = {str(s + 1): [{"action": a, "restorative": []} for a in row] for s, row in enumerate(grid)}
    ranks = [[ACTION_RANK[DisciplinaryAction(a)] for a in row] for row in grid]
    monotone = all(ranks[s][i] <= ranks[s][i + 1] for s in range(4) for i in range(3)) and all(
        ranks[s][i] <= ranks[s + 1][i] for s in range(3) for i in range(4))
    if monotone:
        m = ladder.parse(data)
        assert ladder.problems(m) == []
    else:
        with pytest.raises(MatrixInvalid):
            ladder.parse(data)


def test_incomplete_or_malformed_matrix_is_refused():
    data = copy.deepcopy(RAW)
    del data["cells"]["4"]
    with pytest.raises(MatrixInvalid):
        ladder.parse(data)
    data = copy.deepcopy(RAW)
    data["cells"]["2"][0]["action"] = "public_flogging"
    with pytest.raises(MatrixInvalid):
        ladder.parse(data)
    data = copy.deepcopy(RAW)
    data["severity_criteria"]["3"] = ""
    with pytest.raises(MatrixInvalid):
        ladder.parse(data)


def test_override_needs_justification():
    rec, other = DisciplinaryAction.written_reprimand, DisciplinaryAction.verbal_counseling
    assert ladder.check_decision(rec, rec, None) is None
    assert ladder.check_decision(rec, other, None) is not None
    assert ladder.check_decision(rec, other, "too short") is not None
    assert ladder.check_decision(rec, other, "First incident in ten years of service; mitigating context.") is None


def test_lookback_start_is_calendar_months():
    now = datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert ladder.lookback_start(now, 24) == datetime(2024, 3, 31, 12, tzinfo=UTC)
    assert ladder.lookback_start(now, 1) == datetime(2026, 2, 28, 12, tzinfo=UTC)
