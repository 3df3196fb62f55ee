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
from dataclasses import dataclass, field
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


@dataclass(eq=False)
class Listing:
    """One list as last read from policy_api (``items``), and what was derived from it once.

    The widget's GETs answer from a listing without a thread hop or a validation per request: the
    router encodes the listing to JSON once (``encoded``) and every later request sends those bytes.
    A listing is replaced, never changed, so what was derived from it stays true."""

    items: list[dict[str, Any]]
    loaded_at: float
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def encoded(self, name: str, encode: Callable[[list[dict[str, Any]]], Any]) -> Any:
        """``encode(items)``, computed on first use and kept with this listing (two threads racing
        compute the same value; either is kept)."""
        try:
            return self._derived[name]
        except KeyError:
            value = self._derived[name] = encode(self.items)
            return value


class PolicyDirectory:
    """policy_api through the app's ``ServiceClient`` (peer ``policy_api``), with a TTL cache.
    Every call has its own short timeout (``timeout_seconds``) and one retry: a report is never
    held up long by policy_api.

    The cache is stale-while-revalidate with one loader per list. A listing younger than
    ``ttl_seconds`` is served as is. Up to ``revalidate_seconds`` past that it is still served, and
    one background thread reloads it (a failed reload is not retried for ``retry_seconds``), so once
    warm no request waits on policy_api and a busy widget does not send it a request per visitor
    when the TTL runs out. Older than that, or never loaded, the caller loads it, and concurrent
    callers wait for that one load instead of each asking policy_api. ``ttl_seconds=0`` turns the
    cache off (every call loads; tests and development). Written here rather than taken from a
    library because the TTL caches we looked at (cachetools' ``TTLCache``, ``functools``) have
    neither a stale-while-revalidate window nor one loader per key, which is the whole point."""

    def __init__(self, peers: ServiceClient, *, ttl_seconds: float = 60.0, timeout_seconds: float = 2.0,
                 revalidate_seconds: float | None = None, retry_seconds: float = 5.0) -> None:
        self._peers = peers
        self._ttl = ttl_seconds
        self._revalidate = 10 * ttl_seconds if revalidate_seconds is None else revalidate_seconds
        self._retry = retry_seconds
        self._timeout = timeout_seconds
        self._lock = threading.Lock()  # guards the four containers below
        self._cache: dict[str, Listing] = {}
        self._refreshing: set[str] = set()
        self._failed_at: dict[str, float] = {}
        self._loading: dict[str, threading.Lock] = {}  # one loader per list

    def _get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        return self._peers.get("policy_api", path, params=params, authenticated=False, timeout=self._timeout,
                               retries=1)

    # -- cache --------------------------------------------------------------------------------
    def _loaders(self) -> dict[str, Callable[[], list[dict[str, Any]]]]:
        return {"accounts": lambda: self._pages("/v1/accounts", {"status": "active"}),
                "policies": self._load_policies}

    def peek(self, key: str) -> Listing | None:
        """The listing if it can be served without waiting (fresh, or stale and being reloaded in
        the background); ``None`` when the caller has to ``listing(key)`` (in a thread)."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is None or self._ttl == 0:
                return None
            age = now - hit.loaded_at
            if age < self._ttl:
                return hit
            retry_due = now - self._failed_at.get(key, -1e9) >= self._retry
            if age >= self._ttl + self._revalidate:  # too old to serve unasked, unless policy_api just failed
                return None if retry_due else hit
            start = key not in self._refreshing and retry_due
            if start:
                self._refreshing.add(key)
        if start:
            threading.Thread(target=self._refresh, args=(key,), name=f"directory-{key}", daemon=True).start()
        return hit

    def listing(self, key: str) -> Listing:
        """The listing, loading it now if it cannot be served as is (blocking: call it from a
        thread). While policy_api cannot answer, the last listing is served however old."""
        hit = self.peek(key)
        if hit is not None:
            return hit
        with self._lock:
            gate = self._loading.setdefault(key, threading.Lock())
            before = self._cache.get(key)
        with gate:  # one load at a time; whoever waited takes what it loaded (or its failure)
            with self._lock:
                current = self._cache.get(key)
                just_failed = time.monotonic() - self._failed_at.get(key, -1e9) < self._retry
            if current is not None and self._ttl and (current is not before or just_failed):
                return current
            return self._load(key, stale=current)

    def _load(self, key: str, *, stale: Listing | None) -> Listing:
        try:
            items = self._loaders()[key]()
        except (UpstreamFailed, _BadAnswer) as exc:
            with self._lock:
                self._failed_at[key] = time.monotonic()
            if stale is not None:
                log.warning("policy_api_stale_cache", key=key)
                return stale
            raise Unavailable(
                "The list of policies and accounts is temporarily unavailable.", headers={"Retry-After": "30"}
            ) from exc
        fresh = Listing(items, time.monotonic())
        with self._lock:
            self._cache[key] = fresh
            self._failed_at.pop(key, None)
        return fresh

    def _refresh(self, key: str) -> None:
        try:
            with self._lock:
                stale = self._cache.get(key)
            self._load(key, stale=stale)
        except Exception:  # never let a reload thread die loudly; the next request tries again
            log.exception("policy_api_refresh_failed", key=key)
        finally:
            with self._lock:
                self._refreshing.discard(key)

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
        return self.listing("accounts").items

    def published_policies(self) -> list[dict[str, Any]]:
        return self.listing("policies").items

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
            for account in hit.items:
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
