"""policy_api reads residents' policy feedback from feedback_api (issue 20 item 5), with its service
token, never inside a transaction: one reference (to link it to a version or review) and the counts
by policy and triage state (for the Council report)."""

from __future__ import annotations

import structlog
from pydantic import ValidationError

from shared.errors import Unavailable, UpstreamFailed
from shared.http import ServiceClient
from shared.schemas.policy_feedback import PolicyFeedbackCounts, PolicyFeedbackRef

PEER = "feedback_api"
log = structlog.get_logger(__name__)


class FeedbackSource:
    def __init__(self, peers: ServiceClient, *, timeout: float) -> None:
        self._peers = peers
        self._timeout = timeout

    def lookup(self, reference: str) -> PolicyFeedbackRef | None:
        """The feedback with this reference; None when feedback_api does not know it (404).
        ``Unavailable`` (503) when feedback_api does not answer: the link is not recorded unchecked."""
        try:
            resp = self._peers.get(PEER, f"/v1/internal/policy-feedback/{reference}", timeout=self._timeout,
                                   retries=1)
        except (UpstreamFailed, RuntimeError) as exc:  # RuntimeError: no service credentials configured
            raise Unavailable("feedback_api did not answer; try again later.",
                              headers={"Retry-After": "30"}) from exc
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            log.warning("feedback_api_refused", status=resp.status_code)
            raise Unavailable("feedback_api could not confirm this feedback; try again later.",
                              headers={"Retry-After": "30"})
        try:
            return PolicyFeedbackRef.model_validate(resp.json())
        except (ValidationError, ValueError) as exc:
            raise Unavailable("feedback_api answered something unexpected.") from exc

    def counts(self) -> PolicyFeedbackCounts | None:
        """Feedback received per policy and state; None when feedback_api does not answer."""
        try:
            resp = self._peers.get(PEER, "/v1/internal/policy-feedback/counts", timeout=self._timeout, retries=0)
        except (UpstreamFailed, RuntimeError):
            log.warning("feedback_counts_unavailable", reason="no_answer")
            return None
        if resp.status_code != 200:
            log.warning("feedback_counts_unavailable", status=resp.status_code)
            return None
        try:
            return PolicyFeedbackCounts.model_validate(resp.json())
        except (ValidationError, ValueError):
            log.warning("feedback_counts_unavailable", reason="bad_body")
            return None
