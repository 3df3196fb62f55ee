"""Hostile input against the public and service endpoints: oversized bodies, NUL bytes, huge
numbers, deep nesting, Unicode edge cases, SSRF-shaped links, slow clients.

The rule everywhere: a 4xx problem+json (or a 2xx where the input is legitimately acceptable),
never a 5xx, never a hang, and nothing the server fetches on the reporter's behalf."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import httpx
import pytest

from tests.drills.support import report_json

pytestmark = [pytest.mark.timeout(120)]

NO_LIMITS = {
    "rate_submit_per_client": "1000000/minute", "rate_submit_overall": "1000000/minute",
    "rate_receipt_per_client": "1000000/minute", "rate_receipt_failures_per_client": "1000000/minute",
    "rate_receipt_failures_overall": "1000000/minute",
    "receipt_hash_memory_kib": 8, "receipt_hash_time_cost": 1,
}
JSON_POSTS = {  # one JSON POST per service with the default body limit
    "policy_api": "/v1/policies",
    "feedback_api": "/v1/receipts/status",
    "case_api": "/v1/intake/reports",
}
MB = 1024 * 1024


def problem(r: httpx.Response, *statuses: int) -> None:
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
        assert "Traceback" not in r.text


@pytest.fixture
def feedback(make_app, client, tmp_path):
    return client(make_app("feedback_api", secrets_dir=str(tmp_path), policy_api_url="http://127.0.0.1:9",
                           case_api_url="http://127.0.0.1:9", **NO_LIMITS))


# --- size ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", list(JSON_POSTS))
async def test_10mb_body_is_refused_with_413(service, make_app, client, token):
    c = client(make_app(service))
    path = JSON_POSTS[service]
    body = b'{"x": "' + b"a" * (10 * MB) + b'"}'
    hdr = {"Content-Type": "application/json", **token("admin", "service:feedback_api")}
    problem(await c.post(path, content=body, headers=hdr), 413)

    async def chunks():  # no Content-Length: the limit must hold on the streamed body too
        for _ in range(10):
            yield b"a" * MB

    problem(await c.post(path, content=chunks(), headers=hdr), 413)


async def test_report_upload_limit_holds(feedback):
    """/v1/reports takes multipart evidence, so its own limit is larger (max_files x max_file_bytes
    + 256 KiB); a 10 MB JSON body is refused by validation, and past the upload limit with 413."""
    big = {**report_json(1, "big"), "description": "a" * (10 * MB)}
    problem(await feedback.post("/v1/reports", json=big), 413, 422)
    huge = b'{"description": "' + b"a" * (40 * MB) + b'"}'
    problem(await feedback.post("/v1/reports", content=huge, headers={"Content-Type": "application/json"}), 413)


# --- odd values ---------------------------------------------------------------------------------


NUL_CASES = [
    {"description": "before\x00after"},
    {"account_text": "City\x00of Albuquerque"},
    {"links": ["https://www.facebook.com/cabq/posts/1\x00"]},
    {"contact_email": "a\x00@example.org"},
]


@pytest.mark.parametrize("patch", NUL_CASES, ids=["description", "account_text", "link", "email"])
async def test_nul_bytes_in_a_report(feedback, patch):
    # PostgreSQL text cannot hold NUL: found as a 500 on 2026-11-25, fixed in the kernel (422)
    problem(await feedback.post("/v1/reports", json={**report_json(1, "nul"), **patch}), 201, 422)


async def test_nul_bytes_in_query_and_path(make_app, client):
    c = client(make_app("policy_api"))
    problem(await c.get("/v1/policies", params={"kind": "social\x00media"}), 200, 422)
    problem(await c.get("/v1/accounts", params={"department": "\x00"}), 200, 422)
    problem(await c.get("/v1/policies/abc%00def"), 404, 422)


@pytest.mark.parametrize("value", [10**30, -(10**30), 2**63, -1, 1e308, "NaN", "Infinity", "1e99999"])
async def test_huge_and_odd_numbers_in_queries(make_app, client, value):
    c = client(make_app("policy_api"))
    problem(await c.get("/v1/policies", params={"limit": str(value)}), 200, 422)
    problem(await c.get("/v1/policies", params={"offset": str(value)}), 200, 422)


async def test_huge_numbers_in_bodies(feedback):
    for rating in (10**100, -(10**100), 2**63, 1.5, "5", None):
        body = {"policy_id": "p", "version_id": "v", "text": "x", "rating": rating}
        problem(await feedback.post("/v1/feedback", json=body), 201, 404, 422, 503)
    raw = b'{"policy_id": "p", "version_id": "v", "text": "x", "rating": 1' + b"0" * 5000 + b"}"
    # 4,300+ digit integers are refused by the JSON parser itself (CVE-2020-10735 limit): 400
    problem(await feedback.post("/v1/feedback", content=raw, headers={"Content-Type": "application/json"}),
            400, 404, 422, 503)


@pytest.mark.parametrize("depth", [100, 10_000, 100_000])
async def test_deeply_nested_json(feedback, depth):
    body = ("[" * depth + "]" * depth).encode()
    problem(await feedback.post("/v1/reports", content=body, headers={"Content-Type": "application/json"}), 422,
            400)
    nested = ('{"description": ' + '{"a":' * depth + "1" + "}" * depth + "}").encode()
    problem(await feedback.post("/v1/reports", content=nested, headers={"Content-Type": "application/json"}),
            422, 400)


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe\x00", b"null", b"[]", b'"x"', b"{}" * 1000, b"", b"\x00" * 64],
                         ids=["truncated", "bad-utf8", "null", "array", "string", "repeated", "empty", "nuls"])
async def test_malformed_json(feedback, body):
    problem(await feedback.post("/v1/reports", content=body, headers={"Content-Type": "application/json"}), 400,
            422)


UNICODE = [
    "\u202eevil\u202c right-to-left override",
    "zero\u200bwidth\u200djoiner\ufeff",
    "emoji \U0001f3dc\ufe0f\U0001f336\ufe0f\U0001f469\U0001f3fd\u200d\U0001f692",
    "astral \U0001d518\U0001d52b\U0001d526",
    "combining e\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301",
    "\ufffd replacement \uffff noncharacter",
    "lone surrogate \ud800 here",
    "null-ish \u0000 and bell \u0007 and esc \u001b[31m",
    "ŕ" * 5000,
]


@pytest.mark.parametrize("text", UNICODE, ids=range(len(UNICODE)))
async def test_unicode_edge_cases(feedback, text):
    # json.dumps escapes non-ASCII (\\ud800 stays a valid JSON escape even as a lone surrogate)
    body = json.dumps({**report_json(1, "uni"), "description": text[:5000]}).encode()
    r = await feedback.post("/v1/reports", content=body, headers={"Content-Type": "application/json"})
    problem(r, 201, 422)
    if r.status_code == 201:
        s = await feedback.post("/v1/receipts/status", json={"receipt": r.json()["receipt"]})
        problem(s, 200)


# --- SSRF -----------------------------------------------------------------------------------------


class Trap:
    """A loopback listener that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._t.join(2)
        self.sock.close()


