"""Rate limits for public endpoints, keyed on a keyed hash of the client address.

Built on ``limits``, the engine under slowapi (same storages, strategies and notation such as
``"5/minute;30/hour"``). slowapi's decorators bind one module-level limiter at import time;
our apps are built by factories from settings (and tests build many), so each app gets its
own ``RateLimiter`` in ``app.state.ratelimiter`` and routes declare limits as dependencies:

    @router.post("/v1/reports", dependencies=[Depends(rate_limit("submit"))])

Privacy: the client address is never stored or logged. The limiter only ever sees
``HMAC-SHA256(secret, address)`` (IPv6 addresses reduced to their /64 first), and the
storage (in-process memory, or Redis when ``redis_url`` is set) keeps those keys only for
the length of the window. ``X-Forwarded-For`` is believed only when the peer is one of
``trusted_proxies``.

When Redis is unreachable the limiter falls back to in-process memory (limits then apply per
process), logs ``ratelimit_fallback`` once, and tries Redis again every ``recheck_seconds``.
A refused request raises ``TooManyRequests`` (429 problem+json with ``Retry-After``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import structlog
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from limits.strategies import RateLimiter as LimitsStrategy
from starlette.requests import Request

from shared.errors import TooManyRequests

log = structlog.get_logger("shared.ratelimit")

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Rule:
    """A named set of limits: ``per_client`` counts per hashed client, ``overall`` across everyone."""

    name: str
    per_client: tuple[RateLimitItem, ...] = ()
    overall: tuple[RateLimitItem, ...] = ()

    @classmethod
    def parse(cls, name: str, per_client: str | None = None, overall: str | None = None) -> Rule:
        return cls(
            name=name,
            per_client=tuple(parse_many(per_client)) if per_client else (),
            overall=tuple(parse_many(overall)) if overall else (),
        )


def parse_networks(values: Iterable[str]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[IpNetwork]) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy, in which case the
    right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy. IPv6 addresses are
    reduced to their /64 (one subscriber usually holds a whole /64)."""
    addr = _ip(peer or "")
    if addr is not None and forwarded_for and any(addr in net for net in trusted):
        for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
            candidate = _ip(hop)
            if candidate is None:
                break  # garbage in the chain: stop believing it, keep the last good hop
            addr = candidate
            if not any(candidate in net for net in trusted):
                break
    if addr is None:
        return "unknown"
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


class RateLimiter:
    def __init__(
        self,
        *,
        secret: bytes,
        rules: Iterable[Rule],
        storage_uri: str | None = None,
        trusted_proxies: Iterable[str] = (),
        key_prefix: str = "civicsocial",
        recheck_seconds: float = 30.0,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the rate-limit key secret must be at least 16 bytes")
        self._secret = secret
        self.rules = {r.name: r for r in rules}
        self.trusted = parse_networks(trusted_proxies)
        self.key_prefix = key_prefix
        self.recheck_seconds = recheck_seconds
        self.storage_uri = storage_uri
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._primary: LimitsStrategy | None = None
        if storage_uri and not storage_uri.startswith("memory://"):
            storage = storage_from_string(storage_uri, socket_connect_timeout=0.5, socket_timeout=0.5)
            if not isinstance(storage, Storage):
                raise ValueError("redis_url must name a synchronous storage, e.g. redis://host:6379/0")
            self._primary = MovingWindowRateLimiter(storage)
        self._lock = threading.Lock()
        self._fallback_since: float | None = None
        self._fallback_logged = False
        self.refusals: dict[str, int] = {}  # per rule, for /metrics

    @property
    def backend(self) -> str:
        if self._primary is None:
            return "memory"
        return "memory-fallback" if self._fallback_since is not None else "redis"

    # -- keys ---------------------------------------------------------------------------------
    def client_key(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        address = client_address(peer, request.headers.get("x-forwarded-for"), self.trusted)
        return hmac.new(self._secret, address.encode(), hashlib.sha256).hexdigest()[:32]

    # -- storage with fallback -------------------------------------------------------------------
    def _strategy(self) -> LimitsStrategy:
        with self._lock:
            if self._primary is None:
                return self._memory
            if self._fallback_since is None:
                return self._primary
            if time.monotonic() - self._fallback_since < self.recheck_seconds:
                return self._memory
            self._fallback_since = time.monotonic()
        try:
            healthy = self._primary.storage.check()
        except Exception:  # noqa: BLE001 - any failure means still down
            healthy = False
        if not healthy:
            return self._memory
        with self._lock:
            self._fallback_since = None
            self._fallback_logged = False
        log.info("ratelimit_recovered", backend="redis")
        return self._primary

    def _fall_back(self, exc: Exception) -> LimitsStrategy:
        with self._lock:
            self._fallback_since = time.monotonic()
            first = not self._fallback_logged
            self._fallback_logged = True
        if first:
            log.warning("ratelimit_fallback", backend="memory", error=type(exc).__name__)
        return self._memory

    def _run(self, op: Callable[[LimitsStrategy], bool]) -> tuple[bool, LimitsStrategy]:
        strategy = self._strategy()
        try:
            return op(strategy), strategy
        except Exception as exc:
            if strategy is self._memory:
                raise
            strategy = self._fall_back(exc)
            return op(strategy), strategy

    # -- checks ------------------------------------------------------------------------------------
    def _items(self, rule: Rule, client: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        items: list[tuple[RateLimitItem, tuple[str, ...]]] = [
            (item, (self.key_prefix, rule.name, client)) for item in rule.per_client
        ]
        items += [(item, (self.key_prefix, rule.name, "all")) for item in rule.overall]
        return items

    def _refuse(self, strategy: LimitsStrategy, item: RateLimitItem, ids: tuple[str, ...], rule: Rule) -> None:
        with self._lock:
            self.refusals[rule.name] = self.refusals.get(rule.name, 0) + 1
        try:
            reset = strategy.get_window_stats(item, *ids).reset_time
            retry_after = max(1, math.ceil(reset - time.time()))
        except Exception:  # noqa: BLE001
            retry_after = item.get_expiry()
        raise TooManyRequests(
            f"Too many requests. Please wait {retry_after} seconds and try again.",
            headers={"Retry-After": str(retry_after)},
            limit=str(item),
        )

    def hit(self, rule_name: str, request: Request) -> None:
        """Count one request against every limit of the rule; refuse (429) when one is exhausted."""
        rule = self.rules[rule_name]
        client = self.client_key(request)
        for item, ids in self._items(rule, client):
            ok, strategy = self._run(lambda s, item=item, ids=ids: s.hit(item, *ids))  # type: ignore[misc]
            if not ok:
                log.info("rate_limited", rule=rule.name, limit=str(item))
                self._refuse(strategy, item, ids, rule)

    def check(self, rule_name: str, request: Request) -> None:
        """Refuse (429) if any limit of the rule is already exhausted, without counting."""
        rule = self.rules[rule_name]
        client = self.client_key(request)
        for item, ids in self._items(rule, client):
            ok, strategy = self._run(lambda s, item=item, ids=ids: s.test(item, *ids))  # type: ignore[misc]
            if not ok:
                log.info("rate_limited", rule=rule.name, limit=str(item))
                self._refuse(strategy, item, ids, rule)


def limiter_of(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.ratelimiter
    return limiter


def rate_limit(rule_name: str) -> Callable[[Request], None]:
    """A route dependency counting the request against ``rule_name`` of the app's limiter."""

    def dependency(request: Request) -> None:
        limiter_of(request).hit(rule_name, request)

    dependency.__name__ = f"rate_limit_{rule_name}"
    return dependency
