"""What a stored text may contain: no NUL or other C0 control characters (tab, newline and carriage
return excepted) and no lone surrogates. PostgreSQL text cannot hold NUL at all, and none of these
has a place in a report; they are refused (422), never silently stored or dropped."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def is_id(value: str) -> bool:
    """Ids and references we issue (and ids policy_api issues) look like this; anything else
    cannot name a row, so lookups answer 404 without asking the database."""
    return bool(_ID.match(value))


def text_problem(value: str) -> str | None:
    if _CONTROL.search(value):
        return "control characters (such as NUL) are not allowed"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "the text is not valid Unicode (lone surrogate)"
    return None
