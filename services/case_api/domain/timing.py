"""Timing privacy for what reporters do (issue 14, item 6).

Nothing staff can read may give a report's arrival more precisely than its day: anyone who also
holds a CDN, proxy or firewall log could otherwise match the two and identify the reporter. So
everything case_api records about a forwarded report, or a reporter's message, evidence or
request (the case's ``created_at``/``state_entered_at``/``updated_at``, the report link, the
message, their audit entries and the events they cause) is stamped with **midnight UTC of the
day** feedback_api received it, and the SLA clock of a new case starts from that day. Rows made
from them get random UUIDv4 ids (a UUIDv7 carries the millisecond it was made). feedback_api
forwards in randomised batches (its ``FORWARD_BATCH_WINDOW_SECONDS``), so the order and moment of
delivery do not match arrival either.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time


def day_of(value: date | datetime) -> datetime:
    """Midnight UTC of the day (a ``datetime`` is taken in UTC first)."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date() if value.tzinfo else value.date()
    return datetime.combine(value, time.min, tzinfo=UTC)


def opaque_id() -> str:
    """A row id that carries no time (UUIDv4)."""
    return str(uuid.uuid4())
