"""Triage of residents' policy feedback (R-24-89 §1.B, issue 20 item 5), as an explicit state machine.

    received --consider--> considered --answer--> answered --close--> closed
        |                      |                     |  ^                |
        |--answer------------------------------------/  | answer (a     |
        |--close-------------> closed <--close------/   | follow-up)    |
                               ^                        +----------------+
                               +------------------------ reopen: closed -> considered

``answer`` is a reply to the resident through their receipt: it needs the reply's text, and a
further reply while answered keeps the state. Nothing here does I/O; ``policy_feedback`` applies it.
"""

from __future__ import annotations

from enum import StrEnum

from shared.schemas.intake import PublicStatus
from shared.transitions import ActionTable


class TriageState(StrEnum):
    received = "received"
    considered = "considered"
    answered = "answered"
    closed = "closed"


class TriageAction(StrEnum):
    consider = "consider"
    answer = "answer"
    close = "close"
    reopen = "reopen"


TRANSITIONS: dict[tuple[TriageState, TriageAction], TriageState] = {
    (TriageState.received, TriageAction.consider): TriageState.considered,
    (TriageState.received, TriageAction.answer): TriageState.answered,
    (TriageState.received, TriageAction.close): TriageState.closed,
    (TriageState.considered, TriageAction.answer): TriageState.answered,
    (TriageState.considered, TriageAction.close): TriageState.closed,
    (TriageState.answered, TriageAction.answer): TriageState.answered,
    (TriageState.answered, TriageAction.close): TriageState.closed,
    (TriageState.closed, TriageAction.reopen): TriageState.considered,
}

#: What the resident's status page says for each state (the receipt view's public status).
PUBLIC: dict[TriageState, PublicStatus] = {
    TriageState.received: PublicStatus.received,
    TriageState.considered: PublicStatus.under_review,
    TriageState.answered: PublicStatus.under_review,
    TriageState.closed: PublicStatus.closed,
}

#: Bounds on what staff write: a reply to the resident, a staff note, the closing outcome.
MAX_REPLY = 2000
MAX_NOTE = 2000


TABLE = ActionTable(TriageState, TriageAction, TRANSITIONS, refusal=lambda state, action, _allowed: (
    f"Feedback that is {state.value} does not allow {action.value!r}."))


def allowed(state: str) -> list[str]:
    return TABLE.allowed(state)


def next_state(state: str, action: str) -> TriageState:
    """The state after ``action``, or ``InvalidTransition`` (409) naming the allowed actions."""
    return TABLE.next_state(state, action)


def public_status(state: str) -> PublicStatus:
    return PUBLIC[TriageState(state)]
