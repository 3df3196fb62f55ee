"""Outbox messages: what a service stores in its outbox to deliver to a peer.

Each is the wire model the peer's endpoint takes, wrapped with the path parameters the relay
needs to address it (and, for revocations, the sender's own action id, to record the result).
The sender builds one of these and passes it to ``shared.outbox.enqueue``; the relay validates
the stored JSON back into it before its handler runs.
"""

from __future__ import annotations

from pydantic import Field

from shared.schemas.base import InputModel
from shared.schemas.intake import ReporterMessage, ReportEvent
from shared.schemas.registry import PrivilegeRevocation


class ReportEventMessage(InputModel):
    """case_api -> feedback_api ``POST /v1/internal/reports/{report_id}/events``."""

    report_id: str = Field(max_length=64)
    event: ReportEvent


class ReporterMessageMessage(InputModel):
    """feedback_api -> case_api ``POST /v1/intake/reports/{report_id}/messages``."""

    report_id: str = Field(max_length=64)
    message: ReporterMessage


class PrivilegeRevocationMessage(InputModel):
    """case_api -> policy_api ``POST /v1/accounts/{account_id}/privileges/revoke``."""

    account_id: str = Field(max_length=36)
    action_id: str = Field(max_length=36, description="case_api's restorative action, to record the result on.")
    revocation: PrivilegeRevocation
