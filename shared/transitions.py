"""A transition table keyed by (state, action): the shape of policy_api's version lifecycle and
feedback_api's triage of policy feedback. Pure, no I/O.

case_api's case and due-process machines are keyed by target state instead (a state and the
states it may go to), so they keep their own small tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from shared.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)


class ActionTable(Generic[S, A]):
    """``transitions[(state, action)] = next state``. ``refusal(state, action, allowed)`` words
    the 409 for an action the state does not allow; an unknown state or action is a ValueError
    (the callers' enums)."""

    def __init__(self, states: type[S], actions: type[A], transitions: Mapping[tuple[S, A], S], *,
                 refusal: Callable[[S, A, list[str]], str]) -> None:
        self.states, self.actions = states, actions
        self.transitions = dict(transitions)
        self.refusal = refusal

    def allowed(self, state: str) -> list[str]:
        """The actions ``state`` allows, sorted."""
        current = self.states(state)
        return sorted(a.value for (s, a) in self.transitions if s == current)

    def next_state(self, state: str, action: str) -> S:
        """The state after ``action``, or ``InvalidTransition`` (409) naming the allowed actions."""
        current, act = self.states(state), self.actions(action)
        target = self.transitions.get((current, act))
        if target is None:
            allowed = self.allowed(current)
            raise InvalidTransition(self.refusal(current, act, allowed), state=current.value, action=act.value,
                                    allowed=allowed)
        return target
