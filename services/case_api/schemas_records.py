"""Request and response models of the case record endpoints (issue 15: links and merges, case
file exports, public-records exports, retention and legal holds). Kept apart from ``schemas.py``
so the record work stays in its own modules."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.schemas.base import InputModel, OutputModel


class LinkIn(InputModel):
    other_case_id: str = Field(max_length=36)
    kind: Literal["related", "merged"] = Field(
        description="related: both cases stay, each lists the other. merged: the other case's reports, "
                    "testimony and evidence move to this case, and the other case is closed as merged.")
    reason: str = Field(min_length=1, max_length=2000)


class LinkOut(OutputModel):
    id: str
    kind: str
    other_case_id: str
    other_reference: str
    direction: Literal["this_case", "other_case"] = Field(
        description="this_case: the link was made from this case (for a merge: this case survived).")
    reason: str
    linked_by: str
    created_at: datetime
