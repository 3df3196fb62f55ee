"""Who is writing, and when: passed to every domain write so the change log can record it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WriteContext:
    actor: str
    now: datetime
    request_id: str | None = None
