"""The outbox topics case_api sends: each names its peer and the shared schema it carries."""

from __future__ import annotations

from shared.outbox import Topic
from shared.schemas.messages import PrivilegeRevocationMessage, ReportEventMessage

# What the reporter may see of their case -> feedback_api POST /v1/internal/reports/{id}/events
REPORT_EVENT = Topic("report_event", "feedback_api", ReportEventMessage)
# A restorative action revokes posting privileges -> policy_api POST /v1/accounts/{id}/privileges/revoke
PRIVILEGE_REVOKE = Topic("privilege_revoke", "policy_api", PrivilegeRevocationMessage)
