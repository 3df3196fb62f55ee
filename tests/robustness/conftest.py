from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from shared.auth import Role

# The fuzzed apps do the real work, minus what would only make the run slow or refuse on volume:
# per-client rate limits raised (every request comes from one address), a cheap receipt hash.
FUZZ_OVERRIDES: dict[str, Any] = {
    "rate_submit_per_client": "1000000/minute",
    "rate_submit_overall": "1000000/minute",
    "rate_receipt_per_client": "1000000/minute",
    "rate_receipt_failures_per_client": "1000000/minute",
    "rate_receipt_failures_overall": "1000000/minute",
    "rate_open311_per_client": "1000000/minute",
    "rate_open311_overall": "1000000/minute",
    "receipt_hash_memory_kib": 8,
    "receipt_hash_time_cost": 1,
    "directory_timeout_seconds": 0.2,
    "http_timeout_seconds": 0.5,
    "http_retries": 0,
    "acknowledgement_timeout_seconds": 0.2,
}

ALL_ROLES = [r.value for r in Role]


@pytest.fixture
def fuzz_app(make_app: Callable[..., FastAPI], tmp_path) -> Callable[[str], FastAPI]:
    def factory(service: str) -> FastAPI:
        # Peer services point at a closed port: their calls fail fast and must degrade, not 500.
        dead = "http://127.0.0.1:9"
        return make_app(service, secrets_dir=str(tmp_path), policy_api_url=dead, feedback_api_url=dead,
                        case_api_url=dead, **FUZZ_OVERRIDES)

    return factory


@pytest.fixture
def staff_headers(token: Callable[..., dict[str, str]]) -> dict[str, str]:
    """One principal holding every role, so authorised code paths are fuzzed too."""
    return token(*ALL_ROLES, department="Police", subject="fuzz-staff")
