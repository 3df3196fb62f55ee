"""What feedback_api sends to case_api through its outbox: one topic per message, each carrying a
shared schema model (the sender builds it; the relay validates it back before delivery)."""

from __future__ import annotations

from shared.outbox import Topic
from shared.schemas.intake import ReportForward
from shared.schemas.messages import ReporterMessageMessage
from shared.schemas.reporter import ReconsiderationMessage, ReporterEvidenceMessage

# POST /v1/intake/reports (Idempotency-Key: the report id)
REPORT_FORWARD: Topic[ReportForward] = Topic("report.forward", "case_api", ReportForward)
# POST /v1/intake/reports/{report_id}/messages (Idempotency-Key: the message id)
REPORTER_MESSAGE: Topic[ReporterMessageMessage] = Topic("report.message", "case_api", ReporterMessageMessage)
# POST /v1/intake/reports/{report_id}/evidence (Idempotency-Key: the batch id), issue 14 item 5
REPORTER_EVIDENCE: Topic[ReporterEvidenceMessage] = Topic("report.evidence", "case_api", ReporterEvidenceMessage)
# POST /v1/intake/reports/{report_id}/reconsideration (Idempotency-Key: the request id)
RECONSIDERATION: Topic[ReconsiderationMessage] = Topic("report.reconsideration", "case_api", ReconsiderationMessage)
