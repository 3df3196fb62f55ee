"""Concurrent first reports of the same post count as one incident; production refuses to start
without its secrets."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from services.feedback_api.domain.models import Incident, OutboxMessage
from services.feedback_api.settings import FeedbackSettings
from tests.feedback_api.conftest import report_body


def test_concurrent_reports_of_one_new_post_make_one_incident(fb_app, live, databases):
    server = live(fb_app(outbox_enabled=False))
    link = "https://www.instagram.com/p/ConcurrentPost/?igsh=abc"

    def file(i: int) -> int:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            return c.post("/v1/reports", json=report_body(links=[link], description=f"report {i}")).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(file, range(16)))
    assert statuses == [201] * 16
    with Session(databases["feedback_api"].engine) as s:
        incidents = list(s.execute(select(Incident)).scalars())
        keys = {m.payload["incident_key"] for m in s.execute(select(OutboxMessage)).scalars()}
    assert [(i.normalised_url, i.report_count) for i in incidents] == [("https://instagram.com/p/ConcurrentPost", 16)]
    assert len(keys) == 1


CLIENT = {"token_url": "https://idp.example/token", "client_id": "feedback_api", "client_secret": "c"}


def test_production_needs_every_secret():
    base = {"mode": "production", "auth": {"jwks_url": "https://idp.example/jwks", **CLIENT}}
    with pytest.raises(ValidationError) as missing:
        FeedbackSettings(**base)
    for name in ("CONTACT_ENCRYPTION_KEY", "RATE_LIMIT_KEY_SECRET", "RECEIPT_PEPPER"):
        assert f"FEEDBACK_API_{name}" in str(missing.value)
    ok = FeedbackSettings(**base, contact_encryption_key="k", rate_limit_key_secret="s", receipt_pepper="p")
    assert ok.receipt_pepper is not None and "p" not in repr(ok.receipt_pepper)


def test_production_needs_client_credentials_because_the_relay_calls_case_api():
    secrets = {"contact_encryption_key": "k", "rate_limit_key_secret": "s", "receipt_pepper": "p"}
    with pytest.raises(ValidationError) as missing:
        FeedbackSettings(mode="production", auth={"jwks_url": "https://idp.example/jwks"}, **secrets)
    assert "auth.token_url" in str(missing.value) and "client_secret" in str(missing.value)
    for dropped in CLIENT:
        partial = {k: v for k, v in CLIENT.items() if k != dropped}
        with pytest.raises(ValidationError):
            FeedbackSettings(mode="production", auth={"jwks_url": "https://idp.example/jwks", **partial}, **secrets)
    discovered = FeedbackSettings(mode="production", auth={"discovery_url": "https://idp.example/.well-known/"
                                  "openid-configuration", "client_id": "feedback_api", "client_secret": "c"}, **secrets)
    assert discovered.auth.can_get_service_tokens
    assert FeedbackSettings(mode="dev").mode == "dev"  # dev mode signs its own service tokens
