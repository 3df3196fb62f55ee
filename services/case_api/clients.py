"""Reads from other services, through the app's one ``ServiceClient`` (``app.state.peers``).
Writes go through the outbox (see relay.py). Every function here does network I/O: call them
with no transaction open (the use-cases in ``domain/`` read peers before ``db.write()``)."""

from __future__ import annotations

import time
from datetime import date

import structlog

from services.case_api.domain import drafts
from shared.errors import UpstreamFailed
from shared.http import ServiceClient
from shared.schemas.registry import AccountPublic, AcknowledgementCheck

log = structlog.get_logger("case_api.clients")

POLICY = "policy_api"
FEEDBACK = "feedback_api"


def acknowledgement_for(peers: ServiceClient, *, employee_id: str, on: date, timeout: float,
                        department: str | None = None) -> dict[str, object]:
    """Which social media policy version was in force on ``on`` and whether the employee had
    acknowledged it. Never fails the caller: if policy_api cannot answer within ``timeout``
    (one attempt, no retries), ``status: unknown``."""
    try:
        resp = peers.get(POLICY, "/v1/acknowledgements/check",
                         params={"employee_id": employee_id, "on": on.isoformat(),
                                 **({"department": department} if department else {})},
                         timeout=timeout, retries=0)
        if resp.status_code != 200:
            log.warning("acknowledgement_check_failed", status=resp.status_code)
            return {"status": "unknown", "on": on.isoformat(), "reason": f"policy_api answered {resp.status_code}"}
        check = AcknowledgementCheck.model_validate(resp.json())
    except (UpstreamFailed, ValueError) as exc:
        log.warning("acknowledgement_check_unreachable", error=type(exc).__name__)
        return {"status": "unknown", "on": on.isoformat(), "reason": "policy_api unreachable"}
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


def active_accounts(peers: ServiceClient) -> list[AccountPublic]:
    """Every active account in policy_api's registry (paged). Raises ``UpstreamFailed`` (502) when
    policy_api cannot answer: a sync must not treat "no answer" as "no accounts"."""
    out: list[AccountPublic] = []
    offset = 0
    for _ in range(MAX_REGISTRY_PAGES):
        resp = peers.get(POLICY, "/v1/accounts", params={"status": "active", "limit": 100, "offset": offset},
                         authenticated=False)
        if resp.status_code != 200:
            raise UpstreamFailed(f"policy_api answered {resp.status_code} for the account registry.")
        page = resp.json()
        out.extend(AccountPublic.model_validate(a) for a in page["items"])
        if page.get("next_offset") is None:
            return out
        offset = int(page["next_offset"])
    raise UpstreamFailed("The account registry is larger than expected.")


def policy_elements(peers: ServiceClient) -> set[str] | None:
    """The element keys of policy_api's catalogue, or None when it cannot be read (all items apply)."""
    try:
        resp = peers.get(POLICY, "/v1/elements", authenticated=False, retries=0)
        if resp.status_code != 200:
            return None
        return {str(e["key"]) for e in resp.json()}
    except (UpstreamFailed, ValueError, KeyError, TypeError):
        return None


def reporter_contact(peers: ServiceClient, *, report_id: str) -> str | None:
    """The reporter's email from feedback_api, or None when they gave none (or erased it)."""
    resp = peers.get(FEEDBACK, f"/v1/internal/reports/{report_id}/contact")
    if resp.status_code == 404:
        return None
    if resp.status_code != 200:
        raise UpstreamFailed(f"feedback_api answered {resp.status_code} for the contact.")
    return str(resp.json()["email"])


MAX_EVIDENCE_BYTES = 25 * 1024 * 1024


def evidence_file(peers: ServiceClient, *, evidence_id: str) -> tuple[bytes, str] | None:
    """An evidence file as feedback_api stored it (metadata stripped), or None if unknown there."""
    resp = peers.get(FEEDBACK, f"/v1/internal/evidence/{evidence_id}")
    if resp.status_code == 404:
        return None
    if resp.status_code != 200 or len(resp.content) > MAX_EVIDENCE_BYTES:
        raise UpstreamFailed(f"feedback_api answered {resp.status_code} for the evidence file.")
    return resp.content, resp.headers.get("content-type", "application/octet-stream")


# --- the policy in force, quoted by the draft check (issue 18) ------------------------------

POLICY_QUOTES_TTL = 60.0  # seconds: a published change shows within a minute
_quotes_cache: dict[int, tuple[float, drafts.PolicyQuotes]] = {}


def policy_quotes(peers: ServiceClient, *, timeout: float = 1.0, now: float | None = None) -> drafts.PolicyQuotes:
    """The sections of the social media policy in force, by element key, as
    ``drafts.PolicyQuotes(source="policy_api")``; ``drafts.BUILT_IN`` when policy_api does not answer
    within ``timeout`` (one attempt). Cached per client for ``POLICY_QUOTES_TTL`` seconds, failures
    for 5 s, so a burst of checks makes one peer call."""
    clock = time.monotonic() if now is None else now
    hit = _quotes_cache.get(id(peers))
    if hit is not None and hit[0] > clock:
        return hit[1]
    quotes = drafts.BUILT_IN
    ttl = 5.0
    try:
        resp = peers.get(POLICY, "/v1/policies", params={"kind": "social_media_policy", "limit": 20},
                         authenticated=False, timeout=timeout, retries=0)
        if resp.status_code == 200:
            current = next((p for p in resp.json().get("items", [])
                            if p.get("current_version") and p.get("status", "in_force") == "in_force"), None)
            if current is not None:
                version = current["current_version"]
                detail = peers.get(POLICY, f"/v1/policies/{current['id']}/versions/{version['id']}",
                                   authenticated=False, timeout=timeout, retries=0)
                if detail.status_code == 200:
                    sections: dict[str, tuple[str, str]] = {}
                    for sec in detail.json().get("sections", []):
                        for element in sec.get("elements", []):
                            sections.setdefault(str(element), (
                                f"{current.get('identifier') or current.get('title')} "
                                f"{version.get('label', '')}, \u201c{sec.get('heading', '')}\u201d".strip(),
                                str(sec.get("body_markdown", ""))))
                    if sections:
                        quotes = drafts.PolicyQuotes(source="policy_api", sections=sections,
                                                     version=f"{current.get('identifier', '')} "
                                                             f"{version.get('label', '')}".strip())
                        ttl = POLICY_QUOTES_TTL
    except (UpstreamFailed, ValueError, KeyError, TypeError) as exc:
        log.warning("policy_quotes_unreachable", error=type(exc).__name__)
    _quotes_cache[id(peers)] = (clock + ttl, quotes)
    return quotes
