"""Reads from other services (writes go through the outbox, see relay.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog

from services.case_api.settings import CaseSettings
from shared.auth import Role, ServiceTokenProvider
from shared.errors import UpstreamFailed
from shared.http import ServiceClient
from shared.schemas.registry import AcknowledgementCheck

log = structlog.get_logger("case_api.clients")


def acknowledgement_for(settings: CaseSettings, *, employee_id: str, on: date) -> dict[str, Any]:
    """Which social media policy version was in force on ``on`` and whether the employee had
    acknowledged it. Never fails the caller: if policy_api cannot answer, ``status: unknown``."""
    tokens = ServiceTokenProvider(settings.auth, settings.mode, "case_api", [Role.svc_case])
    client = ServiceClient(settings.policy_api_url, tokens=tokens, timeout=settings.acknowledgement_timeout_seconds,
                           retries=0)
    try:
        resp = client.get("/v1/acknowledgements/check", params={"employee_id": employee_id, "on": on.isoformat()})
        if resp.status_code != 200:
            log.warning("acknowledgement_check_failed", status=resp.status_code)
            return {"status": "unknown", "on": on.isoformat(), "reason": f"policy_api answered {resp.status_code}"}
        check = AcknowledgementCheck.model_validate(resp.json())
    except (UpstreamFailed, ValueError) as exc:
        log.warning("acknowledgement_check_unreachable", error=type(exc).__name__)
        return {"status": "unknown", "on": on.isoformat(), "reason": "policy_api unreachable"}
    finally:
        client.close()
    return {
        "status": "acknowledged" if check.acknowledged else "not_acknowledged",
        "on": on.isoformat(),
        "policy_id": check.policy_id,
        "version_id": check.version_id,
        "version_label": check.version_label,
        "acknowledged": check.acknowledged,
        "acknowledged_at": check.acknowledged_at.isoformat() if check.acknowledged_at else None,
    }
