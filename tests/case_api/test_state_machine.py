"""The case workflow as a pure module: legal moves, guards, and properties over random walks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.case_api.domain.state_machine import (
    TERMINAL,
    TRANSITIONS,
    CaseFacts,
    Finding,
    State,
    check,
    public_status,
)
from shared.errors import InvalidTransition, ValidationFailed


def test_happy_path_with_sustained_finding():
    assert check(CaseFacts(State.received), State.triaged) == State.triaged
    assert check(CaseFacts(State.triaged), State.investigating) == State.investigating
    assert check(CaseFacts(State.investigating), State.finding_recorded, finding=Finding.sustained)
    facts = CaseFacts(State.finding_recorded, Finding.sustained)
    assert check(facts, State.actions) == State.actions
    with pytest.raises(InvalidTransition):
        check(CaseFacts(State.actions, Finding.sustained, decision_recorded=False), State.closed)
    assert check(CaseFacts(State.actions, Finding.sustained, decision_recorded=True), State.closed)


@pytest.mark.parametrize("finding", [Finding.not_sustained, Finding.unfounded, Finding.exonerated])
def test_other_findings_close_directly_and_never_reach_actions(finding):
    facts = CaseFacts(State.finding_recorded, finding)
    assert check(facts, State.closed) == State.closed
    with pytest.raises(InvalidTransition):
        check(facts, State.actions)


def test_sustained_finding_cannot_skip_actions():
    with pytest.raises(InvalidTransition):
        check(CaseFacts(State.finding_recorded, Finding.sustained), State.closed)


def test_dismissal_and_reopen_need_a_reason():
    with pytest.raises(ValidationFailed):
        check(CaseFacts(State.received), State.dismissed)
    assert check(CaseFacts(State.received), State.dismissed, reason="Not an official account") == State.dismissed
    with pytest.raises(ValidationFailed):
        check(CaseFacts(State.closed), State.triaged, reason="  ")
    assert check(CaseFacts(State.closed), State.triaged, reason="New evidence") == State.triaged


def test_finding_needs_a_value():
    with pytest.raises(ValidationFailed):
        check(CaseFacts(State.investigating), State.finding_recorded)


@pytest.mark.parametrize(("src", "dst"), [(State.received, State.investigating), (State.received, State.closed),
                                          (State.triaged, State.finding_recorded), (State.closed, State.actions),
                                          (State.investigating, State.dismissed)])
def test_illegal_moves_are_409(src, dst):
    with pytest.raises(InvalidTransition) as exc:
        check(CaseFacts(src), dst, reason="r", finding=Finding.unfounded)
    assert exc.value.status == 409 and exc.value.extra["current_state"] == src.value


def test_public_status_never_reveals_internal_states():
    assert {public_status(s) for s in State} == {"received", "under_review", "closed"}


@given(st.lists(st.tuples(st.sampled_from(list(State)), st.sampled_from([*Finding, None]), st.booleans()),
                max_size=30))
def test_random_walks_only_ever_take_listed_edges(steps):
    state, finding, decided = State.received, None, False
    for target, f, d in steps:
        facts = CaseFacts(state, finding, decided)
        try:
            check(facts, target, reason="because", finding=f)
        except (InvalidTransition, ValidationFailed):
            continue
        assert target in TRANSITIONS[state]
        if state in TERMINAL:
            finding, decided = None, False
        if target == State.finding_recorded:
            finding = f
        if target == State.actions:
            assert finding == Finding.sustained
            decided = d
        if target == State.closed and state == State.actions:
            assert decided
        state = target


def test_every_state_can_reach_closed():
    seen = {State.closed}
    changed = True
    while changed:
        changed = False
        for src, dsts in TRANSITIONS.items():
            if src not in seen and dsts & seen:
                seen.add(src)
                changed = True
    assert seen >= set(State) - {State.dismissed}
