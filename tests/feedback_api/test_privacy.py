"""The reporter is never identified: after submissions carrying distinctive client addresses,
user agents and referers, none of them appears in any table of the database or in the service's
logs. The service runs as a real uvicorn process so its actual stdout is what we read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from services.feedback_api.domain.models import Base
from tests.feedback_api.conftest import jpeg_with_gps, report_body
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
    port = free_port()
    log_path = tmp_path / "feedback_api.log"
    env = dict(os.environ)
    env.update({
        "FEEDBACK_API_MODE": "dev",
        "FEEDBACK_API_DATABASE_URL": databases["feedback_api"].url,
        "FEEDBACK_API_AUTO_MIGRATE": "false",
        "FEEDBACK_API_AUTH__DEV_KEY_FILE": str(dev_key),
        "FEEDBACK_API_SECRETS_DIR": str(tmp_path / "secrets"),
        "FEEDBACK_API_LOG_LEVEL": "DEBUG",
        "FEEDBACK_API_LOG_JSON": "true",
        "FEEDBACK_API_TRUSTED_PROXIES": '["127.0.0.1"]',
        "FEEDBACK_API_OPEN311_API_KEYS": '["privacy-test-key"]',
        "FEEDBACK_API_CASE_API_URL": f"http://127.0.0.1:{free_port()}",  # down: relay retries get logged too
        "FEEDBACK_API_POLICY_API_URL": f"http://127.0.0.1:{free_port()}",
        "FEEDBACK_API_OUTBOX_BASE_BACKOFF_SECONDS": "0.05",
        "FEEDBACK_API_OUTBOX_MAX_BACKOFF_SECONDS": "0.2",
        "FEEDBACK_API_RATE_RECEIPT_FAILURES_PER_CLIENT": "2/minute",
    })
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "services.feedback_api.asgi:app", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log", "--log-level", "debug"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2],
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("feedback_api did not start: " + log_path.read_text()[-2000:])
            yield url, log_path
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


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
                "attribute[post_url]": "https://x.com/cabq/status/7", "lat": "35.1", "long": "-106.6",
                "device_id": "zzqq-device"})
            assert r.status_code == 200
            assert c.post("/v1/reports", json={"nonsense": CLIENT_IP}).status_code == 422
    time.sleep(0.5)  # let the relay log a few failed deliveries to the stopped case_api
    dump = _dump_tables(engine)
    assert "submissions" in dump and len(dump) > 1000  # the dump really covers the data
    for secret in [*SECRETS, EMAIL, "zzqq-device", "35.1", *receipts]:
        assert secret not in dump, f"{secret!r} is stored in the database"
    logs = log_path.read_text()
    assert '"event": "request"' in logs and "outbox_retry" in logs and "rate_limited" in logs  # logs were written
    for secret in [*SECRETS, EMAIL, *receipts]:
        assert secret not in logs, f"{secret!r} is written to the log"
