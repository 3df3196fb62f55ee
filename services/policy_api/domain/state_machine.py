"""The lifecycle of a policy version, as an explicit state machine.

    draft -> in_review -> approved -> published -> superseded
      ^          |            |            \\-> retired
      \\----------/------------/  (returned for changes)

Only a draft is editable. A published version is immutable: it can only be superseded (when a
newer version is published) or retired. Illegal transitions raise ``InvalidTransition`` (409).
"""

from __future__ import annotations

from enum import StrEnum

from shared.transitions import ActionTable


class VersionState(StrEnum):
    draft = "draft"
    in_review = "in_review"
    approved = "approved"
    published = "published"
    superseded = "superseded"
    retired = "retired"


class Action(StrEnum):
    submit = "submit"
    return_to_draft = "return"
    approve = "approve"
    publish = "publish"
    supersede = "supersede"
    retire = "retire"


TRANSITIONS: dict[tuple[VersionState, Action], VersionState] = {
    (VersionState.draft, Action.submit): VersionState.in_review,
    (VersionState.in_review, Action.return_to_draft): VersionState.draft,
    (VersionState.approved, Action.return_to_draft): VersionState.draft,
    (VersionState.in_review, Action.approve): VersionState.approved,
    (VersionState.approved, Action.publish): VersionState.published,
    (VersionState.published, Action.supersede): VersionState.superseded,
    (VersionState.published, Action.retire): VersionState.retired,
}

#: States the public may read.
PUBLIC_STATES = frozenset({VersionState.published, VersionState.superseded, VersionState.retired})
#: States of a version still being worked on (at most one per policy).
OPEN_STATES = frozenset({VersionState.draft, VersionState.in_review, VersionState.approved})
#: States whose content can never change again.
IMMUTABLE_STATES = PUBLIC_STATES


def _refusal(state: VersionState, action: Action, allowed: list[str]) -> str:
    return (f"Cannot {action.value} a version that is {state.value}."
            + (f" Allowed: {', '.join(allowed)}." if allowed else " No further transitions are possible."))


TABLE = ActionTable(VersionState, Action, TRANSITIONS, refusal=_refusal)


def next_state(state: str, action: str) -> VersionState:
    """The state after ``action``, or ``InvalidTransition`` naming what is allowed."""
    return TABLE.next_state(state, action)


def allowed_actions(state: str) -> list[str]:
    return TABLE.allowed(state)


def is_editable(state: str) -> bool:
    return VersionState(state) == VersionState.draft


def is_public(state: str) -> bool:
    return VersionState(state) in PUBLIC_STATES
