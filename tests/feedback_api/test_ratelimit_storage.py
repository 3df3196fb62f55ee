"""Rate-limit storage: Redis when configured (keys are keyed hashes with a TTL), and the in-memory
fallback, logged once, when Redis is unreachable."""

from __future__ import annotations

import uuid

import pytest
import redis
from starlette.requests import Request

from shared.errors import TooManyRequests
from shared.ratelimit import RateLimiter, Rule
from tests.support.live import free_port

REDIS_URL = "redis://127.0.0.1:6379/15"
SECRET = b"s" * 32


def _request(peer: str = "127.0.0.1", xff: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", xff.encode())] if xff else []
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "client": (peer, 5000),
                    "query_string": b""})


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield client
    client.close()


def test_redis_storage_limits_across_limiters_and_stores_only_hashed_keys(redis_client):
    prefix = f"cs-test-{uuid.uuid4().hex[:8]}"
    rules = [Rule.parse("submit", "2/minute")]
    a = RateLimiter(secret=SECRET, rules=rules, storage_uri=REDIS_URL, trusted_proxies=["127.0.0.1"],
                    key_prefix=prefix)
    b = RateLimiter(secret=SECRET, rules=rules, storage_uri=REDIS_URL, trusted_proxies=["127.0.0.1"],
                    key_prefix=prefix)
    assert a.backend == "redis"
    a.hit("submit", _request(xff="198.51.100.23"))
    b.hit("submit", _request(xff="198.51.100.23"))  # another instance, same client: shared count
    with pytest.raises(TooManyRequests) as refused:
        a.hit("submit", _request(xff="198.51.100.23"))
    assert int(refused.value.headers["Retry-After"]) >= 1
    a.hit("submit", _request(xff="198.51.100.24"))  # another client is not affected
    keys = [k.decode() for k in redis_client.scan_iter(f"*{prefix}*")]
    assert keys and all("198.51.100" not in k for k in keys)
    assert all(0 < redis_client.ttl(k) <= 60 for k in keys)
    for k in keys:
        redis_client.delete(k)


def test_unreachable_redis_falls_back_to_memory():
    dead = f"redis://127.0.0.1:{free_port()}/0"
    limiter = RateLimiter(secret=SECRET, rules=[Rule.parse("submit", "2/minute")], storage_uri=dead)
    limiter.hit("submit", _request())
    limiter.hit("submit", _request())
    assert limiter.backend == "memory-fallback"
    with pytest.raises(TooManyRequests):  # still limited, in memory
        limiter.hit("submit", _request())
    # the log line is checked on a real process's stdout in test_privacy.py


def test_secret_must_be_long_enough():
    with pytest.raises(ValueError):
        RateLimiter(secret=b"short", rules=[])
