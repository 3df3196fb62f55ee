"""feedback_api -> case_api: what a reporter does after filing (issue 14 item 5), with the outbox
messages that carry them (wrapped with the report id the relay addresses them by).

* ``ReporterEvidence``: files added to a report after filing, already cleaned by feedback_api's
  evidence checks; only their references cross (the bytes stay in feedback_api, read on demand).
* ``ReconsiderationRequest``: a closed report asks, once, for its case to be looked at again.
"""

from __future__ import annotations

from pydantic import Field

from shared.schemas.base import InputModel
from shared.schemas.intake import EvidenceRef

MAX_RECONSIDERATION_REASON = 2000


class ReporterEvidence(InputModel):
    """``POST /v1/intake/reports/{report_id}/evidence`` (``Idempotency-Key`` = ``batch_id``)."""

    batch_id: str = Field(max_length=64)
    evidence: list[EvidenceRef] = Field(min_length=1, max_length=10)


class ReconsiderationRequest(InputModel):
    """``POST /v1/intake/reports/{report_id}/reconsideration`` (``Idempotency-Key`` = ``request_id``)."""

    request_id: str = Field(max_length=64)
    reason: str = Field(min_length=1, max_length=MAX_RECONSIDERATION_REASON)


class ReporterEvidenceMessage(InputModel):
    report_id: str = Field(max_length=64)
    evidence: ReporterEvidence


class ReconsiderationMessage(InputModel):
    report_id: str = Field(max_length=64)
    request: ReconsiderationRequest
