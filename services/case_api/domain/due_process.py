"""Due process before discipline (issue 14, item 3): a pure state machine, no I/O.

    noticed --(employee responds, by the due date)--> responded
    noticed | responded --(final decision; from noticed only once the window has lapsed)--> decided
    decided --(employee appeals, within the appeal window)--> appealed
    appealed --(HR, not the final decider)--> upheld | overturned

An overturned finding no longer stands: the ladder's priors leave it out. The windows are
configuration (``CASE_API_RESPONSE_WINDOW_DAYS``, ``CASE_API_RESPONSE_WINDOW_DAYS_BY_ACTION``,
``CASE_API_APPEAL_WINDOW_DAYS``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from shared.errors import Conflict, InvalidTransition


class Step(StrEnum):
    noticed = "noticed"
    responded = "responded"
    decided = "decided"
    appealed = "appealed"
    upheld = "upheld"
    overturned = "overturned"


OPEN = frozenset({Step.noticed, Step.responded})
TRANSITIONS: dict[Step, frozenset[Step]] = {
    Step.noticed: frozenset({Step.responded, Step.decided}),
    Step.responded: frozenset({Step.decided}),
    Step.decided: frozenset({Step.appealed}),
    Step.appealed: frozenset({Step.upheld, Step.overturned}),
    Step.upheld: frozenset(),
    Step.overturned: frozenset(),
}


@dataclass(frozen=True)
class Windows:
    response_days: int = 10
    response_days_by_action: dict[str, int] = field(default_factory=dict)
    appeal_days: int = 15
    required: bool = False

    def response_due(self, action: str, noticed_on: date) -> date:
        return noticed_on + timedelta(days=self.response_days_by_action.get(action, self.response_days))

    def appeal_due(self, decided_on: date) -> date:
        return decided_on + timedelta(days=self.appeal_days)


def check(current: Step, target: Step, *, today: date, due_on: date | None = None) -> None:
    """Refuse a move the machine does not allow, or one its window does not allow today."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(f"Due process cannot go from {current.value} to {target.value}.",
                                current_state=current.value, allowed=sorted(s.value for s in TRANSITIONS[current]))
    if target in (Step.responded, Step.appealed) and due_on is not None and today > due_on:
        raise Conflict(f"The window closed on {due_on.isoformat()}.", current_state=current.value)
    if current == Step.noticed and target == Step.decided and due_on is not None and today <= due_on:
        raise Conflict(f"The employee may respond until {due_on.isoformat()}; decide after their response or "
                       "once the window has closed.", current_state=current.value)
