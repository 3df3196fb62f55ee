"""Reads from other services (writes go through the outbox, see relay.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog

from services.case_api.settings import CaseSettings
from shared.auth import Role, ServiceTokenProvider
from shared.errors import UpstreamFailed
from shared.http import ServiceClient
from shared.schemas.registry import AccountPublic, AcknowledgementCheck

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


MAX_REGISTRY_PAGES = 100


def active_accounts(settings: CaseSettings) -> list[AccountPublic]:
    """Every active account in policy_api's registry (paged). Raises ``UpstreamFailed`` (502) when
    policy_api cannot answer: a sync must not treat "no answer" as "no accounts"."""
    client = ServiceClient(settings.policy_api_url, timeout=settings.http_timeout_seconds,
                           retries=settings.http_retries)
    out: list[AccountPublic] = []
    try:
        offset = 0
        for _ in range(MAX_REGISTRY_PAGES):
            resp = client.get("/v1/accounts", params={"status": "active", "limit": 100, "offset": offset},
                              authenticated=False)
            if resp.status_code != 200:
                raise UpstreamFailed(f"policy_api answered {resp.status_code} for the account registry.")
            page = resp.json()
            out.extend(AccountPublic.model_validate(a) for a in page["items"])
            if page.get("next_offset") is None:
                return out
            offset = int(page["next_offset"])
    finally:
        client.close()
    raise UpstreamFailed("The account registry is larger than expected.")


def policy_elements(settings: CaseSettings) -> set[str] | None:
    """The element keys of policy_api's catalogue, or None when it cannot be read (all items apply)."""
    client = ServiceClient(settings.policy_api_url, timeout=settings.http_timeout_seconds, retries=0)
    try:
        resp = client.get("/v1/elements", authenticated=False)
        if resp.status_code != 200:
            return None
        return {str(e["key"]) for e in resp.json()}
    except (UpstreamFailed, ValueError, KeyError, TypeError):
        return None
    finally:
        client.close()


def _feedback(settings: CaseSettings) -> ServiceClient:
    tokens = ServiceTokenProvider(settings.auth, settings.mode, "case_api", [Role.svc_case])
    return ServiceClient(settings.feedback_api_url, tokens=tokens, timeout=settings.http_timeout_seconds,
                         retries=settings.http_retries)


def reporter_contact(settings: CaseSettings, *, report_id: str) -> str | None:
    """The reporter's email from feedback_api, or None when they gave none (or erased it)."""
    client = _feedback(settings)
    try:
        resp = client.get(f"/v1/internal/reports/{report_id}/contact")
    finally:
        client.close()
    if resp.status_code == 404:
        return None
    if resp.status_code != 200:
        raise UpstreamFailed(f"feedback_api answered {resp.status_code} for the contact.")
    return str(resp.json()["email"])


MAX_EVIDENCE_BYTES = 25 * 1024 * 1024


def evidence_file(settings: CaseSettings, *, evidence_id: str) -> tuple[bytes, str] | None:
    """An evidence file as feedback_api stored it (metadata stripped), or None if unknown there."""
    client = _feedback(settings)
    try:
        resp = client.get(f"/v1/internal/evidence/{evidence_id}")
    finally:
        client.close()
    if resp.status_code == 404:
        return None
    if resp.status_code != 200 or len(resp.content) > MAX_EVIDENCE_BYTES:
        raise UpstreamFailed(f"feedback_api answered {resp.status_code} for the evidence file.")
    return resp.content, resp.headers.get("content-type", "application/octet-stream")
