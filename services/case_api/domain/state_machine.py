"""The case workflow (R-24-89 §1.A.6 needs a fair, recorded process before any discipline).

    received -> triaged | dismissed(reason)
    triaged -> investigating | dismissed(reason)
    investigating -> finding_recorded(sustained | not_sustained | unfounded | exonerated)
    finding_recorded -> actions (only when sustained) | closed (only when not sustained)
    actions -> closed (only once a disciplinary decision is recorded)
    closed | dismissed -> triaged  (reopen, with a reason)

Plain rules, no I/O: ``check`` raises ``InvalidTransition`` (409) or ``ValidationFailed`` (422).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.errors import InvalidTransition, ValidationFailed, field_error


class State(StrEnum):
    received = "received"
    triaged = "triaged"
    dismissed = "dismissed"
    investigating = "investigating"
    finding_recorded = "finding_recorded"
    actions = "actions"
    closed = "closed"


class Finding(StrEnum):
    sustained = "sustained"
    not_sustained = "not_sustained"
    unfounded = "unfounded"
    exonerated = "exonerated"


TERMINAL: frozenset[State] = frozenset({State.closed, State.dismissed})
OPEN: frozenset[State] = frozenset(set(State) - TERMINAL)

TRANSITIONS: dict[State, frozenset[State]] = {
    State.received: frozenset({State.triaged, State.dismissed}),
    State.triaged: frozenset({State.investigating, State.dismissed}),
    State.investigating: frozenset({State.finding_recorded}),
    State.finding_recorded: frozenset({State.actions, State.closed}),
    State.actions: frozenset({State.closed}),
    State.closed: frozenset({State.triaged}),
    State.dismissed: frozenset({State.triaged}),
}


@dataclass(frozen=True)
class CaseFacts:
    """What the guards need to know about the case."""

    state: State
    finding: Finding | None = None
    decision_recorded: bool = False


def allowed(state: State) -> frozenset[State]:
    return TRANSITIONS[state]


def check(facts: CaseFacts, target: State, *, reason: str | None = None, finding: Finding | None = None) -> State:
    """Validate moving a case to ``target``; returns ``target``. Reopening is the move out of a
    terminal state and needs a reason, as does dismissing."""
    current = facts.state
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            f"A case cannot move from {current.value!r} to {target.value!r}.",
            current_state=current.value,
            allowed=sorted(s.value for s in TRANSITIONS[current]),
        )
    needs_reason = target == State.dismissed or current in TERMINAL
    if needs_reason and not (reason and reason.strip()):
        what = "Dismissing" if target == State.dismissed else "Reopening"
        raise ValidationFailed(f"{what} a case needs a reason.", errors=[field_error(["body", "reason"], "required")])
    if target == State.finding_recorded and finding is None:
        raise ValidationFailed("Record which finding was reached.",
                               errors=[field_error(["body", "finding"], "required")])
    if target == State.actions and facts.finding != Finding.sustained:
        raise InvalidTransition("Only a sustained finding leads to disciplinary and restorative actions.",
                                current_state=current.value, allowed=["closed"])
    if current == State.finding_recorded and target == State.closed and facts.finding == Finding.sustained:
        raise InvalidTransition("A sustained finding needs a disciplinary decision: move the case to 'actions'.",
                                current_state=current.value, allowed=["actions"])
    if current == State.actions and target == State.closed and not facts.decision_recorded:
        raise InvalidTransition("Record the disciplinary decision before closing the case.",
                                current_state=current.value, allowed=[])
    return target


def public_status(state: State) -> str:
    """What the anonymous reporter sees (``shared.schemas.intake.PublicStatus``)."""
    if state == State.received:
        return "received"
    if state in TERMINAL:
        return "closed"
    return "under_review"
