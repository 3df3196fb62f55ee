"""What feedback_api sends to case_api through its outbox: one topic per message, each carrying a
shared schema model (the sender builds it; the relay validates it back before delivery)."""

from __future__ import annotations

from shared.outbox import Topic
from shared.schemas.intake import ReportForward
from shared.schemas.messages import ReporterMessageMessage

# POST /v1/intake/reports (Idempotency-Key: the report id)
REPORT_FORWARD: Topic[ReportForward] = Topic("report.forward", "case_api", ReportForward)
# POST /v1/intake/reports/{report_id}/messages (Idempotency-Key: the message id)
REPORTER_MESSAGE: Topic[ReporterMessageMessage] = Topic("report.message", "case_api", ReporterMessageMessage)
