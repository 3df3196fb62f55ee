"""shared.http: one retry classification for every relay and client, and a service token
refreshed once when a peer answers 401."""

from __future__ import annotations

import httpx
import pytest

from shared.http import Outcome, ServiceClient, classify, describe


@pytest.mark.parametrize(("status", "outcome"), [
    (200, Outcome.DELIVERED), (201, Outcome.DELIVERED), (204, Outcome.DELIVERED),
    (404, Outcome.RETRY), (408, Outcome.RETRY), (409, Outcome.RETRY), (425, Outcome.RETRY), (429, Outcome.RETRY),
    (500, Outcome.RETRY), (502, Outcome.RETRY), (503, Outcome.RETRY),
    (400, Outcome.DEAD), (401, Outcome.DEAD), (403, Outcome.DEAD), (413, Outcome.DEAD), (422, Outcome.DEAD),
])
def test_classify(status, outcome):
    assert classify(httpx.Response(status)) is outcome


def test_no_answer_is_retried():
    assert classify(None) is Outcome.RETRY


def test_describe_is_short_and_never_a_body_dump():
    r = httpx.Response(422, json={"title": "Invalid", "detail": "x" * 1000, "secret": "s3cr3t"})
    text = describe(r)
    assert text.startswith("HTTP 422: ") and len(text) < 220 and "s3cr3t" not in text


class _Tokens:
    def __init__(self) -> None:
        self.issued = 0
        self.invalidated: list[str] = []

    def token(self) -> str:
        self.issued += 1 if not self.invalidated or self.issued == len(self.invalidated) else 0
        return f"t{self.issued}"

    def invalidate(self, token: str) -> None:
        self.invalidated.append(token)


def test_a_401_refreshes_the_token_once_then_succeeds():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(401 if len(seen) == 1 else 200)

    tokens = _Tokens()
    client = ServiceClient({"peer": "http://peer"}, tokens=tokens,  # type: ignore[arg-type]
                           transport=httpx.MockTransport(handler), retries=0)
    assert client.post("peer", "/x").status_code == 200
    assert seen == ["Bearer t1", "Bearer t2"] and tokens.invalidated == ["t1"]


def test_a_second_401_is_returned_not_looped():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(401)

    client = ServiceClient({"peer": "http://peer"}, tokens=_Tokens(),  # type: ignore[arg-type]
                           transport=httpx.MockTransport(handler), retries=3)
    assert client.get("peer", "/x").status_code == 401
    assert len(calls) == 2


def test_request_id_and_idempotency_key_are_sent():
    got = {}

    def handler(request: httpx.Request) -> httpx.Response:
        got.update(request.headers)
        return httpx.Response(200)

    client = ServiceClient({"peer": "http://peer"}, transport=httpx.MockTransport(handler))
    client.post("peer", "/x", idempotency_key="k-1", request_id="req-9", authenticated=False)
    assert got["idempotency-key"] == "k-1" and got["x-request-id"] == "req-9"
