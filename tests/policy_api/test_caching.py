"""shared/caching.py: ETags, If-None-Match, Cache-Control (the kernel helper policy_api introduced)."""

from __future__ import annotations

from starlette.requests import Request

from shared.caching import cache_control, cached_json, etag_for, if_none_match


def _request(headers: dict[str, str] | None = None, method: str = "GET") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": method, "path": "/", "headers": raw, "query_string": b""})


def test_etag_is_strong_and_stable():
    assert etag_for(b"a") == etag_for(b"a") != etag_for(b"b")
    assert etag_for(b"a").startswith('"') and etag_for(b"a").endswith('"')


def test_if_none_match_forms():
    tag = etag_for(b"x")
    assert if_none_match(tag, tag)
    assert if_none_match(f"W/{tag}", tag)
    assert if_none_match(f'"nope", {tag}', tag)
    assert if_none_match("*", tag)
    assert not if_none_match('"nope"', tag)
    assert not if_none_match(None, tag)


def test_cache_control():
    assert cache_control(max_age=60) == "public, max-age=60, stale-while-revalidate=300"
    assert cache_control(private=True) == "private, no-cache"
    assert cache_control(max_age=10, stale_while_revalidate=0) == "public, max-age=10"


def test_cached_json_200_then_304_and_private_for_credentials():
    first = cached_json(_request(), {"a": 1})
    assert first.status_code == 200 and first.body == b'{"a":1}'
    assert first.headers["cache-control"].startswith("public")
    again = cached_json(_request({"If-None-Match": first.headers["etag"]}), {"a": 1})
    assert again.status_code == 304 and again.body == b"" and again.headers["etag"] == first.headers["etag"]
    changed = cached_json(_request({"If-None-Match": first.headers["etag"]}), {"a": 2})
    assert changed.status_code == 200
    staff = cached_json(_request({"Authorization": "Bearer x"}), {"a": 1})
    assert staff.headers["cache-control"] == "private, no-cache" and staff.headers["vary"] == "Authorization"
