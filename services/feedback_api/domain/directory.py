"""What feedback_api reads from policy_api: the official account registry and the published
policies. Proxied for the widget (so it talks only to its own origin) with a short in-process
cache, and used to check the ids a reporter sends.

When policy_api is down a report is never refused for it: the reference is accepted as given and
the submission is marked ``reference_check = "unverified"`` (staff see it; case_api can re-check).
An id policy_api positively does not know (404) is refused with 422. Stale cache entries are
served while policy_api is down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
import structlog

from shared.errors import Unavailable, UpstreamFailed
from shared.http import ServiceClient

log = structlog.get_logger("feedback_api.directory")

MAX_PAGES = 20
PAGE_SIZE = 100


class Check(StrEnum):
    verified = "verified"
    unknown = "unknown"  # policy_api answered: no such thing
    unverified = "unverified"  # policy_api could not be asked


@dataclass(frozen=True)
class AccountCheck:
    result: Check
    department: str | None = None


class PolicyDirectory:
    """policy_api through the app's ``ServiceClient`` (peer ``policy_api``), with a TTL cache.
    Every call has its own short timeout (``timeout_seconds``) and one retry: a report is never
    held up long by policy_api."""

    def __init__(self, peers: ServiceClient, *, ttl_seconds: float = 60.0, timeout_seconds: float = 2.0) -> None:
        self._peers = peers
        self._ttl = ttl_seconds
        self._timeout = timeout_seconds
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Any]] = {}

    def _get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        return self._peers.get("policy_api", path, params=params, authenticated=False, timeout=self._timeout,
                               retries=1)

    # -- cache --------------------------------------------------------------------------------
    def _cached(self, key: str, load: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        try:
            value = load()
        except (UpstreamFailed, _BadAnswer) as exc:
            if hit is not None:
                log.warning("policy_api_stale_cache", key=key.split(":")[0])
                return hit[1]
            raise Unavailable(
                "The list of policies and accounts is temporarily unavailable.", headers={"Retry-After": "30"}
            ) from exc
        with self._lock:
            self._cache[key] = (time.monotonic(), value)
        return value

    def _pages(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        offset = 0
        for _ in range(MAX_PAGES):
            resp = self._get(path, {**params, "limit": PAGE_SIZE, "offset": offset})
            if resp.status_code != 200:
                raise _BadAnswer(resp.status_code)
            body = resp.json()
            page = body.get("items", []) if isinstance(body, dict) else body
            items.extend(i for i in page if isinstance(i, dict))
            nxt = body.get("next_offset") if isinstance(body, dict) else None
            if nxt is None:
                break
            offset = int(nxt)
        return items

    # -- reads for the widget -----------------------------------------------------------------
    def active_accounts(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._cached(
            "accounts", lambda: self._pages("/v1/accounts", {"status": "active"})
        )
        return result

    def published_policies(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._cached("policies", self._load_policies)
        return result

    def _load_policies(self) -> list[dict[str, Any]]:
        out = []
        for policy in self._pages("/v1/policies", {}):
            current = policy.get("current_version") or {}
            version_id = current.get("id") if isinstance(current, dict) else None
            sections: list[dict[str, Any]] = []
            if version_id:
                resp = self._get(f"/v1/policies/{policy.get('id')}/versions/{version_id}")
                if resp.status_code == 200:
                    sections = [
                        {"id": str(s.get("id")), "heading": str(s.get("heading") or "")}
                        for s in (resp.json().get("sections") or []) if isinstance(s, dict)
                    ]
            label = (current.get("label") or current.get("version_label")) if isinstance(current, dict) else None
            out.append({
                "id": str(policy.get("id")),
                "title": str(policy.get("title") or ""),
                "kind": policy.get("kind"),
                "current_version": {"id": version_id, "label": label} if version_id else None,
                "sections": sections,
            })
        return out

    # -- checks for submissions ------------------------------------------------------------------
    def check_account(self, account_id: str) -> AccountCheck:
        with self._lock:
            hit = self._cache.get("accounts")
        if hit is not None:
            for account in hit[1]:
                if account.get("id") == account_id:
                    return AccountCheck(Check.verified, account.get("department"))
        try:
            resp = self._get(f"/v1/accounts/{account_id}")
        except UpstreamFailed:
            return AccountCheck(Check.unverified)
        if resp.status_code == 200:
            return AccountCheck(Check.verified, resp.json().get("department"))
        if resp.status_code == 404:
            return AccountCheck(Check.unknown)
        return AccountCheck(Check.unverified)

    def check_policy_version(self, policy_id: str, version_id: str, section_id: str | None) -> Check:
        try:
            resp = self._get(f"/v1/policies/{policy_id}/versions/{version_id}")
        except UpstreamFailed:
            return Check.unverified
        if resp.status_code == 404:
            return Check.unknown
        if resp.status_code != 200:
            return Check.unverified
        if section_id is not None:
            sections = resp.json().get("sections") or []
            if not any(isinstance(s, dict) and str(s.get("id")) == section_id for s in sections):
                return Check.unknown
        return Check.verified


class _BadAnswer(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"policy_api answered {status}")