async def test_ssrf_shaped_links_are_stored_never_fetched(feedback):
    trap = Trap()
    try:
        links = [
            f"http://127.0.0.1:{trap.port}/latest/meta-data/",
            f"http://localhost:{trap.port}/admin",
            f"http://[::ffff:127.0.0.1]:{trap.port}/",
            f"http://2130706433:{trap.port}/",  # 127.0.0.1 as a decimal
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "file:///etc/passwd",
            "gopher://127.0.0.1:6379/_FLUSHALL",
            f"https://www.facebook.com@127.0.0.1:{trap.port}/cabq/posts/1",
            "javascript:alert(1)",
        ]
        accepted = 0
        for i, link in enumerate(links):
            r = await feedback.post("/v1/reports", json={**report_json(i, "ssrf"), "links": [link]})
            problem(r, 201, 422)
            accepted += r.status_code == 201
            if r.status_code == 201:
                s = await feedback.post("/v1/receipts/status", json={"receipt": r.json()["receipt"]})
                problem(s, 200)
        await asyncio.sleep(1.0)
        assert trap.hits == 0, f"the service connected to a reporter-supplied URL {trap.hits} time(s)"
    finally:
        trap.close()


# --- slow clients ---------------------------------------------------------------------------------


def test_slow_clients_do_not_block_others(make_app, live, tmp_path):
    """Slowloris-style clients (headers or body dribbled byte by byte) hold a connection each;
    meanwhile ordinary requests are answered promptly."""
    server = live(make_app("feedback_api", secrets_dir=str(tmp_path), **NO_LIMITS))
    slow: list[socket.socket] = []
    try:
        for i in range(64):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            if i % 2:
                s.sendall(b"POST /v1/receipts/status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 100000\r\n\r\n{\"receipt\": \"")
            else:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(s)
        for _ in range(3):
            for s in slow:
                try:
                    s.sendall(b"1")
                except OSError:
                    pass
            t0 = time.monotonic()
            r = httpx.get(server.url + "/healthz", timeout=5)
            assert r.status_code == 200
            assert time.monotonic() - t0 < 1.0, "a normal request waited behind slow clients"
            time.sleep(0.2)
    finally:
        for s in slow:
            s.close()
