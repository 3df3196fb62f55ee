"""The reporter is never identified: after submissions carrying distinctive client addresses,
user agents and referers, none of them appears in any table of the database or in the service's
logs. The service runs as a real uvicorn process so its actual stdout is what we read."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import text

from services.feedback_api.domain.models import Base
from tests.feedback_api.conftest import feedback_subprocess, jpeg_with_gps, report_body
from tests.support.live import free_port

pytestmark = pytest.mark.slow

CLIENT_IP = "203.0.113.77"
CLIENT_IP6 = "2001:db8:4242:77::9"
USER_AGENT = "Mozilla/5.0 (zzqq-Distinctive-Agent 9.9)"
REFERER = "https://referer.example/zzqq-page"
EMAIL = "zzqq.reporter@example.org"
SECRETS = [CLIENT_IP, CLIENT_IP6, "2001:db8:4242", USER_AGENT, "zzqq-Distinctive", REFERER, "referer.example"]


def _dump_tables(engine) -> str:
    parts = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(text(f'SELECT * FROM "{table.name}"')).all()
            parts.append(f"{table.name}: {rows!r}")
    return "\n".join(parts)


@pytest.fixture
def feedback_process(databases, dev_key, tmp_path):
    with feedback_subprocess(databases, dev_key, tmp_path, {
        "FEEDBACK_API_TRUSTED_PROXIES": '["127.0.0.1"]',
        "FEEDBACK_API_OPEN311_API_KEYS": '["privacy-test-key"]',
        "FEEDBACK_API_RATE_RECEIPT_FAILURES_PER_CLIENT": "2/minute",
    }) as running:
        yield running


def test_no_ip_user_agent_or_referer_in_any_table_or_log(feedback_process, databases):
    url, log_path = feedback_process
    engine = databases["feedback_api"].engine
    receipts = []
    for xff in (CLIENT_IP, f"{CLIENT_IP6}, 127.0.0.1"):
        headers = {"X-Forwarded-For": xff, "User-Agent": USER_AGENT, "Referer": REFERER,
                   "X-Real-IP": CLIENT_IP, "Forwarded": f"for={CLIENT_IP}"}
        with httpx.Client(base_url=url, headers=headers, timeout=15) as c:
            r = c.post("/v1/reports", json=report_body(contact_email=EMAIL))
            assert r.status_code == 201
            receipts.append(r.json()["receipt"])
            r = c.post("/v1/reports", data={"report": json.dumps(report_body())},
                       files=[("evidence", ("p.jpg", jpeg_with_gps(), "image/jpeg"))])
            assert r.status_code == 201
            assert c.post("/v1/feedback", json={"policy_id": "p", "version_id": "v", "text": "ok"}).status_code == 201
            assert c.post("/v1/receipts/messages", json={"receipt": receipts[-1], "body": "more"}).status_code == 201
            assert c.post("/v1/receipts/status", json={"receipt": receipts[-1]}).status_code == 200
            for _ in range(3):  # wrong receipts: 404, 404, then 429 (logged as rate_limited)
                c.post("/v1/receipts/status", json={"receipt": "0000000000000000"})
            assert c.post("/v1/receipts/status", json={"receipt": "0000000000000000"}).status_code == 429
            r = c.post("/open311/v2/requests.json", data={
                "api_key": "privacy-test-key", "service_code": "csm-other", "attribute[platform]": "x",
                "attribute[post_url]": "https://x.com/cabq/status/7", "lat": "35.08431", "long": "-106.6",
                "device_id": "zzqq-device"})
            assert r.status_code == 200
            assert c.post("/v1/reports", json={"nonsense": CLIENT_IP}).status_code == 422
            assert c.get("/healthz").status_code == 200
    time.sleep(0.5)  # let the relay log a few failed deliveries to the stopped case_api
    dump = _dump_tables(engine)
    assert "submissions" in dump and len(dump) > 1000  # the dump really covers the data
    for secret in [*SECRETS, EMAIL, "zzqq-device", "35.08431", *receipts]:
        assert secret not in dump, f"{secret!r} is stored in the database"
    logs = log_path.read_text()
    assert '"event": "request"' in logs and "outbox_retry" in logs and "rate_limited" in logs  # logs were written
    for secret in [*SECRETS, EMAIL, *receipts]:
        assert secret not in logs, f"{secret!r} is written to the log"
    # timing privacy (issue 14 item 6): residents' writes leave no access line dated to the second
    access = [json.loads(line) for line in logs.splitlines() if '"event": "request"' in line]
    assert any(a["method"] == "GET" for a in access)
    assert not [a for a in access if a["method"] == "POST"], "a resident's POST is in the access log"


def test_unreachable_redis_falls_back_to_memory_limits_and_says_so_once(databases, dev_key, tmp_path):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    env = {"FEEDBACK_API_REDIS_URL": dead_redis, "FEEDBACK_API_RATE_SUBMIT_PER_CLIENT": "3/minute"}
    with feedback_subprocess(databases, dev_key, tmp_path, env) as (url, log_path), \
            httpx.Client(base_url=url, timeout=15) as c:
        statuses = [c.post("/v1/reports", json=report_body()).status_code for _ in range(4)]
        # limits still apply, from memory: past its own budget the client is asked for a proof of work
        assert statuses == [201, 201, 201, 428]
        assert c.get("/v1/ops/outbox", headers={}).status_code == 401
    logs = log_path.read_text()
    assert logs.count("ratelimit_fallback") == 1
