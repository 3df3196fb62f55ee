"""shared.transitions.ActionTable: the (state, action) table policy_api and feedback_api share."""

from __future__ import annotations

from enum import StrEnum

import pytest

from shared.errors import InvalidTransition
from shared.transitions import ActionTable


class Door(StrEnum):
    open = "open"
    shut = "shut"
    locked = "locked"


class Move(StrEnum):
    close = "close"
    lock = "lock"
    unlock = "unlock"
    open_ = "open"


TABLE = ActionTable(Door, Move, {
    (Door.open, Move.close): Door.shut,
    (Door.shut, Move.open_): Door.open,
    (Door.shut, Move.lock): Door.locked,
    (Door.locked, Move.unlock): Door.shut,
}, refusal=lambda s, a, allowed: f"A {s.value} door cannot {a.value}; it can {', '.join(allowed) or 'nothing'}.")


def test_follows_the_table_and_lists_what_each_state_allows():
    assert TABLE.next_state("shut", "lock") is Door.locked
    assert TABLE.allowed("shut") == ["lock", "open"]
    assert TABLE.allowed(Door.locked) == ["unlock"]


def test_refuses_an_action_the_state_does_not_allow_with_409_naming_the_allowed():
    with pytest.raises(InvalidTransition) as caught:
        TABLE.next_state("locked", "open")
    assert caught.value.status == 409
    assert str(caught.value) == "A locked door cannot open; it can unlock."
    assert caught.value.extra == {"state": "locked", "action": "open", "allowed": ["unlock"]}


def test_an_unknown_state_or_action_is_a_value_error():
    with pytest.raises(ValueError):
        TABLE.next_state("ajar", "close")
    with pytest.raises(ValueError):
        TABLE.next_state("open", "slam")
