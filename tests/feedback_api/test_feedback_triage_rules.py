"""The triage state machine for policy feedback (issue 20 item 5): only its moves pass."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.feedback_api.domain.feedback_triage import (
    TRANSITIONS,
    TriageAction,
    TriageState,
    allowed,
    next_state,
    public_status,
)
from shared.errors import InvalidTransition
from shared.schemas.intake import PublicStatus


def test_the_happy_path_received_considered_answered_closed():
    state = TriageState.received
    for action, expected in [("consider", "considered"), ("answer", "answered"), ("answer", "answered"),
                             ("close", "closed")]:
        state = next_state(state, action)
        assert state == expected


def test_closed_feedback_takes_no_reply_and_only_reopens():
    assert allowed("closed") == ["reopen"]
    with pytest.raises(InvalidTransition) as exc:
        next_state("closed", "answer")
    assert exc.value.extra["allowed"] == ["reopen"]
    assert next_state("closed", "reopen") == TriageState.considered


def test_received_may_be_answered_or_closed_at_once_but_never_reopened():
    assert allowed("received") == ["answer", "close", "consider"]
    with pytest.raises(InvalidTransition):
        next_state("received", "reopen")
    with pytest.raises(InvalidTransition):
        next_state("answered", "consider")  # an answer is not taken back


def test_the_resident_sees_under_review_until_closed():
    assert [public_status(s) for s in TriageState] == [
        PublicStatus.received, PublicStatus.under_review, PublicStatus.under_review, PublicStatus.closed]


@given(st.lists(st.sampled_from(list(TriageAction)), max_size=12))
def test_only_listed_moves_pass(actions):
    state = TriageState.received
    for action in actions:
        assert (action.value in allowed(state)) == ((state, action) in TRANSITIONS)
        if (state, action) in TRANSITIONS:
            after = next_state(state, action)
            assert after == TRANSITIONS[(state, action)]
            state = after
        else:
            with pytest.raises(InvalidTransition):
                next_state(state, action)
